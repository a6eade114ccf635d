"""Timed moves (second wave, expiry), conversations per invited vendor, the events'
words, vendor metrics, and the statements a list costs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from agora.core import clock
from agora.core.audit import audit_trail
from agora.notifications import rendering
from agora.notifications.models import Event
from agora.quotes.models import Invitation, QuoteCategorySettings
from agora.quotes.services import offers, requests
from tests.conftest import assert_problem
from tests.factories import UserFactory
from tests.quotes.helpers import Market, accept, asked, invited_ids, make_shop, offered
from tests.vendors.helpers import client_for

pytestmark = pytest.mark.django_db


def test_nobody_answering_within_the_sla_brings_a_second_wave(market: Market) -> None:
    QuoteCategorySettings.objects.filter(category__slug="plumbers").update(invite_count=2)
    request = asked(market)
    first = invited_ids(request)
    assert first == [market["near"].vendor.pk, market["new"].vendor.pk]
    assert request.next_wave_at == clock.now() + timedelta(minutes=60)  # the plumbers' SLA

    clock.advance(timedelta(minutes=59))
    assert requests.requests_next_wave_due() == 0
    clock.advance(timedelta(minutes=2))
    assert requests.requests_next_wave_due() == 1

    waves = dict(Invitation.objects.filter(request=request).values_list("vendor_id", "wave"))
    assert waves == {
        market["near"].vendor.pk: 1,
        market["new"].vendor.pk: 1,
        market["mid"].vendor.pk: 2,
    }
    request.refresh_from_db()
    assert request.next_wave_at is None  # two waves at most
    assert "quote_request.wave" in [e.action for e in audit_trail(request)]


def test_a_quote_stops_the_waves(market: Market) -> None:
    QuoteCategorySettings.objects.filter(category__slug="plumbers").update(invite_count=1)
    request = asked(market)
    offered(market["near"], request)
    clock.advance(timedelta(hours=2))
    assert requests.requests_next_wave_due() == 0


def test_requests_and_quotes_expire(market: Market) -> None:
    request = asked(market)
    quote = offered(
        market["near"], request, valid_until=(clock.now() + timedelta(days=1)).isoformat()
    )

    clock.advance(timedelta(days=1, seconds=1))
    assert offers.quotes_expire_due() == 1
    quote.refresh_from_db()
    request.refresh_from_db()
    assert (quote.status, request.status) == ("expired", "open")

    clock.advance(timedelta(days=6))
    assert requests.requests_expire_due() == 1
    request.refresh_from_db()
    assert request.status == "expired"
    assert Event.objects.filter(name="quote.expired", user_id=market.customer.pk).count() == 1
    assert set(Invitation.objects.filter(request=request).values_list("status", flat=True)) == {
        "quoted",
        "closed",
    }


def test_each_invited_vendor_has_its_own_conversation(market: Market) -> None:
    request = asked(market)
    near, mid = market["near"], market["mid"]

    sent = market.as_customer.post(
        f"/quote-requests/{request.pk}/messages",
        {"text": "Is Tuesday fine?", "vendor_id": near.vendor.pk},
    )
    reply = near.client.post(f"/quote-requests/{request.pk}/messages", {"text": "Yes."})

    assert sent.status_code == reply.status_code == 201, (sent.content, reply.content)
    near_thread = near.client.get(f"/quote-requests/{request.pk}/messages").json()
    mid_thread = mid.client.get(f"/quote-requests/{request.pk}/messages").json()
    assert [m["text"] for m in near_thread["items"]] == ["Yes.", "Is Tuesday fine?"]
    assert mid_thread["items"] == []
    assert_problem(
        market.as_customer.post(f"/quote-requests/{request.pk}/messages", {"text": "Which?"}),
        404,
        "not_found",
    )


def test_every_quote_event_renders_for_its_audience(market: Market) -> None:
    request = asked(market)
    quote = offered(market["near"], request)
    offered(market["near"], request, price={"amount": 11000, "currency": "GBP"}, lines=[])
    mid = offered(market["mid"], request)
    assert accept(market.as_customer, mid).status_code == 200
    other = asked(market)
    market.as_customer.post(f"/quote-requests/{other.pk}/cancel", {"reason": "Sorted it"})
    events = Event.objects.filter(name__startswith="quote.")
    names = set(events.values_list("name", flat=True))
    assert names >= {"quote.requested", "quote.offered", "quote.accepted", "quote.declined"}
    recipient = UserFactory.build(name="Ann Example")
    for event in events:
        audience = "vendor" if event.vendor_id else "user"
        words = rendering.render(
            event_name=event.name, audience=audience, data=event.data, recipient=recipient
        )
        for text in (words.subject, words.text, words.html):
            for leftover in ("None", "{{", "{%"):
                assert leftover not in text, (event.name, text)
        assert "/quotes/" in rendering.path_for(audience=audience, data=event.data)
    assert quote.pk


def test_vendors_see_their_metrics_beside_the_category_median(market: Market) -> None:
    request = asked(market)
    clock.advance(timedelta(minutes=30))
    offered(market["near"], request)
    market["mid"].client.post(f"/quote-requests/{request.pk}/pass", {})

    body = market["near"].client.get(f"/vendors/{market['near'].vendor.pk}/quote-metrics").json()

    assert body["invitations"] == 1
    assert body["mine"] == {
        "response_minutes": 30.0,
        "acceptance_rate": 1.0,
        "win_rate": 0.0,
        "reliability": 1.0,
    }
    # near quoted (1.0); mid passed and new has not answered (0.0 each).
    assert body["category_median"]["acceptance_rate"] == 0.0
    assert body["category_median"]["response_minutes"] == 30.0
    assert_problem(
        market["mid"].client.get(f"/vendors/{market['near'].vendor.pk}/quote-metrics"),
        404,
        "not_found",
    )


def test_lists_cost_a_fixed_number_of_statements(
    market: Market, django_assert_max_num_queries: Any, operator_user: Any
) -> None:
    for index in range(4):
        request = asked(market, title=f"Job {index}")
        offered(market["near"], request)
        offered(market["mid"], request)
    as_operator = client_for(operator_user)

    with django_assert_max_num_queries(8):
        mine = market.as_customer.get("/quote-requests")
    with django_assert_max_num_queries(8):
        theirs = market["near"].client.get("/quote-requests", vendor_id=market["near"].vendor.pk)
    with django_assert_max_num_queries(10):
        everything = as_operator.get("/operator/quote-requests")

    assert len(mine.json()["items"]) == len(theirs.json()["items"]) == 4
    assert all(len(item["quotes"]) == 1 for item in theirs.json()["items"])
    assert len(everything.json()["items"]) == 4


def test_a_vendor_fully_booked_in_the_window_is_not_invited(market: Market) -> None:
    from agora.bookings.models import TimeBlock

    start = clock.now() + timedelta(days=1)
    end = start + timedelta(hours=8)
    TimeBlock.objects.create(
        vendor=market["near"].vendor, start=start - timedelta(hours=2), end=end
    )
    booked_up = make_shop("Booked Plumbing", km=1, rating=(40, 200), schedule=False)

    request = asked(market, window_start=start.isoformat(), window_end=end.isoformat())

    invited = invited_ids(request)
    assert market["near"].vendor.pk not in invited
    assert booked_up.vendor.pk in invited  # no published hours: nothing says it is busy
    assert (
        Invitation.objects.get(request=request, vendor=booked_up.vendor).breakdown["capacity"]
        is True
    )
