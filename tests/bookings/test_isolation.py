"""Tenant isolation of every booking endpoint (ARCHITECTURE.md invariant 5).

A booking is its customer's and its vendor's staff's. Everyone else — another vendor's
owner or staff, another customer — gets 404 for every booking endpoint, exactly as for a
booking that does not exist; anonymous callers get 401; the customer gets 404 for the
vendor's actions (they are not staff) and the vendor's staff get 404 for paying (they are
not the customer). Every refusal leaves every booking, audit, payment and ledger row as it
was. The same requests by the entitled caller succeed, so the refusals are about the caller.

tests/vendors/test_isolation.py imports ENDPOINTS so its whole-API check covers these routes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from agora.api import api
from agora.bookings.models import Booking, PickupOption
from tests.bookings.helpers import NOW, Shop, rows, tuesday
from tests.bookings.test_holds import PICKUP
from tests.conftest import ApiClient, assert_problem, without_request_id
from tests.factories import (
    BookingFactory,
    UserFactory,
    VendorFactory,
    VendorMembershipFactory,
)
from tests.vendors.helpers import client_for

pytestmark = pytest.mark.django_db

STAFF = "vendor staff"  # any member of the booking's vendor
CUSTOMER = "customer"  # the booking's customer only
PARTY = "customer or staff"


def _held(shop: Shop) -> Booking:
    return shop.held(tuesday(9))


def _pending(shop: Shop) -> Booking:
    return shop.paid(tuesday(10))


def _accepted(shop: Shop) -> Booking:
    return shop.accepted(tuesday(11))


def _started(shop: Shop) -> Booking:
    """Accepted, and its start has passed (so a no-show may be recorded)."""
    return BookingFactory(
        listing=shop.listing,
        customer=shop.customer,
        status="accepted",
        start=NOW - timedelta(hours=1),
        paid_at=NOW - timedelta(days=1),
    )


def _with_pickup(shop: Shop) -> Booking:
    PickupOption.objects.create(listing=shop.listing, fee_amount=15_00)
    return shop.paid(tuesday(13), pickup=PICKUP)


@dataclass(frozen=True)
class Endpoint:
    method: str
    route: str
    needs: str
    booking: Callable[[Shop], Booking]
    body: dict[str, Any] | None = None
    ok: str = field(default="")  # the status the entitled caller's request leads to

    @property
    def name(self) -> str:
        return f"{self.method} {self.route}"

    def call(self, client: ApiClient, booking: Booking) -> Any:
        path = self.route.replace("{booking_id}", str(booking.pk))
        if self.method == "GET":
            return client.get(path)
        return client.post(path, self.body)


ENDPOINTS = [
    Endpoint("GET", "/bookings/{booking_id}", PARTY, _pending, ok="pending"),
    Endpoint(
        "POST",
        "/bookings/{booking_id}/pay",
        CUSTOMER,
        _held,
        {"payment_method": "pm_card_visa"},
        ok="pending",
    ),
    Endpoint("POST", "/bookings/{booking_id}/accept", STAFF, _pending, ok="accepted"),
    Endpoint(
        "POST", "/bookings/{booking_id}/decline", STAFF, _pending, {"reason": "x"}, ok="declined"
    ),
    Endpoint("POST", "/bookings/{booking_id}/start", STAFF, _accepted, ok="in_progress"),
    Endpoint("POST", "/bookings/{booking_id}/complete", STAFF, _accepted, ok="completed"),
    Endpoint("POST", "/bookings/{booking_id}/no-show", STAFF, _started, ok="no_show"),
    Endpoint("POST", "/bookings/{booking_id}/pickup/confirm", STAFF, _with_pickup, ok="pending"),
    Endpoint("POST", "/bookings/{booking_id}/cancel", PARTY, _accepted, ok="cancelled"),
    Endpoint(
        "POST",
        "/bookings/{booking_id}/reschedule",
        PARTY,
        _accepted,
        {"start": tuesday(15).isoformat()},
        ok="accepted",
    ),
]

OUTSIDERS = ("rival_owner", "rival_staff", "other_customer")
REFUSED: dict[str, tuple[str, ...]] = {
    PARTY: OUTSIDERS,
    STAFF: (*OUTSIDERS, "customer"),
    CUSTOMER: (*OUTSIDERS, "owner", "staff"),
}
ENTITLED = {PARTY: ("customer", "staff"), STAFF: ("staff", "owner"), CUSTOMER: ("customer",)}


@dataclass
class World:
    shop: Shop
    rival_owner: Any
    rival_staff: Any

    def client(self, caller: str) -> ApiClient:
        if caller == "anonymous":
            return ApiClient()
        people = {
            "rival_owner": self.rival_owner,
            "rival_staff": self.rival_staff,
            "other_customer": self.shop.other_customer,
            "customer": self.shop.customer,
            "owner": self.shop.owner,
            "staff": self.shop.staff,
        }
        return client_for(people[caller])


@pytest.fixture
def world(shop: Shop) -> World:
    rival_owner, rival_staff = UserFactory.create_batch(2)
    rival = VendorFactory(owner=rival_owner, name="Rival Motors")
    VendorMembershipFactory(vendor=rival, user=rival_staff, role="staff")
    # the rival has bookings of its own, so its staff's vendor ids are not empty
    BookingFactory(listing__vendor=rival, customer=shop.other_customer)
    return World(shop=shop, rival_owner=rival_owner, rival_staff=rival_staff)


def refusals() -> list[Any]:
    return [
        pytest.param(endpoint, caller, id=f"{endpoint.name} as {caller}")
        for endpoint in ENDPOINTS
        for caller in (*REFUSED[endpoint.needs], "anonymous")
    ]


@pytest.mark.parametrize(("endpoint", "caller"), refusals())
def test_only_the_booking_parties_reach_a_booking(
    world: World, endpoint: Endpoint, caller: str
) -> None:
    # Given a booking of A's, in a state where the endpoint would work for its parties
    booking = endpoint.booking(world.shop)
    client = world.client(caller)
    before = rows()

    # When someone not entitled calls it
    response = endpoint.call(client, booking)

    # Then it does not exist for them, and nothing changed
    if caller == "anonymous":
        assert_problem(response, 401, "not_authenticated")
    else:
        assert_problem(response, 404, "not_found")
    assert rows() == before


@pytest.mark.parametrize(
    ("endpoint", "caller"),
    [
        pytest.param(endpoint, caller, id=f"{endpoint.name} as {caller}")
        for endpoint in ENDPOINTS
        for caller in ENTITLED[endpoint.needs]
    ],
)
def test_the_same_requests_succeed_for_the_booking_parties(
    world: World, endpoint: Endpoint, caller: str
) -> None:
    booking = endpoint.booking(world.shop)

    response = endpoint.call(world.client(caller), booking)

    assert response.status_code == 200, (endpoint.name, response.content)
    assert response.json()["status"] == endpoint.ok
    booking.refresh_from_db()
    assert booking.status == endpoint.ok


def test_a_customer_cannot_accept_their_own_booking(shop: Shop) -> None:
    booking = shop.paid(tuesday(10))
    before = rows()

    assert_problem(shop.as_customer.post(f"/bookings/{booking.pk}/accept"), 404, "not_found")

    assert rows() == before
    booking.refresh_from_db()
    assert booking.status == "pending"


def test_a_missing_booking_looks_the_same_as_another_tenants(world: World) -> None:
    booking = world.shop.paid(tuesday(10))
    rival = world.client("rival_owner")

    theirs = rival.get(f"/bookings/{booking.pk}")
    missing = rival.get("/bookings/999999")

    # the same in every field but the request's own id
    assert without_request_id(assert_problem(theirs, 404, "not_found")) == without_request_id(
        assert_problem(missing, 404, "not_found")
    )


def test_lists_show_only_the_callers_own_bookings(world: World) -> None:
    shop = world.shop
    mine = shop.paid(tuesday(10))

    for caller in ("rival_owner", "rival_staff", "other_customer"):
        client = world.client(caller)
        for params in ({}, {"as": "vendor"}):
            ids = [item["id"] for item in client.get("/bookings", **params).json()["items"]]
            assert mine.pk not in ids, (caller, params)
    assert [b["id"] for b in shop.as_customer.get("/bookings").json()["items"]] == [mine.pk]
    # the customer is on no vendor's staff: as vendor they see nothing
    assert shop.as_customer.get("/bookings", **{"as": "vendor"}).json()["items"] == []


def test_every_booking_route_is_covered() -> None:
    schema = api.get_openapi_schema(path_prefix="")
    routes = {
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        # A booking's conversation has its own matrix: tests/messaging/test_isolation.py;
        # its job stages theirs: tests/automotive/test_tracking.py.
        if "{booking_id}" in path and "/messages" not in path and "/stages" not in path
        for method in operations
    }
    assert routes == {endpoint.name for endpoint in ENDPOINTS}
