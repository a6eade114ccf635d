"""Tenant isolation across every quote endpoint: an uninvited vendor and another customer
get 404 and change nothing; one vendor never sees another's quote; operators see why."""

from __future__ import annotations

from typing import Any

import pytest

from agora.quotes.models import QuoteRequest
from tests.conftest import ApiClient, assert_problem
from tests.quotes.helpers import Market, accept, asked, offered, quote_body, rows
from tests.vendors.helpers import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def quoted(market: Market) -> tuple[QuoteRequest, Any, Any]:
    request = asked(market)
    return request, offered(market["near"], request), offered(market["mid"], request)


def test_an_invited_vendor_sees_the_request_with_its_own_quote_only(
    market: Market, quoted: tuple[QuoteRequest, Any, Any]
) -> None:
    request, near_quote, _ = quoted

    body = market["near"].client.get(f"/quote-requests/{request.pk}").json()

    assert [q["id"] for q in body["quotes"]] == [near_quote.pk]
    assert body["invited"] == [
        {"vendor_id": market["near"].vendor.pk, "score": body["invited"][0]["score"]}
    ]
    assert body["invitation"]["seen_at"] is not None
    listed = market["near"].client.get("/quote-requests", vendor_id=market["near"].vendor.pk).json()
    assert [(i["id"], [q["id"] for q in i["quotes"]]) for i in listed["items"]] == [
        (request.pk, [near_quote.pk])
    ]


@pytest.mark.parametrize("who", ["uninvited_vendor", "other_trade", "other_customer"])
def test_outsiders_get_404_everywhere_and_change_nothing(
    market: Market, quoted: tuple[QuoteRequest, Any, Any], who: str
) -> None:
    request, near_quote, _ = quoted
    client: ApiClient = {
        "uninvited_vendor": market["far"].client,
        "other_trade": market["sparks"].client,
        "other_customer": market.as_other_customer,
    }[who]
    shop = market["far"] if who == "uninvited_vendor" else market["sparks"]
    before = rows()

    answers = [
        client.get(f"/quote-requests/{request.pk}"),
        client.get(f"/quote-requests/{request.pk}", vendor_id=shop.vendor.pk),
        client.post(f"/quote-requests/{request.pk}/quotes", quote_body(shop)),
        client.post(f"/quote-requests/{request.pk}/pass", {}),
        client.post(f"/quote-requests/{request.pk}/cancel", {}),
        accept(client, near_quote),
        client.post(f"/quotes/{near_quote.pk}/withdraw", {}),
        client.get(f"/quote-requests/{request.pk}/messages", vendor_id=shop.vendor.pk),
        client.post(
            f"/quote-requests/{request.pk}/messages", {"text": "hi", "vendor_id": shop.vendor.pk}
        ),
    ]

    for response in answers:
        assert_problem(response, 404, "not_found")
    assert rows() == before
    if who != "other_customer":
        own = client.get("/quote-requests", vendor_id=shop.vendor.pk).json()
        assert own["items"] == []
    else:
        assert client.get("/quote-requests").json()["items"] == []


def test_one_vendor_cannot_touch_anothers_quote(
    market: Market, quoted: tuple[QuoteRequest, Any, Any]
) -> None:
    request, near_quote, mid_quote = quoted
    before = rows()

    assert_problem(
        market["mid"].client.post(f"/quotes/{near_quote.pk}/withdraw", {}), 404, "not_found"
    )
    # Quoting in another invited vendor's name: the caller does not staff it.
    assert_problem(
        market["mid"].client.post(
            f"/quote-requests/{request.pk}/quotes", quote_body(market["near"])
        ),
        404,
        "not_found",
    )
    assert_problem(accept(market["mid"].client, mid_quote), 404, "not_found")
    assert rows() == before


def test_operators_see_every_invitation_with_its_breakdown(
    market: Market, quoted: tuple[QuoteRequest, Any, Any], operator_user: Any
) -> None:
    request, *_ = quoted
    as_operator = client_for(operator_user)

    body = as_operator.get(f"/operator/quote-requests/{request.pk}").json()

    assert [i["vendor_id"] for i in body["invitations"]] == [
        market["near"].vendor.pk,
        market["new"].vendor.pk,
        market["mid"].vendor.pk,
    ]
    why = body["invitations"][0]["breakdown"]
    assert why["eligible"] is True
    assert why["components"]["distance"]["value"] == pytest.approx(2.0, abs=0.01)
    assert len(body["quotes"]) == 2
    assert_problem(market.as_customer.get("/operator/quote-requests"), 403, "forbidden")
