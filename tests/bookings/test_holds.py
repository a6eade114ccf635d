"""Taking a slot: the slots API, holds (POST /bookings) and every reason one is refused.

API.md "Availability and bookings"; ARCHITECTURE.md invariants 1 (no double booking) and
4 (exactly once). The clock is frozen on Monday 5 January 2026, 08:00 UTC (conftest).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from agora.bookings.models import Booking, BookingStatus, PickupOption
from agora.catalog.models import Category
from agora.core import clock
from agora.core.audit import audit_trail
from agora.vendors.models import Vendor
from tests.bookings.helpers import (
    NOW,
    PRICE,
    Shop,
    audit_actions,
    hold,
    make_shop,
    parse,
    rows,
    slot_starts,
    slots,
    tuesday,
    utc,
)
from tests.conftest import assert_problem
from tests.factories import ListingFactory, PriceRuleFactory

pytestmark = pytest.mark.django_db

HALF_HOUR = timedelta(minutes=30)
EVERY_DAY = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


# --- slots -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("timezone", "window", "first_start"),
    [
        # GMT (UTC+0): 09:00 London is 09:00 UTC
        ("Europe/London", (utc(2026, 1, 6), utc(2026, 1, 7)), utc(2026, 1, 6, 9)),
        # BST (UTC+1): 09:00 London is 08:00 UTC
        ("Europe/London", (utc(2026, 7, 7), utc(2026, 7, 8)), utc(2026, 7, 7, 8)),
        # AEDT (UTC+11): Tuesday 09:00 in Sydney is Monday 22:00 UTC
        ("Australia/Sydney", (utc(2026, 1, 5, 13), utc(2026, 1, 6, 13)), utc(2026, 1, 5, 22)),
        # AEST (UTC+10): Tuesday 09:00 in Sydney is Monday 23:00 UTC
        ("Australia/Sydney", (utc(2026, 7, 6, 14), utc(2026, 7, 7, 14)), utc(2026, 7, 6, 23)),
    ],
    ids=["london-winter", "london-summer", "sydney-summer", "sydney-winter"],
)
def test_slots_are_the_schedule_in_the_vendor_time_zone_given_in_utc(
    now: datetime, timezone: str, window: tuple[datetime, datetime], first_start: datetime
) -> None:
    # Given a vendor in `timezone` that sets Tuesday 09:00–17:00 through the API
    shop = make_shop(timezone=timezone)
    response = shop.as_owner.put(
        f"/vendors/{shop.vendor.pk}/schedule", {"weekly": {"tue": [["09:00", "17:00"]]}}
    )
    assert response.status_code == 200, response.content
    assert response.json() == {
        "timezone": timezone,
        "weekly": {**{day: [] for day in EVERY_DAY}, "tue": [["09:00", "17:00"]]},
        "overrides": [],
        "holidays": [],
    }

    # When anyone asks for one day of slots of its one-hour service
    response = slots(shop.as_other_customer, shop.listing, *window)

    # Then they come in the vendor's zone, as UTC instants: 09:00 to 16:00 local, half-hourly
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["timezone"] == timezone
    expected = [first_start + i * HALF_HOUR for i in range(15)]
    assert [parse(slot["start"]) for slot in body["slots"]] == expected
    assert [parse(slot["end"]) for slot in body["slots"]] == [
        s + timedelta(hours=1) for s in expected
    ]
    assert {slot["remaining"] for slot in body["slots"]} == {1}
    assert all(parse(slot["start"]).utcoffset() == timedelta(0) for slot in body["slots"])


def test_a_held_booking_takes_one_seat_of_three(now: datetime) -> None:
    # Given a class-like service with three seats
    shop = make_shop(capacity=3)
    window = (tuesday(9), tuesday(12))
    before = {
        parse(s["start"]): s["remaining"]
        for s in slots(shop.as_customer, shop.listing, *window).json()["slots"]
    }
    assert set(before.values()) == {3}

    # When a customer holds 10:00
    assert shop.hold(tuesday(10)).status_code == 201

    # Then 10:00 and the slots overlapping it (09:30, 10:30) have 2 left; the rest 3
    after = {
        parse(s["start"]): s["remaining"]
        for s in slots(shop.as_other_customer, shop.listing, *window).json()["slots"]
    }
    assert after == {
        tuesday(9): 3,
        tuesday(9, 30): 2,
        tuesday(10): 2,
        tuesday(10, 30): 2,
        tuesday(11): 3,
        tuesday(11, 30): 3,
    }


# --- holding a slot --------------------------------------------------------------------------


def test_a_hold_is_201_held_until_now_plus_hold_minutes(shop: Shop, settings: Any) -> None:
    settings.AGORA_HOLD_MINUTES = 7

    # When the customer holds Tuesday 10:00
    response = shop.hold(tuesday(10), notes="Rattle from the back")

    # Then the slot is theirs for AGORA_HOLD_MINUTES, at the listing's price
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "held"
    assert parse(body["hold_expires_at"]) == NOW + timedelta(minutes=7)
    assert (parse(body["start"]), parse(body["end"])) == (tuesday(10), tuesday(11))
    assert body["price"] == {"amount": PRICE, "currency": "GBP"}
    assert body["listing_id"] == shop.listing.pk
    assert body["customer_id"] == shop.customer.pk
    assert body["notes"] == "Rattle from the back"
    assert body["history"] == [
        {"status": "held", "at": body["created_at"], "actor": shop.customer.pk, "reason": ""}
    ]
    booking = Booking.objects.get()
    assert (booking.pk, booking.status, booking.customer_id) == (
        body["id"],
        "held",
        shop.customer.pk,
    )
    assert (booking.blocked_from, booking.blocked_until) == (tuesday(10), tuesday(11))
    assert booking.hold_expires_at == NOW + timedelta(minutes=7)
    assert booking.exclusive_unit_id == booking.unit_id
    assert audit_actions(booking) == ["booking.held"]


def test_a_taken_slot_is_409_slot_unavailable_and_changes_nothing(shop: Shop) -> None:
    first = shop.held(tuesday(10))
    before = rows()

    response = shop.hold(tuesday(10), client=shop.as_other_customer)

    assert_problem(response, 409, "slot_unavailable")
    assert rows() == before
    assert list(Booking.objects.values_list("pk", flat=True)) == [first.pk]


@pytest.mark.parametrize(
    ("start", "listing_changes"),
    [
        (tuesday(10, 15), {}),  # off the half-hour grid
        (tuesday(16, 30), {}),  # would end at 17:30, after closing
        (tuesday(17), {}),  # closed
        (tuesday(8, 30), {}),  # not open yet
        (utc(2026, 1, 10, 10), {}),  # a Saturday
        (utc(2026, 1, 5, 9), {"min_notice_minutes": 120}),  # an hour from now, needs two
        (utc(2026, 1, 5, 7), {}),  # in the past
        (utc(2026, 2, 10, 10), {"horizon_days": 30}),  # beyond the 30-day horizon
    ],
    ids=[
        "off-grid",
        "runs-past-closing",
        "after-hours",
        "before-hours",
        "saturday",
        "too-soon",
        "past",
        "beyond-horizon",
    ],
)
def test_a_start_that_is_not_a_slot_is_422_invalid_slot(
    shop: Shop, start: datetime, listing_changes: dict[str, int]
) -> None:
    for name, value in listing_changes.items():
        setattr(shop.listing, name, value)
    shop.listing.save()
    before = rows()

    response = shop.hold(start)

    body = assert_problem(response, 422, "invalid_slot")
    assert body["errors"][0]["loc"] == ["body", "start"]
    assert rows() == before


def test_the_edges_of_notice_and_horizon_are_bookable(shop: Shop) -> None:
    shop.listing.min_notice_minutes = 60
    shop.listing.horizon_days = 30
    shop.listing.save()

    # exactly an hour from now (Monday 09:00), and the last slot inside 30 days
    assert shop.hold(utc(2026, 1, 5, 9)).status_code == 201
    assert shop.hold(utc(2026, 2, 3, 16)).status_code == 201
    assert shop.hold(utc(2026, 2, 4, 9)).status_code == 422


def test_a_product_cannot_be_booked(shop: Shop) -> None:
    product = ListingFactory(
        vendor=shop.vendor,
        kind="product",
        category=Category.objects.get(slug="auto-parts"),
        attributes={"condition": "new"},
        stock=3,
    )
    before = rows()

    response = hold(shop.as_customer, product, tuesday(10))

    assert_problem(response, 422, "not_bookable")
    assert rows() == before  # not even a capacity unit for it


def test_a_draft_listing_is_404(shop: Shop) -> None:
    draft = ListingFactory(vendor=shop.vendor, status="draft")
    before = rows()

    assert_problem(hold(shop.as_customer, draft, tuesday(10)), 404, "not_found")
    assert_problem(slots(shop.as_customer, draft, tuesday(9), tuesday(17)), 404, "not_found")
    assert rows() == before


def test_a_suspended_vendor_listing_is_404(shop: Shop) -> None:
    Vendor.objects.filter(pk=shop.vendor.pk).update(status="suspended")
    before = rows()

    assert_problem(shop.hold(tuesday(10)), 404, "not_found")
    assert_problem(slots(shop.as_customer, shop.listing, tuesday(9), tuesday(17)), 404, "not_found")
    assert rows() == before


def test_an_unknown_listing_is_404(shop: Shop) -> None:
    assert_problem(hold(shop.as_customer, 999_999, tuesday(10)), 404, "not_found")
    assert Booking.objects.count() == 0


def test_a_time_without_offset_is_422(shop: Shop) -> None:
    response = shop.as_customer.post(
        "/bookings", {"listing_id": shop.listing.pk, "start": "2026-01-06T10:00:00"}
    )
    assert_problem(response, 422, "validation_error")
    assert Booking.objects.count() == 0


def test_anonymous_cannot_hold(shop: Shop) -> None:
    from tests.conftest import ApiClient

    assert_problem(hold(ApiClient(), shop.listing, tuesday(10)), 401, "not_authenticated")
    assert Booking.objects.count() == 0


# --- what blocks a slot ------------------------------------------------------------------------


def test_a_buffer_after_blocks_the_following_slot(shop: Shop) -> None:
    # Given a service with 30 minutes of clean-up after it, booked at 10:00 (blocks to 11:30)
    shop.listing.buffer_after_minutes = 30
    shop.listing.save()
    booking = shop.held(tuesday(10))
    assert (booking.blocked_from, booking.blocked_until) == (tuesday(10), tuesday(11, 30))

    # Then 11:00 (blocked 11:00–12:30) overlaps the clean-up and 11:30 does not
    assert slot_starts(shop.as_other_customer, shop.listing, tuesday(9), tuesday(12)) == [
        tuesday(11, 30)
    ]
    assert_problem(shop.hold(tuesday(11), client=shop.as_other_customer), 409, "slot_unavailable")
    assert shop.hold(tuesday(11, 30), client=shop.as_other_customer).status_code == 201
    # and a booking at 09:00, whose clean-up runs to 10:30, would overlap the one at 10:00
    assert_problem(shop.hold(tuesday(9), client=shop.as_other_customer), 409, "slot_unavailable")


def test_two_listings_sharing_a_capacity_1_resource_block_each_other(shop: Shop) -> None:
    # Given a second service, and both assigned to one bay
    tyres = ListingFactory(vendor=shop.vendor, title="Tyres", duration_minutes=30)
    response = shop.as_owner.post(
        f"/vendors/{shop.vendor.pk}/resources", {"name": "Bay 1", "capacity": 1}
    )
    assert response.status_code == 201, response.content
    bay = response.json()
    assert (bay["name"], bay["capacity"], bay["kind"]) == ("Bay 1", 1, "bay")
    for listing in (shop.listing, tyres):
        response = shop.as_owner.put(f"/listings/{listing.pk}/resource", {"resource_id": bay["id"]})
        assert response.status_code == 204, response.content

    # When the service is held at 10:00–11:00
    booking = shop.held(tuesday(10))
    assert booking.unit.resource_id == bay["id"]

    # Then the tyre fitting cannot use the bay from 10:00 to 11:00
    assert slot_starts(shop.as_other_customer, tyres, tuesday(9), tuesday(12)) == [
        tuesday(9),
        tuesday(9, 30),
        tuesday(11),
        tuesday(11, 30),
    ]
    for start in (tuesday(10), tuesday(10, 30)):
        assert_problem(hold(shop.as_other_customer, tyres, start), 409, "slot_unavailable")
    assert hold(shop.as_other_customer, tyres, tuesday(11)).status_code == 201
    # and the other way round: a tyre fitting at 11:00 blocks the service at 10:30 and 11:00
    assert_problem(shop.hold(tuesday(11)), 409, "slot_unavailable")
    assert Booking.objects.filter(status="held").count() == 2


def test_a_time_block_removes_slots_and_refuses_holds(shop: Shop) -> None:
    response = shop.as_staff.post(
        f"/vendors/{shop.vendor.pk}/blocks",
        {"start": tuesday(12).isoformat(), "end": tuesday(14).isoformat(), "reason": "Lift repair"},
    )
    assert response.status_code == 201, response.content
    assert response.json()["reason"] == "Lift repair"

    assert slot_starts(shop.as_customer, shop.listing, tuesday(10), tuesday(15)) == [
        tuesday(10),
        tuesday(10, 30),
        tuesday(11),
        tuesday(14),
        tuesday(14, 30),
    ]
    before = rows()
    for start in (tuesday(11, 30), tuesday(12), tuesday(13, 30)):
        assert_problem(shop.hold(start), 409, "slot_unavailable")
    assert rows() == before

    # Removing the block frees the time again
    block_id = response.json()["id"]
    assert shop.as_staff.delete(f"/vendors/{shop.vendor.pk}/blocks/{block_id}").status_code == 204
    assert shop.hold(tuesday(12)).status_code == 201


# --- expiry --------------------------------------------------------------------------------------


def test_an_expired_hold_frees_the_seat_to_the_next_booker_at_once(shop: Shop) -> None:
    stale = shop.held(tuesday(10))
    assert_problem(shop.hold(tuesday(10), client=shop.as_other_customer), 409, "slot_unavailable")

    # When the hold runs out (no sweeping task has run)
    clock.advance(timedelta(minutes=10))
    assert slot_starts(shop.as_other_customer, shop.listing, tuesday(10), tuesday(10, 1)) == [
        tuesday(10)
    ]
    response = shop.hold(tuesday(10), client=shop.as_other_customer)

    # Then the next booker gets it, and the old hold is expired, by no one, on the record
    assert response.status_code == 201, response.content
    stale.refresh_from_db()
    assert stale.status == BookingStatus.EXPIRED
    expiry = audit_trail(stale).get(action="booking.expired")
    assert (expiry.actor_id, expiry.data["from"], expiry.data["reason"]) == (
        None,
        "held",
        "hold expired",
    )
    assert expiry.at == NOW + timedelta(minutes=10)
    assert Booking.objects.filter(status="held").get().customer_id == shop.other_customer.pk


def test_a_hold_one_second_before_expiry_still_holds(shop: Shop) -> None:
    shop.held(tuesday(10))
    clock.advance(timedelta(minutes=10) - timedelta(seconds=1))

    assert_problem(shop.hold(tuesday(10), client=shop.as_other_customer), 409, "slot_unavailable")


# --- exactly once --------------------------------------------------------------------------------


def test_an_idempotent_retry_returns_the_same_booking_and_holds_nothing_more(shop: Shop) -> None:
    first = hold(shop.as_customer, shop.listing, tuesday(10), idempotency_key="hold-1")
    assert first.status_code == 201, first.content

    retry = hold(shop.as_customer, shop.listing, tuesday(10), idempotency_key="hold-1")

    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert list(Booking.objects.values_list("pk", flat=True)) == [first.json()["id"]]
    assert audit_actions(Booking.objects.get()) == ["booking.held"]

    # the same key for another slot is refused, and holds nothing
    other = hold(shop.as_customer, shop.listing, tuesday(14), idempotency_key="hold-1")
    assert_problem(other, 422, "idempotency_key_reused")
    assert Booking.objects.count() == 1


# --- pickup and price options ------------------------------------------------------------------

PICKUP = {
    "pickup_address": "1 Camden High St, London NW1",
    "pickup_after": "2026-01-06T08:00:00+00:00",
    "pickup_before": "2026-01-06T09:00:00+00:00",
    "return_address": "1 Camden High St, London NW1",
    "instructions": "Keys with the concierge",
}


def test_pickup_and_drop_adds_its_fee(shop: Shop) -> None:
    PickupOption.objects.create(listing=shop.listing, fee_amount=15_00)

    response = shop.hold(tuesday(10), pickup=PICKUP)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["price"] == {"amount": PRICE + 15_00, "currency": "GBP"}
    assert body["pickup"] == {
        **PICKUP,
        "return_after": None,
        "return_before": None,
    }
    assert body["pickup_confirmed"] is False
    assert Booking.objects.get().price_amount == PRICE + 15_00


def test_pickup_without_the_option_is_422(shop: Shop) -> None:
    before = rows()

    body = assert_problem(shop.hold(tuesday(10), pickup=PICKUP), 422, "validation_error")

    assert body["errors"][0]["loc"] == ["body", "pickup"]
    assert rows() == before


def test_a_pickup_window_that_ends_before_it_starts_is_422(shop: Shop) -> None:
    PickupOption.objects.create(listing=shop.listing, fee_amount=15_00)
    backwards = {**PICKUP, "pickup_before": "2026-01-06T07:00:00+00:00"}

    body = assert_problem(shop.hold(tuesday(10), pickup=backwards), 422, "validation_error")

    assert body["errors"][0]["loc"] == ["body", "pickup", "pickup_before"]
    assert Booking.objects.count() == 0


def test_an_emergency_multiplier_prices_the_hold_exactly(shop: Shop) -> None:
    PriceRuleFactory(
        listing=shop.listing,
        dimension="urgency",
        option="emergency",
        adjustment="multiplier",
        amount=0,
        multiplier_bp=15000,
    )
    PriceRuleFactory(listing=shop.listing, dimension="complexity", option="hard", amount=10_00)

    emergency = shop.hold(tuesday(10), options={"urgency": "emergency"})
    both = shop.hold(tuesday(11), options={"urgency": "emergency", "complexity": "hard"})

    # £45.99 × 1.5 = £68.985, rounded half up to £68.99; the add-on comes after
    assert emergency.json()["price"] == {"amount": 68_99, "currency": "GBP"}
    assert both.json()["price"] == {"amount": 78_99, "currency": "GBP"}


def test_an_unknown_price_option_is_422(shop: Shop) -> None:
    body = assert_problem(
        shop.hold(tuesday(10), options={"urgency": "yesterday"}), 422, "validation_error"
    )
    assert body["errors"][0]["loc"] == ["body", "options", "urgency"]
    assert Booking.objects.count() == 0
