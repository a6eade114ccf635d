"""An operator approves a pending vendor in a real browser: queue → documents → approve."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from agora.core.audit import audit_trail
from agora.vendors import services as vendor_services
from agora.vendors.models import Vendor
from tests.factories import UserFactory, VendorFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _applicant(name: str) -> Vendor:
    owner = UserFactory(name=f"{name} owner")
    vendor = VendorFactory(name=name, status="pending", owner=owner)
    vendor_services.document_upload(
        actor=owner,
        vendor=vendor,
        kind="insurance",
        upload=SimpleUploadedFile("insurance.pdf", PDF),
    )
    return vendor


def test_an_operator_approves_a_pending_vendor(page: Any, sign_in: Any, screenshot: Any) -> None:
    operator = UserFactory(is_operator=True, is_staff=True, name="Olive Operator")
    vendor = _applicant("Hackney Bike Repairs")
    _applicant("Bow Locksmiths")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(operator)

    page.goto("/operator/")
    assert page.get_by_role("heading", name="Platform overview").is_visible()
    screenshot("1-overview")

    page.get_by_role("link", name="Vendors", exact=True).click()
    page.wait_for_url("**/operator/vendors/")
    assert page.get_by_role("link", name="Hackney Bike Repairs").is_visible()
    assert page.get_by_role("link", name="Insurance certificate").first.is_visible()
    screenshot("2-queue")

    page.get_by_role("link", name="Hackney Bike Repairs").click()
    page.wait_for_url(f"**/operator/vendors/{vendor.pk}/")
    with page.expect_download() as download:
        page.get_by_role("link", name="insurance.pdf").click()
    assert download.value.suggested_filename == "insurance.pdf"
    page.get_by_label("Reason (optional)").fill("Insurance certificate checked")
    screenshot("3-detail")

    page.get_by_role("button", name="Approve").click()
    page.wait_for_url(f"**/operator/vendors/{vendor.pk}/")

    assert page.get_by_text("Hackney Bike Repairs was approved.").is_visible()
    assert page.locator("h1 .badge").inner_text() == "Active"
    screenshot("4-approved")
    vendor.refresh_from_db()
    assert vendor.status == "active"
    last = list(audit_trail(vendor))[-1]
    assert (last.action, last.actor_id, last.data["reason"]) == (
        "vendor.active",
        operator.pk,
        "Insurance certificate checked",
    )
    assert Vendor.objects.get(name="Bow Locksmiths").status == "pending"

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/operator/vendors/")
    assert page.get_by_role("link", name="Bow Locksmiths").is_visible()
    screenshot("5-queue-on-a-phone")
    assert errors == []


def test_bulk_approval_in_the_browser_reports_each_vendor(
    page: Any, sign_in: Any, screenshot: Any
) -> None:
    operator = UserFactory(is_operator=True, is_staff=True)
    first, second = _applicant("Leyton Glaziers"), _applicant("Stratford Sparks")
    sign_in(operator)

    page.goto("/operator/vendors/")
    page.get_by_label("Select every vendor on this page").check()
    assert page.get_by_label("Select Leyton Glaziers").is_checked()
    assert page.get_by_label("Select Stratford Sparks").is_checked()
    page.get_by_label("Action").select_option("approve")
    page.get_by_role("button", name="Apply to selected").click()

    assert page.get_by_role("heading", name="Approve: 2 done, 0 not done").is_visible()
    screenshot("bulk-result")
    assert {v.status for v in Vendor.objects.filter(pk__in=[first.pk, second.pk])} == {"active"}
