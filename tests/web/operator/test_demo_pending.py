"""The demo's applications awaiting approval: applied and documented through the real
services, idempotent, so the approval queue is not empty after `make run`."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from agora.core.audit import audit_trail
from agora.demo import accounts, pending_vendors
from agora.demo.marketplace import PENDING
from agora.vendors.models import Vendor, VerificationDocument
from tests.factories import UserFactory, VendorFactory

pytestmark = pytest.mark.django_db


def test_applicants_are_pending_with_documents_and_loading_twice_adds_nothing(
    op: Client,
) -> None:
    accounts.load()
    owner = UserFactory(email=PENDING.owner_email)
    handyman = VendorFactory(name=PENDING.name, status="pending", owner=owner)

    summary = pending_vendors.load()

    assert summary == "4 applications awaiting approval (3 new), with documents"
    names = [a.name for a in pending_vendors.APPLICANTS]
    vendors = list(Vendor.objects.filter(name__in=names).order_by("name"))
    assert [v.status for v in vendors] == ["pending"] * 3
    kinds = {
        v.name: sorted(VerificationDocument.objects.filter(vendor=v).values_list("kind", flat=True))
        for v in vendors
    }
    assert kinds == {
        "Kings Cross Auto Glass": ["business_registration", "insurance"],
        "Parramatta Paint & Panel": ["business_registration"],
        "Salford Smart Homes": ["insurance", "trade_licence"],
    }
    glass = next(v for v in vendors if v.name == "Kings Cross Auto Glass")
    assert [e.action for e in audit_trail(glass)] == [
        "vendor.applied",
        "vendor.document_uploaded",
        "vendor.document_uploaded",
    ]
    assert handyman.documents.count() == 1
    content_types = set(VerificationDocument.objects.values_list("content_type", flat=True))
    assert content_types == {"application/pdf", "image/png"}

    assert pending_vendors.load() == "4 applications awaiting approval (0 new), with documents"
    assert VerificationDocument.objects.count() == 6

    queue = op.get("/operator/vendors/").content.decode()
    for name in ("Kings Cross Auto Glass", "Salford Smart Homes", PENDING.name):
        assert name in queue.replace("&amp;", "&")


def test_demo_documents_download_as_what_they_claim(op: Client) -> None:
    accounts.load()
    pending_vendors.load()
    document = VerificationDocument.objects.filter(content_type="application/pdf").first()
    assert document is not None

    response = op.get(f"/operator/vendors/{document.vendor_id}/documents/{document.pk}/")

    body: Any = b"".join(response.streaming_content)
    assert body.startswith(b"%PDF-1.4")
    assert body.rstrip().endswith(b"%%EOF")
