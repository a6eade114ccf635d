"""Helpers shared by the vendor and catalogue tests: real files, snapshots, multipart calls."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Model
from PIL import Image

from agora.catalog.models import Listing, ListingImage, PriceRule, ProductVariant
from agora.core.models import AuditLog
from agora.vendors.models import Vendor, VendorInvitation, VendorMembership, VerificationDocument
from tests.conftest import ApiClient, token_for

# A small but complete PDF 1.4 document (header, catalog, pages, xref, trailer).
PDF_BYTES = (
    b"%PDF-1.4\n"
    b"1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
    b"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >> endobj\n"
    b"xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n"
    b"0000000058 00000 n \n0000000115 00000 n \n"
    b"trailer << /Size 4 /Root 1 0 R >>\nstartxref\n186\n%%EOF\n"
)

# Every model a vendor-scoped request could touch; a refused request changes none of them.
TENANT_MODELS: tuple[type[Model], ...] = (
    Vendor,
    VendorMembership,
    VendorInvitation,
    VerificationDocument,
    Listing,
    ProductVariant,
    PriceRule,
    ListingImage,
    AuditLog,
)


def png_bytes(size: tuple[int, int] = (64, 48), color: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def png_bomb(width: int = 20_000, height: int = 20_000) -> bytes:
    """A tiny PNG whose header claims `width`×`height` pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00"))
        + chunk(b"IEND", b"")
    )


def png_upload(name: str = "photo.png", size: tuple[int, int] = (64, 48)) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes(size), content_type="image/png")


def pdf_upload(name: str = "insurance.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def client_for(user: Any) -> ApiClient:
    return ApiClient(token_for(user))


def multipart(client: ApiClient, path: str, data: dict[str, Any]) -> Any:
    """POST multipart/form-data (file uploads) with the client's bearer token, if any."""
    headers = {"Authorization": f"Bearer {client.token}"} if client.token else {}
    return client.client.post(f"/api/v1{path}", data, headers=headers)


def snapshot(*models: type[Model]) -> dict[str, list[dict[str, Any]]]:
    """Every row of `models` (default: TENANT_MODELS), to compare before and after a request."""
    return {
        model._meta.label: list(model._default_manager.order_by("pk").values())
        for model in models or TENANT_MODELS
    }


def stored_files(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def error_locs(body: dict[str, Any]) -> list[list[Any]]:
    return [item["loc"] for item in body["errors"]]


def body_of(response: Any) -> bytes:
    """The bytes of a response, streaming (FileResponse) or not.

    The test client closes a streaming response once its content is consumed; closing it
    again by hand would fire request_finished and close the test's database connection.
    """
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return bytes(response.content)
