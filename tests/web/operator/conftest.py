"""Operator console fixtures: signed-in clients for an operator, a customer and a vendor's
staff member, and helpers to make pending vendors with documents."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from agora.vendors import services as vendor_services
from tests.factories import UserFactory, VendorFactory, VendorMembershipFactory

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def operator(db: Any) -> Any:
    return UserFactory(is_operator=True, is_staff=True, name="Olive Operator")


@pytest.fixture
def op(operator: Any) -> Client:
    return signed_in(operator)


@pytest.fixture
def customer_client(db: Any) -> Client:
    return signed_in(UserFactory())


@pytest.fixture
def staff_client(db: Any) -> Client:
    membership = VendorMembershipFactory(role="owner")
    return signed_in(membership.user)


def pending_vendor(name: str, *, documents: int = 1) -> Any:
    """A pending vendor whose owner uploaded `documents` PDFs through the real service."""
    owner = UserFactory(name=f"{name} owner")
    vendor = VendorFactory(name=name, status="pending", owner=owner)
    for n in range(documents):
        upload = SimpleUploadedFile(f"{name.lower().replace(' ', '-')}-{n}.pdf", PDF)
        vendor_services.document_upload(actor=owner, vendor=vendor, kind="insurance", upload=upload)
    return vendor


def png_bytes() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buffer, format="PNG")
    return buffer.getvalue()


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []
