"""Booking through the customer pages: choose → hold → pay → confirmation, and the
refusals a customer meets on the way (slot taken, hold expired, card declined)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client

from agora.bookings.models import Booking
from agora.core import clock
from agora.payments.models import JournalEntry, JournalTransaction, Payment
from tests.web.account.conftest import PRICE, World, tuesday
from tests.web.account.helpers import book_url, form_token, held, hold, html, pay

pytestmark = pytest.mark.django_db


def test_signed_out_visitor_goes_to_sign_in_and_comes_back(world: World, client: Client) -> None:
    url = book_url(world.service, tuesday(10))

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={quote(url, safe='/')}"


def test_book_page_shows_the_slot_price_and_policy(
    world: World, alice: Client, django_assert_max_num_queries: Any
) -> None:
    # + 1: the header's notification bell (one COUNT of unread notifications)
    with django_assert_max_num_queries(16 + 1):
        response = alice.get(book_url(world.service, tuesday(10)))

    assert response.status_code == 200
    page = html(response)
    assert "Book Full service" in page
    assert "Tue 6 Jan 2026, 10:00–11:00 (Europe/London)" in page
    assert "45.99 GBP" in page
    assert "Free cancellation until 24 hours before the start" in page
    assert "50 %" in page
    assert "Hold this slot and pay" in page
    assert 'name="token"' in page
    # Other times are offered too, each linking back here.
    assert f"/account/book/{world.service.pk}/?start=2026-01-06T11%3A00%3A00%2B00%3A00" in page


def test_a_plus_sign_that_arrives_as_a_space_still_reads_as_the_offset(
    world: World, alice: Client
) -> None:
    response = alice.get(f"/account/book/{world.service.pk}/?start=2026-01-06T10:00:00+00:00")

    assert response.status_code == 200
    assert "Hold this slot and pay" in html(response)


def test_a_time_that_is_not_a_slot_says_so_and_offers_others(world: World, alice: Client) -> None:
    response = alice.get(book_url(world.service, tuesday(20)))

    assert response.status_code == 200
    page = html(response)
    assert "That time is not available" in page
    assert "Hold this slot and pay" not in page
    assert "Tuesday 6 January" in page


def test_holding_creates_a_held_booking_and_shows_the_countdown(
    world: World, alice: Client
) -> None:
    response = hold(alice, world.service, tuesday(10), notes="Blue Golf")

    assert response.status_code == 302
    booking = Booking.objects.get(customer=world.alice)
    assert response["Location"] == f"/account/bookings/{booking.pk}/pay/"
    assert booking.status == "held"
    assert booking.start == tuesday(10)
    assert booking.notes == "Blue Golf"
    assert booking.hold_expires_at == clock.now() + timedelta(minutes=10)

    page = html(alice.get(response["Location"]))
    assert f'data-countdown-until="{booking.hold_expires_at.isoformat()}"' in page
    assert "until <strong>Mon 5 Jan 2026, 08:10</strong>" in page
    assert "about 10 minutes" in page
    assert 'role="timer"' in page
    assert "pm_card_visa" in page


def test_paying_with_the_sandbox_card_confirms_and_posts_the_ledger(
    world: World, alice: Client
) -> None:
    booking = held(alice, world.service, tuesday(10))

    response = pay(alice, booking)

    assert response.status_code == 302
    assert response["Location"] == f"/account/bookings/{booking.pk}/confirmed/"
    booking.refresh_from_db()
    assert booking.status == "pending"
    assert booking.paid_at == clock.now()
    payment = Payment.objects.get(reference=booking.reference)
    assert payment.gross_amount == PRICE
    assert payment.payment_method == "pm_card_visa"
    capture = JournalTransaction.objects.get(reference=booking.reference, kind="capture")
    entries = JournalEntry.objects.filter(transaction=capture)
    assert sum(entry.amount for entry in entries) == 0
    assert entries.count() >= 2

    page = html(alice.get(response["Location"]))
    assert "Booking confirmed" in page
    assert "Paid — waiting for the vendor to accept" in page
    assert "45.99 GBP" in page


def test_an_auto_accepting_listing_is_confirmed_at_once(world: World, alice: Client) -> None:
    world.service.auto_accept = True
    world.service.save()
    booking = held(alice, world.service, tuesday(10))

    pay(alice, booking)

    booking.refresh_from_db()
    assert booking.status == "accepted"
    assert "Confirmed by the vendor" in html(
        alice.get(f"/account/bookings/{booking.pk}/confirmed/")
    )


def test_a_double_submitted_hold_books_once(world: World, alice: Client) -> None:
    page = alice.get(book_url(world.service, tuesday(10)))
    form = {"start": tuesday(10).isoformat(), "token": form_token(page), "notes": ""}

    first = alice.post(f"/account/book/{world.service.pk}/", form)
    second = alice.post(f"/account/book/{world.service.pk}/", form)

    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Booking.objects.filter(customer=world.alice).count() == 1


def test_a_double_submitted_payment_charges_once(world: World, alice: Client) -> None:
    booking = held(alice, world.service, tuesday(10))
    page = alice.get(f"/account/bookings/{booking.pk}/pay/")
    form = {"payment_method": "pm_card_visa", "token": form_token(page)}

    first = alice.post(f"/account/bookings/{booking.pk}/pay/", form)
    second = alice.post(f"/account/bookings/{booking.pk}/pay/", form)

    assert first["Location"] == second["Location"] == f"/account/bookings/{booking.pk}/confirmed/"
    assert Payment.objects.filter(reference=booking.reference).count() == 1


def test_a_slot_just_taken_is_refused_on_the_page(world: World, alice: Client, bob: Client) -> None:
    page = alice.get(book_url(world.service, tuesday(10)))
    held(bob, world.service, tuesday(10))  # Bob is faster

    response = alice.post(
        f"/account/book/{world.service.pk}/",
        {"start": tuesday(10).isoformat(), "token": form_token(page), "notes": ""},
    )

    assert response.status_code == 409
    text = html(response)
    assert "that time was just taken or is full" in text
    assert 'role="alert"' in text
    assert "Choose" in text  # other times are offered
    assert not Booking.objects.filter(customer=world.alice).exists()


def test_an_expired_hold_cannot_be_paid(world: World, alice: Client) -> None:
    booking = held(alice, world.service, tuesday(10))
    page = alice.get(f"/account/bookings/{booking.pk}/pay/")
    clock.advance(timedelta(minutes=11))

    response = alice.post(
        f"/account/bookings/{booking.pk}/pay/",
        {"payment_method": "pm_card_visa", "token": form_token(page)},
    )

    assert response.status_code == 409
    assert "Your hold has expired" in html(response)
    booking.refresh_from_db()
    assert booking.paid_at is None
    assert not Payment.objects.filter(reference=booking.reference).exists()
    again = alice.get(f"/account/bookings/{booking.pk}/pay/")
    assert again.status_code == 409
    assert "Choose the time again" in html(again)


def test_a_declined_card_keeps_the_hold_and_says_so(world: World, alice: Client) -> None:
    booking = held(alice, world.service, tuesday(10))

    response = pay(alice, booking, "pm_card_chargeDeclined")

    assert response.status_code == 402
    assert "Your card was declined. Nothing was charged" in html(response)
    booking.refresh_from_db()
    assert booking.status == "held"
    assert not Payment.objects.filter(reference=booking.reference).exists()
    # A fresh token: paying again with another card works.
    assert pay(alice, booking).status_code == 302
    booking.refresh_from_db()
    assert booking.status == "pending"


def test_insufficient_funds_is_explained(world: World, alice: Client) -> None:
    booking = held(alice, world.service, tuesday(10))

    response = pay(alice, booking, "pm_card_chargeDeclinedInsufficientFunds")

    assert response.status_code == 402
    assert "insufficient funds" in html(response)


def test_a_product_is_not_booked_and_a_quote_job_goes_to_its_page(
    world: World, alice: Client
) -> None:
    product = alice.get(book_url(world.widget, tuesday(10)))
    assert product.status_code == 422
    assert "not a bookable service" in html(product)

    job = alice.get(book_url(world.quote_job, tuesday(10)))
    assert job.status_code == 302
    assert job["Location"] == f"/account/quote/{world.quote_job.pk}/"


def test_a_vendor_without_opening_hours_takes_no_bookings(world: World, alice: Client) -> None:
    world.workshop.schedule.delete()

    response = alice.get(book_url(world.service, tuesday(10)))

    assert response.status_code == 409
    assert "has not published opening hours" in html(response)


def test_an_unknown_listing_is_404(world: World, alice: Client) -> None:
    assert (
        alice.get(
            book_url(world.service, tuesday(10)).replace(str(world.service.pk), "999999")
        ).status_code
        == 404
    )


def test_a_hold_without_a_valid_time_is_refused_with_the_form(world: World, alice: Client) -> None:
    page = alice.get(book_url(world.service, tuesday(10)))

    response = alice.post(
        f"/account/book/{world.service.pk}/",
        {"start": "tomorrow", "token": form_token(page), "notes": ""},
    )

    assert response.status_code == 400
    assert "ISO 8601" in html(response)
    assert not Booking.objects.exists()


def test_a_shared_resource_is_named_and_a_wrong_one_is_explained(
    world: World, alice: Client
) -> None:
    from agora.bookings.models import Resource, ResourceAssignment

    bay = Resource.objects.create(vendor=world.workshop, name="MOT bay", capacity=1)
    ResourceAssignment.objects.create(listing=world.service, resource=bay)

    right = html(alice.get(book_url(world.service, tuesday(10)) + f"&resource={bay.pk}"))
    wrong = html(alice.get(book_url(world.service, tuesday(10)) + "&resource=999999"))

    assert "<dt>With</dt><dd>MOT bay</dd>" in right
    assert "does not serve this listing" not in right
    assert "does not serve this listing" in wrong
