"""/vendor/profile/ (details, onboarding status, verification documents), and becoming a
vendor: /vendor/onboarding/ and /vendor/join/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from agora.core.models import AuditLog
from agora.vendors import services as vendor_services
from agora.vendors.models import Vendor, VendorMembership, VerificationDocument
from tests.vendors.helpers import PDF_BYTES, png_bytes
from tests.web.vendor_ops.conftest import Shop
from tests.web.vendor_ops.helpers import html, last_audit, text

pytestmark = pytest.mark.django_db


def test_signed_out_visitors_are_sent_to_sign_in(client: Any) -> None:
    for path in ("/vendor/profile/", "/vendor/onboarding/"):
        assert client.get(path)["Location"] == f"/login/?next={path}"


def test_a_customer_cannot_open_the_profile(shop: Shop, client_as: Any) -> None:
    assert client_as(shop.customer).get("/vendor/profile/").status_code == 403


def test_the_profile_shows_the_onboarding_status_and_the_edit_form(
    shop: Shop, client_as: Any
) -> None:
    response = client_as(shop.manager).get("/vendor/profile/")

    assert response.status_code == 200
    page = text(response)
    assert "Onboarding status: Active" in page
    assert "Approved: your vendor and its active listings are public." in page
    assert f'href="/v/{shop.vendor.slug}/"' in html(response)
    assert 'value="Camden Motors"' in html(response)
    assert '<label for="id_timezone">Time zone</label>' in html(response)
    assert 'href="/vendor/onboarding/"' in html(response)


def test_a_manager_edits_the_profile(shop: Shop, client_as: Any) -> None:
    client = client_as(shop.manager)
    form = {
        "name": "Camden Motors Ltd",
        "description": "Servicing since 1987.",
        "address": "2 Camden Road",
        "city": "london",
        "postcode": "NW1 9LS",
        "timezone": "Europe/London",
        "contact_email": "",
        "contact_phone": "020 7946 0000",
        "website": "",
        "vertical": "automotive",
        "opening_summary": "Mon–Fri 9–5",
        "service_radius_km": "0",
        "lat": str(shop.vendor.lat),
        "lng": str(shop.vendor.lng),
    }

    response = client.post("/vendor/profile/", form)

    assert response.status_code == 302
    vendor = Vendor.objects.get(pk=shop.vendor.pk)
    assert vendor.name == "Camden Motors Ltd"
    assert vendor.contact_phone == "020 7946 0000"
    assert vendor.opening_summary == "Mon–Fri 9–5"
    assert vendor.status == "active"
    entry = last_audit(vendor)
    assert entry.action == "vendor.updated"
    assert entry.actor_id == shop.manager.pk
    assert set(entry.data["fields"]) >= {"name", "description", "contact_phone", "address"}
    assert "Profile saved." in text(client.get("/vendor/profile/"))


def test_a_bad_time_zone_is_shown_on_its_field_and_saves_nothing(
    shop: Shop, client_as: Any
) -> None:
    audit_rows = AuditLog.objects.count()
    form = {"name": "Camden Motors", "timezone": "Mars/Olympus", "service_radius_km": "0"}
    form["lat"], form["lng"] = str(shop.vendor.lat), str(shop.vendor.lng)
    form["city"] = "london"

    response = client_as(shop.owner).post("/vendor/profile/", form)

    assert response.status_code == 422
    assert "unknown IANA time zone 'Mars/Olympus'" in text(response)
    assert Vendor.objects.get(pk=shop.vendor.pk).timezone == "Europe/London"
    assert AuditLog.objects.count() == audit_rows


def test_a_staff_member_sees_the_profile_but_cannot_change_it(
    shop: Shop, client_as: Any, media_root: Path
) -> None:
    client = client_as(shop.staff)

    view = client.get("/vendor/profile/")
    assert view.status_code == 200
    assert "Only an owner or a manager can edit the profile." in text(view)
    assert 'action="/vendor/profile/documents/"' not in html(view)

    edit = client.post("/vendor/profile/", {"name": "Hijacked", "timezone": "Europe/London"})
    upload = client.post(
        "/vendor/profile/documents/",
        {"kind": "insurance", "file": SimpleUploadedFile("i.pdf", PDF_BYTES)},
    )
    assert edit.status_code == 403
    assert upload.status_code == 403
    assert Vendor.objects.get(pk=shop.vendor.pk).name == "Camden Motors"
    assert not VerificationDocument.objects.exists()


def test_documents_are_uploaded_listed_and_downloaded(
    shop: Shop, client_as: Any, media_root: Path
) -> None:
    client = client_as(shop.owner)

    response = client.post(
        "/vendor/profile/documents/",
        {"kind": "insurance", "file": SimpleUploadedFile("cover.pdf", PDF_BYTES, "image/png")},
    )

    assert response.status_code == 302
    document = VerificationDocument.objects.get()
    assert (document.vendor_id, document.kind, document.content_type) == (
        shop.vendor.pk,
        "insurance",
        "application/pdf",  # judged by its bytes, not the claimed type
    )
    assert last_audit(shop.vendor).action == "vendor.document_uploaded"
    page = client.get("/vendor/profile/")
    assert "cover.pdf — Insurance certificate" in text(page)
    download = client_as(shop.staff).get(f"/vendor/profile/documents/{document.pk}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF_BYTES
    assert 'filename="cover.pdf"' in download["Content-Disposition"]
    other = client_as(shop.other_owner).get(f"/vendor/profile/documents/{document.pk}/")
    assert other.status_code == 404


def test_a_file_that_is_not_a_document_is_refused(
    shop: Shop, client_as: Any, media_root: Path
) -> None:
    client = client_as(shop.owner)

    fake = client.post(
        "/vendor/profile/documents/",
        {"kind": "insurance", "file": SimpleUploadedFile("x.pdf", b"MZ\x90\x00 not a pdf")},
    )
    assert fake.status_code == 422
    assert "The document must be a PDF or a JPEG, PNG or WebP image." in text(fake)

    empty = client.post(
        "/vendor/profile/documents/",
        {"kind": "insurance", "file": SimpleUploadedFile("e.pdf", b"")},
    )
    assert empty.status_code == 422
    assert "The file is empty." in text(empty)

    wrong_kind = client.post(
        "/vendor/profile/documents/",
        {"kind": "passport", "file": SimpleUploadedFile("p.png", png_bytes())},
    )
    assert wrong_kind.status_code == 422
    assert "Select a valid choice." in text(wrong_kind)
    assert not VerificationDocument.objects.exists()


def test_documents_over_the_size_limit_are_refused(
    shop: Shop, client_as: Any, media_root: Path, settings: Any
) -> None:
    big = PDF_BYTES + b"0" * (10 * 1024 * 1024)
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = None

    response = client_as(shop.owner).post(
        "/vendor/profile/documents/",
        {"kind": "insurance", "file": SimpleUploadedFile("big.pdf", big)},
    )

    assert response.status_code == 422
    assert "Documents may be at most 10 MB." in text(response)
    assert not VerificationDocument.objects.exists()


# --- becoming a vendor ---------------------------------------------------------------------------


def test_a_signed_in_customer_applies_and_lands_on_the_pending_profile(
    shop: Shop, client_as: Any
) -> None:
    client = client_as(shop.outsider)
    form = client.get("/vendor/onboarding/")
    assert form.status_code == 200
    assert "Become a vendor" in text(form)
    assert '<label for="id_name">Business name</label>' in html(form)

    response = client.post(
        "/vendor/onboarding/",
        {
            "name": "Peckham Sparks",
            "description": "Electricians",
            "city": "london",
            "timezone": "Europe/London",
            "currency": "GBP",
            "vertical": "home-services",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == "/vendor/profile/"
    vendor = Vendor.objects.get(name="Peckham Sparks")
    assert vendor.status == "pending"
    assert vendor.city is not None
    assert vendor.city.slug == "london"
    membership = VendorMembership.objects.get(vendor=vendor)
    assert (membership.user_id, membership.role) == (shop.outsider.pk, "owner")
    assert last_audit(vendor).action == "vendor.applied"
    profile = client.get(response["Location"])
    assert profile.status_code == 200
    page = text(profile)
    assert "Onboarding status: Pending review" in page
    assert "Your application is waiting for review." in page
    assert "Peckham Sparks is registered and waiting for review." in page
    today = text(client.get("/vendor/"))
    assert "Your vendor is pending review" in today


def test_bad_applications_are_refused_with_field_errors(shop: Shop, client_as: Any) -> None:
    client = client_as(shop.outsider)

    blank = client.post("/vendor/onboarding/", {"name": "", "timezone": "Europe/London"})
    assert blank.status_code == 422
    assert "This field is required." in text(blank)

    zone = client.post(
        "/vendor/onboarding/", {"name": "Sparks", "timezone": "Nowhere/City", "currency": "GBP"}
    )
    assert zone.status_code == 422
    assert "unknown IANA time zone 'Nowhere/City'" in text(zone)
    assert not Vendor.objects.filter(name="Sparks").exists()


def test_an_invited_person_joins_with_the_code(shop: Shop, client_as: Any) -> None:
    issued = vendor_services.staff_invite(
        actor=shop.owner,
        vendor=shop.vendor,
        actor_role="owner",
        email=shop.outsider.email,
        role="staff",
    )
    client = client_as(shop.outsider)

    wrong = client.post("/vendor/join/", {"token": "not-the-code"})
    assert wrong.status_code == 422
    assert "This invitation is not valid for your account." in text(wrong)

    response = client.post("/vendor/join/", {"token": issued.token})
    assert response["Location"] == "/vendor/"
    assert VendorMembership.objects.get(vendor=shop.vendor, user=shop.outsider).role == "staff"
    assert "You joined the staff as staff." in text(client.get("/vendor/"))
