"""The garage pages, "Enter your reg" on automotive pages, the vehicle on the booking form,
and the vehicle on the vendor's booking page."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client

from agora.bookings.models import Booking
from agora.verticals.automotive import services
from agora.verticals.automotive.models import Vehicle
from tests.bookings.helpers import Shop, make_shop
from tests.factories import ListingFactory
from tests.vendors.helpers import snapshot
from tests.web.account.helpers import hold, html

pytestmark = pytest.mark.django_db

WEDNESDAY_10 = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def shop(now: datetime) -> Shop:
    return make_shop()


def test_the_garage_needs_a_sign_in(client: Client) -> None:
    response = client.get("/account/vehicles/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/account/vehicles/")


def test_adding_a_vehicle_by_registration_shows_its_mot_and_advisories(shop: Shop) -> None:
    page = signed_in(shop.customer)
    assert "Your garage is empty." in html(page.get("/account/vehicles/"))

    response = page.post("/account/vehicles/", {"registration": "ab12 cde"})

    vehicle = Vehicle.objects.get(owner=shop.customer)
    assert response.status_code == 302
    assert response["Location"] == f"/account/vehicles/{vehicle.pk}/"
    detail = html(page.get(response["Location"]))
    assert "AB12 CDE" in detail
    assert "VAUXHALL ASTRA" in detail
    assert "Valid until Tue 29 Dec 2026 (in 28 days)" in detail
    assert "status-due_soon" in detail
    assert "Taxed, due Mon 1 Mar 2027" in detail
    assert "Mileage at last MOT</dt><dd>61250 mi" in detail
    assert "Oil leak, but not excessive (8.4.1 (a) (i))" in detail
    assert detail.count('class="status-passed"') == 6
    assert detail.count('class="status-failed"') == 1
    listed = html(page.get("/account/vehicles/"))
    assert f'href="/account/vehicles/{vehicle.pk}/"' in listed


def test_an_expired_mot_reads_as_expired(shop: Shop) -> None:
    page = signed_in(shop.customer)
    page.post("/account/vehicles/", {"registration": "MT05OLD"})

    listed = html(page.get("/account/vehicles/"))

    assert "Expired on Mon 14 Jul 2025" in listed
    assert "Untaxed, due Mon 1 Sep 2025" in listed


@pytest.mark.parametrize(
    ("registration", "status", "words"),
    [
        ("not a car", 422, "is not a UK registration"),
        ("ZZ99ZZZ", 404, "No vehicle is registered as ZZ99 ZZZ."),
        ("ER19ERR", 503, "not answering just now"),
    ],
)
def test_a_refused_registration_is_shown_on_the_form(
    shop: Shop, registration: str, status: int, words: str
) -> None:
    response = signed_in(shop.customer).post("/account/vehicles/", {"registration": registration})

    assert response.status_code == status
    assert words in html(response)
    assert not Vehicle.objects.exists()


def test_another_customers_vehicle_pages_are_404_and_nothing_changes(shop: Shop) -> None:
    theirs = services.vehicle_add(owner=shop.other_customer, registration="AB12CDE")
    mine = signed_in(shop.customer)
    before = snapshot(Vehicle)

    assert mine.get(f"/account/vehicles/{theirs.pk}/").status_code == 404
    assert mine.post(f"/account/vehicles/{theirs.pk}/remove/").status_code == 404
    assert "Your garage is empty." in html(mine.get("/account/vehicles/"))
    assert snapshot(Vehicle) == before


def test_removing_a_vehicle(shop: Shop) -> None:
    vehicle = services.vehicle_add(owner=shop.customer, registration="AB12CDE")
    page = signed_in(shop.customer)

    response = page.post(f"/account/vehicles/{vehicle.pk}/remove/")

    assert response.status_code == 302
    assert response["Location"] == "/account/vehicles/"
    vehicle.refresh_from_db()
    assert vehicle.removed_at is not None
    assert page.get(f"/account/vehicles/{vehicle.pk}/").status_code == 404


def test_enter_your_reg_on_automotive_landing_pages_only(client: Client, shop: Shop) -> None:
    assert 'action="/vehicles/check/"' in html(client.get("/c/mot-servicing/"))
    assert 'action="/vehicles/check/"' in html(client.get("/c/automotive/"))
    assert 'action="/vehicles/check/"' not in html(client.get("/c/home-services/"))


def test_the_check_page_shows_the_car_and_the_offers_that_serve_it(
    client: Client, shop: Shop
) -> None:
    car = ListingFactory(
        vendor=shop.vendor,
        title="MOT test (class 4)",
        price_amount=5485,
        attributes={"mot_class": "4", "includes_mot": True, "vehicle_types": ["car", "van"]},
    )
    ListingFactory(
        vendor=shop.vendor,
        title="Motorbike MOT",
        price_amount=2990,
        attributes={"vehicle_types": ["motorbike"]},
    )

    page = html(client.get("/vehicles/check/", {"registration": "mt05 old"}))

    assert "MT05OLD" in page
    assert "FORD" in page
    assert "FIESTA" in page
    assert "Expired on Mon 14 Jul 2025" in page
    assert f'href="/l/{car.pk}/">MOT test (class 4)</a>' in page
    assert "£54.85" in page
    assert "Motorbike MOT" not in page
    assert f'href="/l/{shop.listing.pk}/">Full service</a>' in page  # serves every vehicle
    ld = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert ld is not None
    node = json.loads(ld.group(1))
    assert (node["@type"], node["name"], node["vehicleModelDate"]) == (
        "Vehicle",
        "FORD FIESTA",
        "2005",
    )


def test_the_check_page_refusals(client: Client, shop: Shop) -> None:
    assert client.get("/vehicles/check/", {"registration": "ZZ99ZZZ"}).status_code == 404
    assert client.get("/vehicles/check/", {"registration": "!!"}).status_code == 422
    assert client.get("/vehicles/check/").status_code == 200


def test_the_booking_form_offers_my_vehicles_and_books_for_one(shop: Shop) -> None:
    mine = services.vehicle_add(owner=shop.customer, registration="AB12CDE")
    theirs = services.vehicle_add(owner=shop.other_customer, registration="MT05OLD")
    page = signed_in(shop.customer)

    form = html(page.get(f"/account/book/{shop.listing.pk}/?start={WEDNESDAY_10.isoformat()}"))

    assert f'<option value="{mine.pk}">AB12 CDE — VAUXHALL ASTRA</option>' in form
    assert f'value="{theirs.pk}"' not in form
    response = hold(page, shop.listing, WEDNESDAY_10, vehicle_id=str(mine.pk))
    assert response.status_code == 302, html(response)
    booking = Booking.objects.get(customer=shop.customer)
    assert booking.vehicle_id == mine.pk
    detail = html(page.get(f"/account/bookings/{booking.pk}/"))
    assert "AB12 CDE VAUXHALL ASTRA" in detail


def test_booking_for_someone_elses_vehicle_is_refused_on_the_page(shop: Shop) -> None:
    theirs = services.vehicle_add(owner=shop.other_customer, registration="MT05OLD")
    page = signed_in(shop.customer)

    response = hold(page, shop.listing, WEDNESDAY_10, vehicle_id=str(theirs.pk))

    assert response.status_code == 404
    assert "No such vehicle." in html(response)
    assert not Booking.objects.exists()


def test_the_vendor_sees_the_vehicle_on_the_booking_page(shop: Shop) -> None:
    vehicle = services.vehicle_add(owner=shop.customer, registration="AB12CDE")
    booking = hold(signed_in(shop.customer), shop.listing, WEDNESDAY_10, vehicle_id=str(vehicle.pk))
    assert booking.status_code == 302
    booking_id = Booking.objects.get(vehicle=vehicle).pk

    page = html(signed_in(shop.staff).get(f"/vendor/bookings/{booking_id}/"))

    assert '<h2 id="vehicle-heading">Vehicle</h2>' in page
    assert '<span class="plate">AB12 CDE</span>' in page
    assert "VAUXHALL ASTRA" in page
    assert "2012" in page
    assert "Petrol" in page
    assert "61250 mi" in page
