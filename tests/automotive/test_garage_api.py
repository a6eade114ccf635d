"""The garage over the API (/me/vehicles) and vehicles on bookings: my vehicles only —
another customer's vehicle id is 404 everywhere, vehicle_id on POST /bookings included,
and changes nothing; the vendor sees the vehicle on the booking."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from agora.bookings.models import Booking
from agora.core.models import AuditLog
from agora.verticals.automotive.models import Vehicle
from tests.bookings.helpers import Shop, make_shop, pay
from tests.conftest import ApiClient, assert_problem
from tests.vendors.helpers import snapshot

pytestmark = pytest.mark.django_db

WEDNESDAY_10 = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def shop(now: datetime) -> Shop:
    return make_shop()


def add(client: ApiClient, registration: str) -> Any:
    return client.post("/me/vehicles", {"registration": registration})


def added(client: ApiClient, registration: str) -> dict[str, Any]:
    response = add(client, registration)
    assert response.status_code == 201, response.content
    return response.json()  # type: ignore[no-any-return]


def book(client: ApiClient, shop: Shop, vehicle_id: int, start: datetime = WEDNESDAY_10) -> Any:
    return client.post(
        "/bookings",
        {"listing_id": shop.listing.pk, "start": start.isoformat(), "vehicle_id": vehicle_id},
        idempotency_key=f"book-{vehicle_id}-{start.isoformat()}",
    )


def test_a_vehicle_is_saved_with_its_looked_up_data(shop: Shop) -> None:
    body = added(shop.as_customer, " ab12 cde ")

    vehicle = Vehicle.objects.get(pk=body["id"])
    assert (vehicle.owner_id, vehicle.registration) == (shop.customer.pk, "AB12CDE")
    assert (vehicle.make, vehicle.model, vehicle.fuel_type) == ("VAUXHALL", "ASTRA", "petrol")
    assert vehicle.mot_expiry_date.isoformat() == "2026-12-29"  # type: ignore[union-attr]
    assert body["registration"] == "AB12CDE"
    assert body["mot"]["status"] == "valid"
    assert len(body["mot"]["tests"]) == 7
    assert body["bookings"] is None
    assert AuditLog.objects.filter(action="vehicle.added", object_id=str(vehicle.pk)).exists()


def test_adding_refusals(shop: Shop, anon: ApiClient) -> None:
    added(shop.as_customer, "AB12CDE")

    assert_problem(add(shop.as_customer, "AB12 CDE"), 409, "vehicle_already_saved")
    assert_problem(add(shop.as_customer, "ZZ99ZZZ"), 404, "vehicle_not_found")
    body = assert_problem(add(shop.as_customer, "not a car"), 422, "validation_error")
    assert body["errors"][0]["loc"] == ["body", "registration"]
    assert_problem(add(shop.as_customer, "ER19ERR"), 503, "vehicle_data_unavailable")
    assert_problem(add(anon, "AB12CDE"), 401, "not_authenticated")
    assert Vehicle.objects.count() == 1


def test_the_same_car_may_be_in_two_garages(shop: Shop) -> None:
    added(shop.as_customer, "AB12CDE")

    assert add(shop.as_other_customer, "AB12CDE").status_code == 201


def test_my_garage_lists_my_vehicles_newest_first(
    shop: Shop, django_assert_max_num_queries: Any
) -> None:
    first = added(shop.as_customer, "AB12CDE")
    second = added(shop.as_customer, "MT05OLD")
    added(shop.as_other_customer, "KX19LMN")

    with django_assert_max_num_queries(4):
        response = shop.as_customer.get("/me/vehicles")

    page = response.json()
    assert [v["id"] for v in page["items"]] == [second["id"], first["id"]]
    assert [v["mot"]["status"] for v in page["items"]] == ["expired", "valid"]
    assert page["next_cursor"] is None


def test_a_removed_vehicle_leaves_the_garage_and_may_come_back(shop: Shop) -> None:
    vehicle = added(shop.as_customer, "AB12CDE")

    response = shop.as_customer.delete(f"/me/vehicles/{vehicle['id']}")

    assert response.status_code == 204
    assert shop.as_customer.get("/me/vehicles").json()["items"] == []
    assert_problem(shop.as_customer.get(f"/me/vehicles/{vehicle['id']}"), 404, "not_found")
    assert_problem(shop.as_customer.delete(f"/me/vehicles/{vehicle['id']}"), 404, "not_found")
    again = added(shop.as_customer, "AB12CDE")
    assert again["id"] != vehicle["id"]


def test_a_booking_for_my_vehicle_is_its_service_history_and_the_vendor_sees_the_car(
    shop: Shop,
) -> None:
    vehicle = added(shop.as_customer, "AB12CDE")

    held = book(shop.as_customer, shop, vehicle["id"])
    assert held.status_code == 201, held.content
    booking = held.json()
    assert pay(shop.as_customer, booking["id"]).status_code == 200

    expected_vehicle = {
        "id": vehicle["id"],
        "registration": "AB12CDE",
        "make": "VAUXHALL",
        "model": "ASTRA",
        "colour": "SILVER",
        "fuel_type": "petrol",
        "year_of_manufacture": 2012,
        "engine_capacity_cc": 1398,
        "mileage": {"value": 61250, "unit": "mi"},
    }
    assert booking["vehicle"] == expected_vehicle
    as_vendor = shop.as_staff.get(f"/bookings/{booking['id']}").json()
    assert as_vendor["vehicle"] == expected_vehicle
    listed = shop.as_staff.get("/bookings", **{"as": "vendor"}).json()["items"]
    assert [b["vehicle"] for b in listed] == [expected_vehicle]

    detail = shop.as_customer.get(f"/me/vehicles/{vehicle['id']}").json()
    assert detail["bookings"] == [
        {
            "id": booking["id"],
            "status": "pending",
            "listing_id": shop.listing.pk,
            "listing_title": "Full service",
            "vendor_id": shop.vendor.pk,
            "vendor_name": "Camden Motors",
            "start": "2026-12-02T10:00:00Z",
            "end": "2026-12-02T11:00:00Z",
            "price": {"amount": 4599, "currency": "GBP"},
        }
    ]


def test_a_removed_vehicle_stays_on_its_bookings(shop: Shop) -> None:
    vehicle = added(shop.as_customer, "AB12CDE")
    booking = book(shop.as_customer, shop, vehicle["id"]).json()
    shop.as_customer.delete(f"/me/vehicles/{vehicle['id']}")

    assert shop.as_staff.get(f"/bookings/{booking['id']}").json()["vehicle"]["id"] == vehicle["id"]
    # but it can no longer be booked for
    later = datetime(2026, 12, 2, 14, 0, tzinfo=UTC)
    assert_problem(book(shop.as_customer, shop, vehicle["id"], later), 404, "not_found")


def test_a_booking_without_a_vehicle_has_none(shop: Shop) -> None:
    response = shop.as_customer.post(
        "/bookings",
        {"listing_id": shop.listing.pk, "start": WEDNESDAY_10.isoformat()},
        idempotency_key="plain",
    )

    assert response.status_code == 201
    assert response.json()["vehicle"] is None


def test_another_customers_vehicle_is_404_everywhere_and_nothing_changes(shop: Shop) -> None:
    theirs = added(shop.as_other_customer, "AB12CDE")
    mine = shop.as_customer
    before = snapshot(Vehicle, Booking)

    assert_problem(mine.get(f"/me/vehicles/{theirs['id']}"), 404, "not_found")
    assert_problem(mine.delete(f"/me/vehicles/{theirs['id']}"), 404, "not_found")
    assert_problem(book(mine, shop, theirs["id"]), 404, "not_found")
    assert mine.get("/me/vehicles").json()["items"] == []
    # a vendor's staff have no garage of the customer's either
    assert_problem(shop.as_staff.get(f"/me/vehicles/{theirs['id']}"), 404, "not_found")

    assert snapshot(Vehicle, Booking) == before


@pytest.mark.parametrize("vehicle_id", [0, -1, "7", True, 2**63])
def test_a_vehicle_id_that_is_no_id_is_422(shop: Shop, vehicle_id: Any) -> None:
    response = shop.as_customer.post(
        "/bookings",
        {
            "listing_id": shop.listing.pk,
            "start": WEDNESDAY_10.isoformat(),
            "vehicle_id": vehicle_id,
        },
        idempotency_key=f"bad-{vehicle_id}",
    )

    assert_problem(response, 422, "validation_error")
    assert Booking.objects.count() == 0
