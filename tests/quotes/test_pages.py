"""The quote pages: "Request a quote" on a quote listing, the customer's quotes side by
side and accept, the vendor's invitations and quote form, the operator's "why this
vendor"."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from agora.bookings.models import Booking
from agora.quotes.models import Quote, QuoteRequest
from tests.quotes.helpers import Market, asked, offered

pytestmark = pytest.mark.django_db


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_quote_listing_takes_a_request_instead_of_sending_people_away(market: Market) -> None:
    page = signed_in(market.customer)
    listing = market["near"].listing

    form = page.get(f"/account/quote/{listing.pk}/")
    assert form.status_code == 200
    html = form.content.decode()
    assert "not available yet" not in html
    assert 'name="answer_job_type"' in html  # the plumbers' own question

    sent = page.post(
        f"/account/quote/{listing.pk}/",
        {"title": "Boiler service", "answer_job_type": "boiler", "budget": "90.00"},
    )

    request = QuoteRequest.objects.get()
    assert sent.status_code == 302
    assert sent["Location"] == f"/account/quotes/{request.pk}/"
    assert (request.listing, request.budget_amount, request.answers) == (
        listing,
        9000,
        {"job_type": "boiler"},
    )
    refused = page.post(f"/account/quote/{listing.pk}/", {"title": "x", "answer_job_type": "lava"})
    assert refused.status_code == 422
    assert QuoteRequest.objects.count() == 1


def test_the_customer_compares_quotes_and_accepts_one_on_the_page(market: Market) -> None:
    request = asked(market)
    offered(market["near"], request)
    chosen = offered(market["mid"], request, price={"amount": 9900, "currency": "GBP"}, lines=[])
    page = signed_in(market.customer)

    detail = page.get(f"/account/quotes/{request.pk}/").content.decode()
    assert "Near Plumbing" in detail
    assert "Mid Plumbing" in detail
    assert detail.count("Accept and pay") == 2

    done = page.post(
        f"/account/quotes/{request.pk}/accept/{chosen.pk}/",
        {"payment_method": "pm_card_visa", "revision": "1", "attempt": "page-1"},
    )

    booking = Booking.objects.get()
    assert done["Location"] == f"/account/bookings/{booking.pk}/"
    assert Quote.objects.get(pk=chosen.pk).status == "accepted"
    assert page.get("/account/quotes/").status_code == 200
    assert signed_in(market.other_customer).get(f"/account/quotes/{request.pk}/").status_code == 404


def test_the_vendor_answers_from_its_invitations(market: Market) -> None:
    request = asked(market)
    shop = market["near"]
    page = signed_in(shop.owner)

    listing = page.get(f"/vendor/quotes/?vendor={shop.vendor.pk}")
    assert request.title in listing.content.decode()
    sent = page.post(
        f"/vendor/quotes/{request.pk}/quote/?vendor={shop.vendor.pk}",
        {"price": "135.50", "valid_days": "5", "duration_minutes": "60", "message": "Tomorrow"},
    )

    assert sent.status_code == 302, sent.content
    quote = Quote.objects.get()
    assert (quote.price_amount, quote.vendor, quote.message) == (13550, shop.vendor, "Tomorrow")
    outsider = signed_in(market["far"].owner)
    assert (
        outsider.get(f"/vendor/quotes/{request.pk}/?vendor={market['far'].vendor.pk}").status_code
        == 404
    )


def test_the_operator_sees_why_each_vendor_was_chosen(market: Market, settings: Any) -> None:
    from tests.factories import UserFactory

    settings.AGORA_REQUIRE_OPERATOR_2FA = False
    request = asked(market)
    page = signed_in(UserFactory(is_operator=True, is_staff=True))

    overview = page.get("/operator/quotes/")
    detail = page.get(f"/operator/quotes/{request.pk}/")

    assert overview.status_code == detail.status_code == 200
    html = detail.content.decode()
    for words in ("Why these vendors", "Near Plumbing", "Distance"):
        assert words in html
    assert signed_in(market.customer).get("/operator/quotes/").status_code == 403
