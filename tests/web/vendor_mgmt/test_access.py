"""Who may open the management pages: signed-out visitors go to sign in, customers get 403,
staff members read but do not change, another vendor's ids are 404 and change nothing."""

from __future__ import annotations

import pytest

from agora.catalog.models import Listing, ListingImage, ProductVariant
from agora.core.models import AuditLog
from tests.factories import ListingImageFactory, VendorMembershipFactory
from tests.vendors.helpers import snapshot
from tests.web.vendor_mgmt.conftest import Shop, html, signed_in

pytestmark = pytest.mark.django_db

PAGES = [
    "/vendor/listings/",
    "/vendor/listings/new/",
    "/vendor/schedule/",
    "/vendor/money/",
    "/vendor/money/statement.csv",
    "/vendor/analytics/",
]
WRITES = [
    "/vendor/listings/new/",
    "/vendor/schedule/weekly/",
    "/vendor/schedule/blocks/",
    "/vendor/money/payouts/",
    "/vendor/money/payout-settings/",
]


@pytest.mark.parametrize("path", PAGES)
def test_signed_out_visitors_are_sent_to_sign_in(shop: Shop, path: str) -> None:
    response = shop.anonymous.get(path)

    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"


@pytest.mark.parametrize("path", PAGES)
def test_customers_get_403(shop: Shop, path: str) -> None:
    response = shop.as_customer.get(path)

    assert response.status_code == 403


@pytest.mark.parametrize("path", WRITES)
def test_customers_cannot_write(shop: Shop, path: str) -> None:
    before = snapshot(Listing, AuditLog)

    response = shop.as_customer.post(path, {"title": "x"})

    assert response.status_code == 403
    assert snapshot(Listing, AuditLog) == before


def test_owners_and_managers_open_every_page(shop: Shop) -> None:
    for client in (shop.as_owner, shop.as_manager):
        for path in PAGES:
            assert client.get(path).status_code == 200, path


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/vendor/listings/", 200),
        ("/vendor/schedule/", 200),
        ("/vendor/listings/new/", 403),
        ("/vendor/money/", 403),
        ("/vendor/analytics/", 403),
    ],
)
def test_staff_members_read_but_do_not_manage(shop: Shop, path: str, status: int) -> None:
    assert shop.as_staff.get(path).status_code == status


def test_staff_see_a_listing_read_only(shop: Shop) -> None:
    response = shop.as_staff.get(f"/vendor/listings/{shop.service.pk}/")

    page = html(response)
    assert response.status_code == 200
    assert "owners and managers can change it" in page
    assert 'name="title" value="Full service" maxlength="200" required disabled' in page
    assert "Save changes" not in page
    assert "Unpublish" not in page
    assert "Archive</button>" not in page
    assert "New listing" not in html(shop.as_staff.get("/vendor/listings/"))


@pytest.mark.parametrize("suffix", ["", "status/", "images/", "variants/", "restock/", "resource/"])
def test_staff_members_cannot_change_a_listing(shop: Shop, suffix: str) -> None:
    before = snapshot(Listing, ProductVariant, ListingImage, AuditLog)

    response = shop.as_staff.post(
        f"/vendor/listings/{shop.product.pk}/{suffix}",
        {"title": "Hijacked", "status": "draft", "name": "V", "stock": "1", "quantity": "5"},
    )

    assert response.status_code == 403
    assert snapshot(Listing, ProductVariant, ListingImage, AuditLog) == before


@pytest.mark.parametrize("suffix", ["", "status/", "images/", "variants/", "restock/", "resource/"])
def test_another_vendors_listing_is_not_found(shop: Shop, suffix: str) -> None:
    before = snapshot(Listing, ProductVariant, ListingImage, AuditLog)

    response = shop.as_owner.post(
        f"/vendor/listings/{shop.rival_listing.pk}/{suffix}",
        {"title": "Hijacked", "status": "draft", "name": "V", "stock": "1", "quantity": "5"},
    )

    assert response.status_code == 404
    assert snapshot(Listing, ProductVariant, ListingImage, AuditLog) == before


def test_another_vendors_listing_page_is_not_found(shop: Shop) -> None:
    assert shop.as_owner.get(f"/vendor/listings/{shop.rival_listing.pk}/").status_code == 404
    assert shop.as_owner.get("/vendor/listings/999999/").status_code == 404


def test_another_vendors_image_cannot_be_deleted_through_my_listing(shop: Shop) -> None:
    image = ListingImageFactory(listing=shop.rival_listing)

    response = shop.as_owner.post(
        f"/vendor/listings/{shop.rival_listing.pk}/images/{image.pk}/delete/"
    )

    assert response.status_code == 404
    assert ListingImage.objects.filter(pk=image.pk).exists()


def test_a_person_on_two_staffs_works_for_the_chosen_vendor(shop: Shop) -> None:
    VendorMembershipFactory(vendor=shop.rival, user=shop.owner, role="owner")
    client = signed_in(shop.owner)

    rival_page = html(client.get(f"/vendor/listings/?vendor={shop.rival.pk}"))
    # the choice is remembered
    remembered = html(client.get("/vendor/listings/"))

    assert "Rival MOT" in rival_page
    assert "Full service" not in rival_page
    assert "Rival MOT" in remembered
    assert client.get(f"/vendor/listings/{shop.service.pk}/").status_code == 404
    assert client.get("/vendor/listings/?vendor=999999").status_code == 404


def test_forms_need_the_csrf_token(shop: Shop) -> None:
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(shop.owner)

    response = client.post(f"/vendor/listings/{shop.service.pk}/status/", {"status": "draft"})

    assert response.status_code == 403
    shop.service.refresh_from_db()
    assert shop.service.status == "active"


def test_pages_extend_the_vendor_layout(shop: Shop) -> None:
    page = html(shop.as_owner.get("/vendor/schedule/"))

    assert '<nav class="portal-nav" aria-label="Vendor portal">' in page
    assert '<a href="/vendor/schedule/" aria-current="page">Schedule</a>' in page
    assert "Camden Motors" in page
    assert '<meta name="robots" content="noindex">' in page
    assert "/static/web/vendor.css" in page
