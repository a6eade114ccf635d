"""Becoming a vendor in a real browser: a signed-in customer fills in the onboarding form,
lands on the profile as pending review, and uploads a verification document."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agora.vendors.models import Vendor, VendorMembership, VerificationDocument
from tests.factories import UserFactory
from tests.vendors.helpers import PDF_BYTES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


def test_a_customer_applies_to_sell_and_uploads_a_document(
    media: Path, page: Any, sign_in: Any, screenshot: Any, tmp_path: Path
) -> None:
    person = UserFactory(name="Priya Sparks")
    sign_in(person)

    page.goto("/vendor/onboarding/")
    assert page.get_by_role("heading", name="Become a vendor").is_visible()
    page.get_by_label("Business name").fill("Peckham Sparks")
    page.get_by_label("Description").fill("Electricians for homes and shops.")
    page.get_by_label("City").select_option("london")
    page.get_by_label("Trade").select_option("home-services")
    page.get_by_label("Contact e-mail").fill("hello@sparks.example")
    screenshot("1-onboarding-form")
    page.get_by_role("button", name="Apply to sell").click()

    page.wait_for_url("**/vendor/profile/")
    assert page.get_by_role("heading", name="Onboarding status: Pending review").is_visible()
    assert page.get_by_text("Peckham Sparks is registered and waiting for review.").is_visible()
    vendor = Vendor.objects.get(name="Peckham Sparks")
    assert vendor.status == "pending"
    assert VendorMembership.objects.get(vendor=vendor).user_id == person.pk
    screenshot("2-pending-profile")

    document = tmp_path / "insurance.pdf"
    document.write_bytes(PDF_BYTES)
    page.get_by_label("Kind of document").select_option("insurance")
    page.get_by_label("File").set_input_files(str(document))
    page.get_by_role("button", name="Upload").click()

    page.get_by_text("Uploaded insurance.pdf.").wait_for()
    assert page.get_by_role("link", name="insurance.pdf").is_visible()
    stored = VerificationDocument.objects.get(vendor=vendor)
    assert (stored.kind, stored.content_type) == ("insurance", "application/pdf")
    screenshot("3-document-uploaded")
