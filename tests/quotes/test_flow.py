"""A customer asks once, the best-suited vendors are invited, they quote, the customer
compares and accepts one: a paid booking, the others declined, everyone told."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from agora.bookings.models import Booking
from agora.core.audit import audit_trail
from agora.notifications.models import Event
from agora.payments.models import Payment, SandboxCharge
from agora.quotes.models import Invitation, Quote, QuoteRequest
from tests.conftest import assert_problem
from tests.quotes.helpers import (
    NOW,
    Market,
    accept,
    ask,
    asked,
    invited_ids,
    offer,
    offered,
    rows,
)

pytestmark = pytest.mark.django_db


def test_a_request_invites_the_best_suited_vendors_in_order(market: Market) -> None:
    response = ask(market.as_customer, key="ask-1")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "open"
    assert body["expires_at"] == (NOW + timedelta(days=7)).isoformat().replace("+00:00", "Z")
    invited = [item["vendor_id"] for item in body["invited"]]
    # Far away, another trade, suspended: never invited.
    assert invited == [market["near"].vendor.pk, market["new"].vendor.pk, market["mid"].vendor.pk]
    scores = [item["score"] for item in body["invited"]]
    assert scores == sorted(scores, reverse=True)
    request = QuoteRequest.objects.get(pk=body["id"])
    events = Event.objects.filter(name="quote.requested").order_by("vendor_id")
    assert [e.vendor_id for e in events] == sorted(invited)
    assert [e.action for e in audit_trail(request)] == ["quote_request.created"]


def test_the_same_idempotency_key_asks_only_once(market: Market) -> None:
    first = ask(market.as_customer, key="same")
    again = ask(market.as_customer, key="same")

    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert QuoteRequest.objects.count() == 1


def test_answers_are_checked_against_the_categorys_questions(market: Market) -> None:
    before = rows()

    response = ask(market.as_customer, answers={"job_type": "volcano"})

    body = assert_problem(response, 422, "validation_error")
    assert body["errors"][0]["loc"] == ["body", "answers", "job_type"]
    assert rows() == before


def test_quotes_compared_then_one_accepted_becomes_a_paid_booking(market: Market) -> None:
    request = asked(market)
    near = offered(market["near"], request)
    mid = offered(market["mid"], request, price={"amount": 9000, "currency": "GBP"}, lines=[])

    seen = market.as_customer.get(f"/quote-requests/{request.pk}").json()
    assert seen["status"] == "quoted"
    assert [(q["vendor_id"], q["price"]["amount"]) for q in seen["quotes"]] == [
        (market["near"].vendor.pk, 12000),
        (market["mid"].vendor.pk, 9000),
    ]

    response = accept(market.as_customer, mid)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "accepted"
    booking = Booking.objects.get(pk=body["booking_id"])
    assert (booking.status, booking.price_amount, booking.start) == (
        "accepted",
        9000,
        NOW + timedelta(days=1, hours=2),
    )
    assert booking.end - booking.start == timedelta(minutes=90)
    assert booking.listing == market["mid"].listing
    assert Payment.objects.get().reference == f"booking:{booking.pk}"
    assert SandboxCharge.objects.count() == 1
    request.refresh_from_db()
    near.refresh_from_db()
    assert (request.status, request.accepted_quote_id, request.booking_id) == (
        "accepted",
        mid.pk,
        booking.pk,
    )
    assert near.status == "declined"
    assert Invitation.objects.get(request=request, vendor=market["new"].vendor).status == "closed"
    names = {(e.name, e.vendor_id) for e in Event.objects.filter(name__startswith="quote.")}
    assert ("quote.accepted", market["mid"].vendor.pk) in names
    assert ("quote.declined", market["near"].vendor.pk) in names
    assert Event.objects.filter(name="booking.paid", subject=f"booking:{booking.pk}").exists()


def test_a_second_accept_is_an_invalid_transition_and_charges_nothing(market: Market) -> None:
    request = asked(market)
    near = offered(market["near"], request)
    mid = offered(market["mid"], request)
    assert accept(market.as_customer, near, key="a").status_code == 200
    before = rows()

    again = accept(market.as_customer, mid, key="b")

    assert_problem(again, 409, "invalid_transition")
    assert rows() == before


def test_an_expired_quote_cannot_be_accepted(market: Market, now: Any) -> None:
    from agora.core import clock

    request = asked(market)
    quote = offered(market["near"], request, valid_until=(NOW + timedelta(hours=1)).isoformat())
    clock.advance(timedelta(hours=2))
    before = rows()

    response = accept(market.as_customer, quote)

    assert_problem(response, 409, "quote_expired")
    assert rows() == before


def test_a_declined_card_leaves_the_quote_open(market: Market) -> None:
    request = asked(market)
    quote = offered(market["near"], request)

    response = accept(market.as_customer, quote, payment_method="pm_card_chargeDeclined")

    assert_problem(response, 402, "card_declined")
    quote.refresh_from_db()
    request.refresh_from_db()
    assert (quote.status, request.status) == ("offered", "quoted")
    assert Booking.objects.count() == 0
    assert accept(market.as_customer, quote, key="retry").status_code == 200


def test_a_revision_keeps_the_earlier_terms_and_is_told_to_the_customer(market: Market) -> None:
    request = asked(market)
    first = offered(market["near"], request)

    second = offered(market["near"], request, price={"amount": 11000, "currency": "GBP"}, lines=[])

    assert second.pk == first.pk
    assert second.revision == 2
    seen = market.as_customer.get(f"/quote-requests/{request.pk}").json()["quotes"][0]
    assert [(r["revision"], r["price"]["amount"]) for r in seen["revisions"]] == [
        (1, 12000),
        (2, 11000),
    ]
    stale = accept(market.as_customer, second, revision=1)
    assert_problem(stale, 409, "quote_revised")
    offers = Event.objects.filter(name="quote.offered").order_by("id")
    assert [e.data["revised"] for e in offers] == [False, True]
    assert {e.user_id for e in offers} == {market.customer.pk}


def test_withdrawing_the_only_quote_opens_the_request_again(market: Market) -> None:
    request = asked(market)
    quote = offered(market["near"], request)

    response = market["near"].client.post(f"/quotes/{quote.pk}/withdraw", {"reason": "Busy"})

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "withdrawn"
    request.refresh_from_db()
    assert request.status == "open"
    assert_problem(accept(market.as_customer, quote), 409, "invalid_transition")


def test_cancelling_declines_the_quotes_and_tells_the_vendors(market: Market) -> None:
    request = asked(market)
    quote = offered(market["near"], request)

    response = market.as_customer.post(f"/quote-requests/{request.pk}/cancel", {"reason": "Fixed"})

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    quote.refresh_from_db()
    assert quote.status == "declined"
    told = Event.objects.filter(name="quote.cancelled").values_list("vendor_id", flat=True)
    assert sorted(told) == sorted(invited_ids(request))
    assert_problem(offer(market["mid"], request), 409, "invalid_transition")


def test_a_request_for_a_listing_asks_that_vendor_only(market: Market) -> None:
    far = market["far"]

    response = ask(market.as_customer, listing_id=far.listing.pk)

    assert response.status_code == 201, response.content
    assert [i["vendor_id"] for i in response.json()["invited"]] == [far.vendor.pk]
    accepted_quote = offered(far, QuoteRequest.objects.get(pk=response.json()["id"]))
    booking_id = accept(market.as_customer, accepted_quote).json()["booking_id"]
    assert Booking.objects.get(pk=booking_id).listing == far.listing
    assert Quote.objects.get(pk=accepted_quote.pk).status == "accepted"
