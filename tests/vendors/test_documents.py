"""Verification documents: sniffed uploads, scoped downloads, never public under /media/.

API.md "Vendors"; ARCHITECTURE.md invariant 5 (tenant isolation) and 7 (bad input).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from agora.core.audit import audit_trail
from agora.vendors.models import Vendor, VerificationDocument
from agora.vendors.services import MAX_DOCUMENT_BYTES
from tests.conftest import ApiClient, assert_problem
from tests.factories import ListingFactory, UserFactory, VendorFactory, VendorMembershipFactory
from tests.vendors.helpers import (
    PDF_BYTES,
    body_of,
    client_for,
    error_locs,
    multipart,
    pdf_upload,
    png_bomb,
    png_bytes,
    png_upload,
    snapshot,
    stored_files,
)

pytestmark = pytest.mark.django_db


@dataclass
class Shop:
    vendor: Vendor
    owner: ApiClient
    staff: ApiClient
    owner_id: int


@pytest.fixture
def shop(db: Any) -> Shop:
    owner, staff = UserFactory(), UserFactory()
    vendor = VendorFactory(owner=owner)
    VendorMembershipFactory(vendor=vendor, user=staff, role="staff")
    return Shop(vendor=vendor, owner=client_for(owner), staff=client_for(staff), owner_id=owner.pk)


def upload(client: ApiClient, vendor: Vendor, kind: str, file: SimpleUploadedFile) -> Any:
    return multipart(client, f"/vendors/{vendor.pk}/documents", {"kind": kind, "file": file})


def test_a_pdf_is_stored_privately_with_its_sniffed_type(shop: Shop, media_root: Path) -> None:
    # When the owner uploads a PDF certificate
    response = upload(shop.owner, shop.vendor, "insurance", pdf_upload("cert.pdf"))

    # Then it is stored with the type judged from its bytes
    assert response.status_code == 201, response.content
    document = VerificationDocument.objects.get()
    assert response.json() == {
        "id": document.pk,
        "kind": "insurance",
        "original_name": "cert.pdf",
        "content_type": "application/pdf",
        "size": len(PDF_BYTES),
        "uploaded_at": response.json()["uploaded_at"],
    }
    assert (document.vendor_id, document.uploaded_by_id) == (shop.vendor.pk, shop.owner_id)
    assert document.file.name.startswith("vendors/documents/")
    assert (media_root / document.file.name).read_bytes() == PDF_BYTES
    entry = audit_trail(shop.vendor).last()
    assert entry is not None
    assert (entry.action, entry.data) == (
        "vendor.document_uploaded",
        {"kind": "insurance", "document_id": document.pk},
    )


def test_the_content_type_comes_from_the_bytes_not_the_name_or_header(
    shop: Shop, media_root: Path
) -> None:
    # Given a real PNG sent as "scan.pdf" with a PDF content type
    scan = SimpleUploadedFile("scan.pdf", png_bytes((300, 200)), content_type="application/pdf")

    response = upload(shop.owner, shop.vendor, "business_registration", scan)

    assert response.status_code == 201, response.content
    assert response.json()["content_type"] == "image/png"
    assert VerificationDocument.objects.get().file.name.endswith(".png")


@pytest.mark.parametrize(
    ("kind", "file", "loc"),
    [
        (
            "insurance",
            SimpleUploadedFile("notes.pdf", b"just some text\n", content_type="application/pdf"),
            ["file"],
        ),
        (
            "insurance",
            SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * (MAX_DOCUMENT_BYTES - 4)),
            ["file"],
        ),
        ("insurance", SimpleUploadedFile("empty.pdf", b""), ["file"]),
        ("passport", SimpleUploadedFile("cert.pdf", PDF_BYTES), ["body", "kind"]),
        (
            "other",
            SimpleUploadedFile("anim.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"),
            ["file"],
        ),
        ("other", SimpleUploadedFile("bomb.png", png_bomb()), ["file"]),
    ],
    ids=["text-named-pdf", "over-10-MB", "empty", "unknown-kind", "gif", "decompression-bomb"],
)
def test_a_bad_upload_is_422_and_stores_nothing(
    shop: Shop, media_root: Path, kind: str, file: SimpleUploadedFile, loc: list[str]
) -> None:
    before = snapshot()

    response = upload(shop.owner, shop.vendor, kind, file)

    assert error_locs(assert_problem(response, 422, "validation_error")) == [loc]
    assert snapshot() == before
    assert stored_files(media_root) == []


def test_exactly_10_mb_is_accepted(shop: Shop, media_root: Path) -> None:
    big = SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * (MAX_DOCUMENT_BYTES - 5))

    response = upload(shop.owner, shop.vendor, "other", big)

    assert response.status_code == 201, response.content
    assert response.json()["size"] == MAX_DOCUMENT_BYTES


def test_a_missing_file_is_422(shop: Shop, media_root: Path) -> None:
    response = multipart(shop.owner, f"/vendors/{shop.vendor.pk}/documents", {"kind": "other"})

    body = assert_problem(response, 422, "validation_error")
    assert [error["type"] for error in body["errors"]] == ["missing"]
    assert VerificationDocument.objects.count() == 0


def test_staff_list_and_download_documents_and_operators_review_them(
    shop: Shop, media_root: Path, as_operator: ApiClient
) -> None:
    # Given two uploaded documents
    pdf_id = upload(shop.owner, shop.vendor, "insurance", pdf_upload("cert.pdf")).json()["id"]
    png = png_bytes((120, 80))
    png_id = upload(
        shop.owner, shop.vendor, "trade_licence", SimpleUploadedFile("licence.png", png)
    ).json()["id"]
    base = f"/vendors/{shop.vendor.pk}/documents"

    for client, prefix in ((shop.staff, ""), (as_operator, "/operator")):
        # When a staff member (any role) or an operator lists them
        listed = client.get(f"{prefix}{base}").json()

        # Then they see both, newest first
        assert [(d["id"], d["kind"], d["content_type"]) for d in listed] == [
            (png_id, "trade_licence", "image/png"),
            (pdf_id, "insurance", "application/pdf"),
        ]

        # and downloads return the very bytes, as an attachment
        response = client.get(f"{prefix}{base}/{pdf_id}/file")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == 'attachment; filename="cert.pdf"'
        assert body_of(response) == PDF_BYTES
        image = client.get(f"{prefix}{base}/{png_id}/file")
        assert image["Content-Type"] == "image/png"
        assert body_of(image) == png


def test_only_managers_upload_while_strangers_get_404_and_anonymous_401(
    shop: Shop, media_root: Path
) -> None:
    document_id = upload(shop.owner, shop.vendor, "insurance", pdf_upload()).json()["id"]
    other_vendor_owner = UserFactory()
    VendorFactory(owner=other_vendor_owner)
    customer = client_for(UserFactory())
    rival = client_for(other_vendor_owner)
    anonymous = ApiClient()
    base = f"/vendors/{shop.vendor.pk}/documents"
    before, files_before = snapshot(), stored_files(media_root)

    # a `staff` member may read but not upload
    assert_problem(upload(shop.staff, shop.vendor, "other", pdf_upload()), 403, "forbidden")
    for client, status, code in ((rival, 404, "not_found"), (customer, 404, "not_found")):
        assert_problem(upload(client, shop.vendor, "other", pdf_upload()), status, code)
        assert_problem(client.get(base), status, code)
        assert_problem(client.get(f"{base}/{document_id}/file"), status, code)
        assert_problem(client.get(f"/operator{base}"), 403, "forbidden")
        assert_problem(client.get(f"/operator{base}/{document_id}/file"), 403, "forbidden")
    assert_problem(upload(anonymous, shop.vendor, "other", pdf_upload()), 401, "not_authenticated")
    assert_problem(anonymous.get(base), 401, "not_authenticated")
    assert_problem(anonymous.get(f"{base}/{document_id}/file"), 401, "not_authenticated")

    assert snapshot() == before
    assert stored_files(media_root) == files_before


def test_another_vendors_document_id_is_404_through_ones_own_vendor(
    shop: Shop, media_root: Path
) -> None:
    # Given a rival vendor with its own document
    rival_owner = UserFactory()
    rival = VendorFactory(owner=rival_owner)
    rival_client = client_for(rival_owner)
    rival_doc = upload(rival_client, rival, "insurance", pdf_upload()).json()["id"]

    # When our owner asks for it under our own vendor id
    response = shop.owner.get(f"/vendors/{shop.vendor.pk}/documents/{rival_doc}/file")

    # Then it does not exist for us
    assert_problem(response, 404, "not_found")


def test_documents_are_not_served_under_media_but_listing_images_are(
    shop: Shop, media_root: Path
) -> None:
    # Given an uploaded document and a listing image, both on disk under MEDIA_ROOT
    upload(shop.owner, shop.vendor, "insurance", pdf_upload())
    document = VerificationDocument.objects.get()
    assert (media_root / document.file.name).is_file()
    listing = ListingFactory(vendor=shop.vendor)
    image = multipart(shop.owner, f"/listings/{listing.pk}/images", {"file": png_upload()}).json()
    browser = Client()

    # When a browser asks /media/ for each
    document_response = browser.get(f"/media/{document.file.name}")
    image_response = browser.get(image["url"])

    # Then the document is not there, and the image is
    assert document_response.status_code == 404
    body_of(document_response)
    assert image["url"].startswith("/media/listings/")
    assert image_response.status_code == 200
    assert body_of(image_response) == png_bytes()
