"""A booking's life with its money: pay, the vendor's answer, the work, every way it ends,
the automatic moves, and the reads (lists, agenda, calendar feed).

ARCHITECTURE.md "Transactions" (Booking) and "Money flow", invariants 3, 4 and 6. The clock
is frozen on Monday 5 January 2026, 08:00 UTC; the service costs £45.99, so the default
3 % commission is £1.38 (137.97 rounded) and the 2.9 % fee £1.33 (133.371): the vendor's
share in escrow is £43.28.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from icalendar import Calendar

from agora.bookings.models import Booking, BookingStatus, CancellationPolicy
from agora.bookings.services import lifecycle
from agora.bookings.states import BOOKING_LIFECYCLE
from agora.core import clock
from agora.core.audit import audit_trail
from agora.core.money import Money
from agora.payments import ledger
from agora.payments.models import JournalEntry, JournalTransaction, Payment, Refund
from agora.payments.selectors import vendor_balance
from tests.bookings.helpers import (
    NOW,
    PRICE,
    Shop,
    audit_actions,
    history,
    make_shop,
    parse,
    pay,
    rows,
    tuesday,
    utc,
)
from tests.conftest import ApiClient, assert_problem
from tests.factories import BookingFactory, ListingFactory, VendorFactory
from tests.vendors.helpers import client_for

pytestmark = pytest.mark.django_db

VENDOR_SHARE = PRICE - 138 - 133  # £45.99 − 3 % − 2.9 %, each rounded half up
assert Money(PRICE, "GBP").percent(300) == Money(138, "GBP")
assert Money(PRICE, "GBP").percent(290) == Money(133, "GBP")


def gbp(amount: int) -> Money:
    return Money(amount, "GBP")


def balance(shop: Shop) -> tuple[Money, Money]:
    """The vendor's (pending, available) money."""
    current = vendor_balance(vendor_id=shop.vendor.pk, currency="GBP")
    return current.pending, current.available


def status_of(booking: Booking) -> str:
    booking.refresh_from_db()
    return booking.status


# --- paying ------------------------------------------------------------------------------------


def test_paying_a_hold_makes_it_pending_and_puts_the_vendor_share_in_escrow(shop: Shop) -> None:
    booking = shop.held(tuesday(10))

    response = pay(shop.as_customer, booking)

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["status"], body["hold_expires_at"]) == (booking.pk, "pending", None)
    assert [(h["status"], h["actor"]) for h in body["history"]] == [
        ("held", shop.customer.pk),
        ("pending", shop.customer.pk),
    ]
    assert audit_actions(booking) == ["booking.held", "booking.pending"]
    booking.refresh_from_db()
    assert booking.paid_at == NOW
    payment = Payment.objects.get()
    assert (payment.reference, payment.gross_amount, payment.commission_amount) == (
        f"booking:{booking.pk}",
        PRICE,
        138,
    )
    assert payment.fee_amount == 133
    assert booking.payment_reference == payment.charge_id
    assert balance(shop) == (gbp(VENDOR_SHARE), gbp(0))
    assert JournalTransaction.objects.get().kind == "capture"
    assert ledger.trial_balance() == {"GBP": 0}


def test_paying_an_auto_accepting_listing_accepts_at_once(now: datetime) -> None:
    shop = make_shop(auto_accept=True)
    booking = shop.held(tuesday(10))

    response = pay(shop.as_customer, booking)

    assert response.json()["status"] == "accepted"
    assert history(shop.as_customer, booking) == [
        ("held", shop.customer.pk),
        ("accepted", shop.customer.pk),
    ]
    booking.refresh_from_db()
    assert (booking.paid_at, booking.accepted_at) == (NOW, NOW)
    assert balance(shop) == (gbp(VENDOR_SHARE), gbp(0))


@pytest.mark.parametrize(
    ("method", "code"),
    [
        ("pm_card_chargeDeclined", "card_declined"),
        ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds"),
    ],
)
def test_a_declined_card_is_402_and_the_hold_stays(shop: Shop, method: str, code: str) -> None:
    booking = shop.held(tuesday(10))
    before = rows()

    assert_problem(pay(shop.as_customer, booking, method), 402, code)

    assert rows() == before  # still held, same expiry; no payment, no ledger entry
    assert status_of(booking) == "held"
    assert JournalEntry.objects.count() == 0
    # and the customer can pay with another card while the hold lasts
    assert pay(shop.as_customer, booking).json()["status"] == "pending"


def test_paying_an_expired_hold_is_409_hold_expired(shop: Shop) -> None:
    booking = shop.held(tuesday(10))
    clock.advance(timedelta(minutes=10))
    before = rows()

    assert_problem(pay(shop.as_customer, booking), 409, "hold_expired")
    assert rows() == before

    # the same once the sweeping task has marked it expired
    assert lifecycle.expire_stale_holds() == 1
    before = rows()
    assert_problem(pay(shop.as_customer, booking), 409, "hold_expired")
    assert rows() == before
    assert Payment.objects.count() == 0


def test_paying_twice_charges_once(shop: Shop) -> None:
    booking = shop.held(tuesday(10))
    first = shop.as_customer.post(
        f"/bookings/{booking.pk}/pay", {"payment_method": "pm_card_visa"}, idempotency_key="p1"
    )
    retry = shop.as_customer.post(
        f"/bookings/{booking.pk}/pay", {"payment_method": "pm_card_visa"}, idempotency_key="p1"
    )
    again = shop.as_customer.post(
        f"/bookings/{booking.pk}/pay", {"payment_method": "pm_card_visa"}, idempotency_key="p2"
    )

    assert first.status_code == retry.status_code == 200
    assert retry.json() == first.json()
    assert_problem(again, 409, "invalid_transition")
    assert Payment.objects.count() == 1
    assert JournalTransaction.objects.filter(kind="capture").count() == 1
    assert balance(shop) == (gbp(VENDOR_SHARE), gbp(0))


# --- the vendor's answer and the work ----------------------------------------------------------


def test_the_vendor_accepts(shop: Shop) -> None:
    booking = shop.paid(tuesday(10))

    response = shop.as_staff.post(f"/bookings/{booking.pk}/accept")

    assert response.status_code == 200
    assert response.json() == {"id": booking.pk, "status": "accepted"}
    assert history(shop.as_customer, booking)[-1] == ("accepted", shop.staff.pk)
    assert audit_actions(booking)[-1] == "booking.accepted"
    booking.refresh_from_db()
    assert booking.accepted_at == NOW


def test_the_vendor_declines_and_the_customer_gets_everything_back(shop: Shop) -> None:
    booking = shop.paid(tuesday(10))
    assert balance(shop) == (gbp(VENDOR_SHARE), gbp(0))

    response = shop.as_owner.post(f"/bookings/{booking.pk}/decline", {"reason": "No parts"})

    assert response.json() == {"id": booking.pk, "status": "declined"}
    assert history(shop.as_customer, booking)[-1] == ("declined", shop.owner.pk)
    entry = audit_trail(booking).last()
    assert (entry.action, entry.data["reason"]) == ("booking.declined", "No parts")
    refund = Refund.objects.get()
    assert (refund.amount, refund.payment.reference) == (PRICE, f"booking:{booking.pk}")
    assert Payment.objects.get().status == "refunded"
    assert balance(shop) == (gbp(0), gbp(0))  # escrow back to nothing
    assert JournalTransaction.objects.filter(kind="refund").count() == 1
    assert ledger.trial_balance() == {"GBP": 0}
    # and the slot is free again
    assert shop.hold(tuesday(10), client=shop.as_other_customer).status_code == 201


def test_start_then_complete(shop: Shop) -> None:
    booking = shop.accepted(tuesday(10))
    clock.advance(timedelta(hours=26))  # Tuesday 10:00 (a new token: they last 12 hours)
    staff = client_for(shop.staff)

    assert staff.post(f"/bookings/{booking.pk}/start").json()["status"] == "in_progress"
    clock.advance(timedelta(hours=1))
    assert staff.post(f"/bookings/{booking.pk}/complete").json()["status"] == "completed"

    booking.refresh_from_db()
    assert booking.completed_at == tuesday(11)
    detail = client_for(shop.customer).get(f"/bookings/{booking.pk}").json()
    assert [(h["status"], parse(h["at"]), h["actor"]) for h in detail["history"]] == [
        ("held", NOW, shop.customer.pk),
        ("pending", NOW, shop.customer.pk),
        ("accepted", NOW, shop.staff.pk),
        ("in_progress", tuesday(10), shop.staff.pk),
        ("completed", tuesday(11), shop.staff.pk),
    ]
    assert audit_actions(booking)[-2:] == ["booking.in_progress", "booking.completed"]
    assert balance(shop) == (gbp(VENDOR_SHARE), gbp(0))  # escrow until the release window


def test_vendor_staff_may_complete_an_accepted_booking_before_its_start(shop: Shop) -> None:
    booking = shop.accepted(tuesday(10))

    response = shop.as_staff.post(f"/bookings/{booking.pk}/complete")

    assert response.json() == {"id": booking.pk, "status": "completed"}
    booking.refresh_from_db()
    assert booking.completed_at == NOW


def test_a_no_show_only_after_the_start(shop: Shop) -> None:
    booking = shop.accepted(tuesday(10))
    before = rows()

    assert_problem(shop.as_staff.post(f"/bookings/{booking.pk}/no-show"), 409, "invalid_transition")
    assert rows() == before

    clock.advance(tuesday(10) - NOW)
    response = client_for(shop.staff).post(f"/bookings/{booking.pk}/no-show")

    assert response.json() == {"id": booking.pk, "status": "no_show"}
    assert history(client_for(shop.customer), booking)[-1] == ("no_show", shop.staff.pk)
    assert Refund.objects.count() == 0  # nothing is refunded


# --- cancelling ---------------------------------------------------------------------------------


def test_the_customer_cancels_before_the_free_window_ends_and_gets_everything_back(
    shop: Shop,
) -> None:
    booking = shop.accepted(tuesday(10))  # 26 hours away; free until 24 hours before

    response = shop.as_customer.post(f"/bookings/{booking.pk}/cancel", {"reason": "Sold the car"})

    assert response.json() == {"id": booking.pk, "status": "cancelled"}
    assert Refund.objects.get().amount == PRICE
    detail = shop.as_customer.get(f"/bookings/{booking.pk}").json()
    assert detail["cancellation_fee"] == {"amount": 0, "currency": "GBP"}
    assert (detail["history"][-1]["status"], detail["history"][-1]["actor"]) == (
        "cancelled",
        shop.customer.pk,
    )
    entry = audit_trail(booking).last()
    assert (entry.action, entry.data["by"], entry.data["fee"]) == (
        "booking.cancelled",
        "customer",
        0,
    )
    assert balance(shop) == (gbp(0), gbp(0))


def test_the_customer_cancels_late_and_the_vendor_keeps_half(shop: Shop) -> None:
    booking = shop.accepted(tuesday(10))
    clock.advance(timedelta(hours=3))  # Monday 11:00: 23 hours before the start

    response = shop.as_customer.post(f"/bookings/{booking.pk}/cancel")

    assert response.json()["status"] == "cancelled"
    fee = gbp(PRICE).percent(5000)  # £22.995 rounded half away from zero
    assert fee == gbp(2300)
    assert Refund.objects.get().amount == PRICE - 2300
    detail = shop.as_customer.get(f"/bookings/{booking.pk}").json()
    assert detail["cancellation_fee"] == {"amount": 2300, "currency": "GBP"}
    booking.refresh_from_db()
    assert (booking.cancellation_fee_amount, booking.cancelled_at) == (
        2300,
        NOW + timedelta(hours=3),
    )
    # the refund gave back its proportional part of the vendor's share: 2299 of 4599
    # split over (4328, 138, 133) by largest remainder is (2164, 69, 66)
    assert balance(shop) == (gbp(VENDOR_SHARE - 2164), gbp(0))
    assert ledger.trial_balance() == {"GBP": 0}


def test_a_vendor_cancellation_policy_sets_the_window_and_the_fee(shop: Shop) -> None:
    response = shop.as_owner.put(
        f"/vendors/{shop.vendor.pk}/cancellation-policy",
        {"free_until_hours": 48, "late_fee_bp": 2000, "acceptance_timeout_hours": 12},
    )
    assert response.json() == {
        "free_until_hours": 48,
        "late_fee_bp": 2000,
        "acceptance_timeout_hours": 12,
    }
    booking = shop.accepted(tuesday(10))  # 26 hours away: inside the 48-hour window

    shop.as_customer.post(f"/bookings/{booking.pk}/cancel")

    assert Refund.objects.get().amount == PRICE - 920  # 20 % of 4599 = 919.8 → 920
    booking.refresh_from_db()
    assert booking.cancellation_fee_amount == 920


def test_the_vendor_cancels_late_and_refunds_everything(shop: Shop) -> None:
    booking = shop.accepted(tuesday(10))
    clock.advance(timedelta(hours=25))

    response = client_for(shop.staff).post(
        f"/bookings/{booking.pk}/cancel", {"reason": "Mechanic ill"}
    )

    assert response.json()["status"] == "cancelled"
    assert Refund.objects.get().amount == PRICE
    booking.refresh_from_db()
    assert booking.cancellation_fee_amount == 0
    entry = audit_trail(booking).last()
    assert (entry.actor_id, entry.data["by"], entry.data["reason"]) == (
        shop.staff.pk,
        "vendor",
        "Mechanic ill",
    )
    assert balance(shop) == (gbp(0), gbp(0))


def test_cancelling_an_unpaid_hold_refunds_nothing(shop: Shop) -> None:
    booking = shop.held(tuesday(10))

    assert shop.as_customer.post(f"/bookings/{booking.pk}/cancel").json()["status"] == "cancelled"

    assert Refund.objects.count() == 0
    assert JournalEntry.objects.count() == 0
    assert shop.hold(tuesday(10), client=shop.as_other_customer).status_code == 201


# --- every move the state machine forbids ---------------------------------------------------

ACTIONS = {
    "pay": BookingStatus.PENDING,
    "accept": BookingStatus.ACCEPTED,
    "decline": BookingStatus.DECLINED,
    "start": BookingStatus.IN_PROGRESS,
    "complete": BookingStatus.COMPLETED,
    "cancel": BookingStatus.CANCELLED,
    "no-show": BookingStatus.NO_SHOW,
}
# Allowed by the machine, but not as an action of its own: a vendor cannot accept a hold
# nobody has paid for (auto-accepting happens inside `pay`).
ALSO_REFUSED = {(BookingStatus.HELD, "accept")}
ILLEGAL = sorted(
    {
        (state, action)
        for state in BookingStatus
        for action, target in ACTIONS.items()
        if not BOOKING_LIFECYCLE.can(state, target)
    }
    | ALSO_REFUSED
)


@pytest.mark.parametrize(("state", "action"), ILLEGAL, ids=[f"{s}-{a}" for s, a in ILLEGAL])
def test_every_move_the_lifecycle_forbids_is_409_and_changes_nothing(
    shop: Shop, state: str, action: str
) -> None:
    # Given a booking in `state` whose start has passed (so no-show is not refused for that)
    paid = state not in ("held",)
    booking = BookingFactory(
        listing=shop.listing,
        customer=shop.customer,
        status=state,
        start=NOW - timedelta(hours=2),
        paid_at=NOW - timedelta(days=1) if paid else None,
    )
    client = shop.as_customer if action == "pay" else shop.as_staff
    body = {"payment_method": "pm_card_visa"} if action == "pay" else None
    before = rows()

    response = client.post(f"/bookings/{booking.pk}/{action}", body)

    problem = assert_problem(response, 409, "invalid_transition")
    assert problem["from"] == state
    assert rows() == before


def test_the_illegal_moves_cover_every_state_and_action() -> None:
    # 11 of the 70 (state, action) pairs are moves of the machine: held → pay, accept,
    # cancel; pending → accept, decline, cancel; accepted → start, complete, cancel, no-show;
    # in_progress → complete. Accepting a hold is refused on top of the machine.
    assert len(ILLEGAL) == 70 - 11 + 1
    assert {state for state, _ in ILLEGAL} == set(BookingStatus)


def test_the_customer_may_not_cancel_once_work_started(shop: Shop) -> None:
    booking = shop.accepted(tuesday(10))
    shop.as_staff.post(f"/bookings/{booking.pk}/start")
    before = rows()

    assert_problem(
        shop.as_customer.post(f"/bookings/{booking.pk}/cancel"), 409, "invalid_transition"
    )
    assert rows() == before


# --- rescheduling --------------------------------------------------------------------------------


def test_rescheduling_to_a_free_slot_moves_it_and_keeps_the_history(shop: Shop) -> None:
    booking = shop.accepted(tuesday(10))

    response = shop.as_customer.post(
        f"/bookings/{booking.pk}/reschedule", {"start": tuesday(14).isoformat()}
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["start"], body["end"]) == (
        "accepted",
        tuesday(14).isoformat().replace("+00:00", "Z"),
        tuesday(15).isoformat().replace("+00:00", "Z"),
    )
    assert [h["status"] for h in body["history"]] == ["held", "pending", "accepted", "rescheduled"]
    entry = audit_trail(booking).last()
    assert (entry.action, entry.data["from_start"], entry.data["to_start"]) == (
        "booking.rescheduled",
        tuesday(10).isoformat(),
        tuesday(14).isoformat(),
    )
    booking.refresh_from_db()
    assert (booking.start, booking.blocked_until, booking.status) == (
        tuesday(14),
        tuesday(15),
        "accepted",
    )
    # the old slot is free, the new one taken
    assert shop.hold(tuesday(10), client=shop.as_other_customer).status_code == 201
    assert_problem(shop.hold(tuesday(14), client=shop.as_other_customer), 409, "slot_unavailable")


def test_rescheduling_to_a_taken_slot_is_409_and_changes_nothing(shop: Shop) -> None:
    booking = shop.accepted(tuesday(10))
    shop.hold(tuesday(15), client=shop.as_other_customer)
    before = rows()

    response = shop.as_customer.post(
        f"/bookings/{booking.pk}/reschedule", {"start": tuesday(15).isoformat()}
    )

    assert_problem(response, 409, "slot_unavailable")
    assert rows() == before


def test_rescheduling_within_its_own_time_is_allowed(shop: Shop) -> None:
    # moving 10:00 to 10:30 overlaps only the booking itself
    booking = shop.accepted(tuesday(10))

    response = shop.as_staff.post(
        f"/bookings/{booking.pk}/reschedule", {"start": tuesday(10, 30).isoformat()}
    )

    assert response.status_code == 200, response.content
    booking.refresh_from_db()
    assert booking.start == tuesday(10, 30)


def test_rescheduling_off_the_grid_is_422(shop: Shop) -> None:
    booking = shop.accepted(tuesday(10))
    before = rows()

    response = shop.as_customer.post(
        f"/bookings/{booking.pk}/reschedule", {"start": tuesday(10, 10).isoformat()}
    )

    assert_problem(response, 422, "invalid_slot")
    assert rows() == before


def test_rescheduling_a_completed_booking_is_409(shop: Shop) -> None:
    booking = shop.accepted(tuesday(10))
    shop.as_staff.post(f"/bookings/{booking.pk}/complete")
    before = rows()

    response = shop.as_customer.post(
        f"/bookings/{booking.pk}/reschedule", {"start": tuesday(14).isoformat()}
    )

    assert_problem(response, 409, "invalid_transition")
    assert rows() == before


# --- automatic moves -----------------------------------------------------------------------------


def test_escrow_is_released_once_after_the_release_window(shop: Shop, settings: Any) -> None:
    settings.AGORA_ESCROW_RELEASE_HOURS = 48
    booking = shop.accepted(tuesday(10))
    shop.as_staff.post(f"/bookings/{booking.pk}/complete")  # completed at NOW

    clock.advance(timedelta(hours=48) - timedelta(seconds=1))
    assert lifecycle.release_due_escrow() == 0
    assert balance(shop) == (gbp(VENDOR_SHARE), gbp(0))

    clock.advance(timedelta(seconds=1))
    assert lifecycle.release_due_escrow() == 1
    assert lifecycle.release_due_escrow() == 0  # a second run moves nothing

    assert balance(shop) == (gbp(0), gbp(VENDOR_SHARE))
    assert JournalTransaction.objects.filter(kind="escrow_release").count() == 1
    booking.refresh_from_db()
    assert booking.escrow_released_at == NOW + timedelta(hours=48)
    assert ledger.trial_balance() == {"GBP": 0}


def test_a_kept_cancellation_fee_reaches_the_vendor_after_the_release_window(
    shop: Shop, settings: Any
) -> None:
    settings.AGORA_ESCROW_RELEASE_HOURS = 48
    booking = shop.accepted(tuesday(10))
    clock.advance(timedelta(hours=3))  # 23 hours before the start: half is kept
    shop.as_customer.post(f"/bookings/{booking.pk}/cancel")
    kept = VENDOR_SHARE - 2164
    assert balance(shop) == (gbp(kept), gbp(0))

    clock.advance(timedelta(hours=48) - timedelta(seconds=1))
    assert lifecycle.release_due_escrow() == 0
    clock.advance(timedelta(seconds=1))
    assert lifecycle.release_due_escrow() == 1
    assert lifecycle.release_due_escrow() == 0

    assert balance(shop) == (gbp(0), gbp(kept))
    assert ledger.trial_balance() == {"GBP": 0}


def test_a_no_show_payment_reaches_the_vendor_after_the_release_window(
    shop: Shop, settings: Any
) -> None:
    settings.AGORA_ESCROW_RELEASE_HOURS = 48
    booking = shop.accepted(tuesday(10))
    clock.advance(tuesday(10, 30) - NOW)
    client_for(shop.staff).post(f"/bookings/{booking.pk}/no-show")

    clock.advance(tuesday(11) + timedelta(hours=48) - tuesday(10, 30) - timedelta(seconds=1))
    assert lifecycle.release_due_escrow() == 0  # 48 hours after the booked end
    clock.advance(timedelta(seconds=1))
    assert lifecycle.release_due_escrow() == 1

    assert balance(shop) == (gbp(0), gbp(VENDOR_SHARE))


def test_nothing_is_released_for_bookings_refunded_in_full(shop: Shop, settings: Any) -> None:
    declined = shop.paid(tuesday(10))
    shop.as_staff.post(f"/bookings/{declined.pk}/decline")
    cancelled = shop.accepted(tuesday(12))
    shop.as_customer.post(f"/bookings/{cancelled.pk}/cancel")  # early: free

    clock.advance(timedelta(days=30))

    assert lifecycle.release_due_escrow() == 0
    assert JournalTransaction.objects.filter(kind="escrow_release").count() == 0
    assert balance(shop) == (gbp(0), gbp(0))


def test_bookings_inside_a_longer_timeout_do_not_crowd_out_due_ones(shop: Shop) -> None:
    # Another vendor gives itself 72 hours and has older pending bookings than ours.
    patient = ListingFactory()
    CancellationPolicy.objects.create(vendor=patient.vendor, acceptance_timeout_hours=72)
    waiting = [
        BookingFactory(
            listing=patient,
            status="pending",
            paid_at=clock.now() - timedelta(hours=30),
            start=tuesday(9 + i),
        )
        for i in range(3)
    ]
    ours = shop.paid(tuesday(10))  # the shop's default: 24 hours

    clock.advance(timedelta(hours=24))

    assert lifecycle.expire_unanswered(limit=2) == 1
    assert status_of(ours) == "expired"
    assert [status_of(booking) for booking in waiting] == ["pending"] * 3


def test_unanswered_bookings_expire_with_a_full_refund(shop: Shop) -> None:
    booking = shop.paid(tuesday(10))  # paid at NOW; the vendor has 24 hours
    answered = shop.accepted(tuesday(14))

    clock.advance(timedelta(hours=24) - timedelta(seconds=1))
    assert lifecycle.expire_unanswered() == 0
    clock.advance(timedelta(seconds=1))
    assert lifecycle.expire_unanswered() == 1
    assert lifecycle.expire_unanswered() == 0

    assert (status_of(booking), status_of(answered)) == ("expired", "accepted")
    entry = audit_trail(booking).last()
    assert (entry.action, entry.actor_id, entry.data["reason"]) == (
        "booking.expired",
        None,
        "not accepted in time",
    )
    assert Refund.objects.get().payment.reference == f"booking:{booking.pk}"
    assert Refund.objects.get().amount == PRICE
    assert balance(shop) == (gbp(VENDOR_SHARE), gbp(0))  # only the accepted one's share


def test_stale_holds_are_swept(shop: Shop) -> None:
    first = shop.held(tuesday(10))
    clock.advance(timedelta(minutes=5))
    second = shop.held(tuesday(11))
    paid = shop.paid(tuesday(12))

    clock.advance(timedelta(minutes=5))
    assert lifecycle.expire_stale_holds() == 1
    assert [status_of(b) for b in (first, second, paid)] == ["expired", "held", "pending"]

    clock.advance(timedelta(minutes=5))
    assert lifecycle.expire_stale_holds() == 1
    assert lifecycle.expire_stale_holds() == 0
    assert [status_of(b) for b in (first, second, paid)] == ["expired", "expired", "pending"]
    assert audit_actions(first) == ["booking.held", "booking.expired"]


# --- reads ---------------------------------------------------------------------------------------


def list_ids(client: ApiClient, **params: Any) -> tuple[list[int], int]:
    """Every id of GET /bookings, page by page (7 a page), and the queries of one page."""
    ids: list[int] = []
    cursor = None
    queries = 0
    while True:
        query = {**params, "limit": 7, **({"cursor": cursor} if cursor else {})}
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/bookings", **query)
        assert response.status_code == 200, response.content
        queries = max(queries, len(captured))
        body = response.json()
        assert len(body["items"]) <= 7
        ids += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return ids, queries


@pytest.mark.parametrize("count", [3, 20])
def test_my_bookings_as_customer_and_as_vendor_page_in_bounded_queries(
    shop: Shop, count: int, django_assert_max_num_queries: Any
) -> None:
    mine = [
        BookingFactory(
            listing=shop.listing, customer=shop.customer, start=tuesday(9) + timedelta(days=i)
        )
        for i in range(count)
    ]
    theirs = BookingFactory(listing=shop.listing, customer=shop.other_customer)
    elsewhere = BookingFactory(
        listing=ListingFactory(vendor=VendorFactory()), customer=shop.customer
    )
    newest_first = sorted([*mine, elsewhere], key=lambda b: (b.start, b.pk), reverse=True)

    as_customer, queries = list_ids(shop.as_customer)
    assert as_customer == [b.pk for b in newest_first]
    assert queries == 2  # the token and its user; one page of bookings with their listings

    vendor_side = sorted([*mine, theirs], key=lambda b: (b.start, b.pk), reverse=True)
    as_vendor, queries = list_ids(shop.as_staff, **{"as": "vendor"})
    assert as_vendor == [b.pk for b in vendor_side]
    assert queries == 3  # and the vendors the user is staff of

    # the same for a page of all of them, however many there are
    with django_assert_max_num_queries(2):
        assert len(shop.as_customer.get("/bookings", limit=100).json()["items"]) == count + 1
    with django_assert_max_num_queries(3):
        assert (
            len(shop.as_staff.get("/bookings", limit=100, **{"as": "vendor"}).json()["items"])
            == count + 1
        )


def test_my_bookings_filter_by_status(shop: Shop) -> None:
    held = shop.held(tuesday(10))
    paid = shop.paid(tuesday(12))

    body = shop.as_customer.get("/bookings", status="pending").json()

    assert [item["id"] for item in body["items"]] == [paid.pk]
    assert held.pk not in [item["id"] for item in body["items"]]
    assert body["items"][0]["history"] is None


def test_a_tampered_cursor_is_422(shop: Shop) -> None:
    assert_problem(shop.as_customer.get("/bookings", cursor="forged"), 422, "validation_error")


def test_the_agenda_lists_a_day_in_the_vendor_time_zone(shop: Shop) -> None:
    morning = shop.accepted(tuesday(9))
    held = shop.held(tuesday(11))
    cancelled = shop.paid(tuesday(13))
    shop.as_staff.post(f"/bookings/{cancelled.pk}/cancel")
    shop.accepted(utc(2026, 1, 7, 9))  # Wednesday

    response = shop.as_staff.get(f"/vendors/{shop.vendor.pk}/agenda", day="2026-01-06")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["date"], body["timezone"]) == ("2026-01-06", "Europe/London")
    assert [(b["id"], b["status"]) for b in body["bookings"]] == [
        (morning.pk, "accepted"),
        (held.pk, "held"),
    ]


def test_the_calendar_feed_has_one_event_per_live_booking(shop: Shop) -> None:
    accepted = shop.accepted(tuesday(9))
    pending = shop.paid(tuesday(11))
    shop.held(tuesday(13))  # not confirmed: not in the feed
    cancelled = shop.paid(tuesday(15))
    shop.as_staff.post(f"/bookings/{cancelled.pk}/cancel")

    response = shop.as_staff.get(f"/vendors/{shop.vendor.pk}/calendar-feed")
    assert response.status_code == 200, response.content
    url = response.json()["url"]
    assert url.startswith("http://testserver/api/v1/calendar/")
    assert url.endswith(".ics")

    feed = ApiClient().client.get(url.removeprefix("http://testserver"))

    assert feed.status_code == 200
    assert feed["Content-Type"] == "text/calendar; charset=utf-8"
    events = Calendar.from_ical(feed.content).walk("VEVENT")
    assert [(str(e["uid"]), e["dtstart"].dt, str(e["status"])) for e in events] == [
        (f"booking-{accepted.pk}@agora", tuesday(9), "CONFIRMED"),
        (f"booking-{pending.pk}@agora", tuesday(11), "TENTATIVE"),
    ]
    # the customer's first name only (tests/bookings/test_calendar_feeds.py)
    assert str(events[0]["summary"]) == f"Full service — {shop.customer.name.split()[0]}"

    # a tampered token finds nothing
    token = url.removeprefix("http://testserver/api/v1/calendar/").removesuffix(".ics")
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert_problem(ApiClient().client.get(f"/api/v1/calendar/{tampered}.ics"), 404, "not_found")
    assert_problem(ApiClient().client.get("/api/v1/calendar/nonsense.ics"), 404, "not_found")
