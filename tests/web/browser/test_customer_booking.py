"""A customer in a real browser: finds a slot on the public listing page, holds it (with
the live countdown), pays with the sandbox card and lands on the confirmation; then buys
from two shops in one checkout."""

from __future__ import annotations

import re
from typing import Any

import pytest

from agora.bookings.models import Booking
from agora.orders.models import Checkout
from agora.payments.models import Payment
from tests.web.account.conftest import make_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_customer_books_and_pays_a_slot_from_the_listing_page(
    page: Any, sign_in: Any, screenshot: Any
) -> None:
    world = make_world()
    sign_in(world.alice)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(f"/l/{world.service.pk}/")
    first_slot = page.locator("#slots a.slot").first
    first_slot.wait_for()
    screenshot("1-listing")
    first_slot.click()

    page.wait_for_url(re.compile(r"/account/book/\d+/\?start="))
    assert page.get_by_role("heading", name="Your slot").is_visible()
    assert "45.99 GBP" in page.content()
    screenshot("2-slot")
    page.get_by_role("button", name="Hold this slot and pay").click()

    page.wait_for_url(re.compile(r"/account/bookings/\d+/pay/$"))
    timer = page.get_by_role("timer")
    timer.wait_for()
    assert re.search(r"Time left: (9|10):\d\d", timer.inner_text())
    booking = Booking.objects.get(customer=world.alice)
    assert booking.status == "held"
    screenshot("3-hold-countdown")
    page.get_by_label("Card (sandbox test cards)").select_option("pm_card_visa")
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()

    page.wait_for_url(f"**/account/bookings/{booking.pk}/confirmed/")
    assert page.get_by_role("heading", name="Booking confirmed").is_visible()
    screenshot("4-confirmed")
    booking.refresh_from_db()
    assert booking.status == "pending"
    assert Payment.objects.filter(reference=booking.reference, gross_amount=4599).exists()

    page.get_by_role("link", name="My account").first.click()
    page.wait_for_url("**/account/")
    assert "Paid — waiting for the vendor to accept" in page.content()
    screenshot("5-dashboard")
    assert errors == []


def test_a_declined_card_shows_on_the_page_and_another_card_pays(
    page: Any, sign_in: Any, screenshot: Any
) -> None:
    world = make_world()
    sign_in(world.alice)
    page.goto(f"/l/{world.service.pk}/")
    page.locator("#slots a.slot").first.click()
    page.get_by_role("button", name="Hold this slot and pay").click()
    page.wait_for_url(re.compile(r"/pay/$"))

    page.get_by_label("Card (sandbox test cards)").select_option("pm_card_chargeDeclined")
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()

    alert = page.get_by_role("alert").filter(has_text="declined")
    alert.wait_for()
    screenshot("declined")
    page.get_by_label("Card (sandbox test cards)").select_option("pm_card_mastercard")
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    page.wait_for_url(re.compile(r"/confirmed/$"))
    assert Booking.objects.get(customer=world.alice).status == "pending"


def test_a_customer_buys_from_two_shops_in_one_checkout(
    page: Any, sign_in: Any, screenshot: Any
) -> None:
    world = make_world()
    sign_in(world.alice)
    for product in (world.widget, world.gadget):
        page.goto(f"/l/{product.pk}/")
        page.get_by_role("button", name="Add to basket").click()
        page.wait_for_url("**/account/cart/")
    assert page.get_by_role("heading", name="From Anvil Parts").is_visible()
    assert page.get_by_role("heading", name="From Bolt Supplies").is_visible()
    screenshot("1-cart")

    page.get_by_role("link", name="Check out").click()
    page.get_by_label("Full name").fill("Alice Buyer")
    page.get_by_label("Address line 1").fill("1 High Street")
    page.get_by_label("Town or city").fill("London")
    page.get_by_label("Postcode").fill("N1 1AA")
    screenshot("2-checkout")
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()

    page.wait_for_url(re.compile(r"/account/checkouts/\d+/$"))
    assert page.get_by_role("heading", name="Thank you for your order").is_visible()
    screenshot("3-confirmation")
    checkout = Checkout.objects.get(customer=world.alice)
    assert checkout.status == "paid"
    assert checkout.orders.count() == 2


def test_a_signed_out_visitor_signs_in_and_comes_back_to_the_slot(
    page: Any, screenshot: Any
) -> None:
    world = make_world()  # everyone's password is pass-word-123 (tests.factories)

    page.goto(f"/l/{world.service.pk}/")
    page.locator("#slots a.slot").first.click()

    page.wait_for_url(re.compile(r"/login/\?next="))
    page.locator("#id_email").fill(world.alice.email)
    page.locator("#id_password").fill("pass-word-123")
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url(re.compile(r"/account/book/\d+/\?start="))
    assert page.get_by_role("button", name="Hold this slot and pay").is_visible()


def test_the_payment_page_fits_a_phone(page: Any, sign_in: Any, screenshot: Any) -> None:
    world = make_world()
    sign_in(world.alice)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/l/{world.service.pk}/")
    page.locator("#slots a.slot").first.click()
    page.get_by_role("button", name="Hold this slot and pay").click()
    page.wait_for_url(re.compile(r"/pay/$"))

    width = page.evaluate("document.documentElement.scrollWidth")
    screenshot("phone-pay")
    assert width <= 390
    assert page.get_by_role("button", name=re.compile(r"^Pay ")).is_visible()


def test_the_countdown_reaches_zero_and_closes_the_payment_form(
    page: Any, sign_in: Any, screenshot: Any
) -> None:
    from datetime import timedelta

    from agora.bookings import selectors
    from agora.bookings.services import holds
    from agora.core import clock

    world = make_world()
    slot = selectors.listing_slots(
        listing=world.service, start=clock.now(), end=clock.now() + timedelta(days=7)
    ).slots[0]
    booking = holds.booking_hold(customer=world.alice, listing=world.service, start=slot.start)
    Booking.objects.filter(pk=booking.pk).update(hold_expires_at=clock.now() + timedelta(seconds=3))
    sign_in(world.alice)

    page.goto(f"/account/bookings/{booking.pk}/pay/")
    assert page.get_by_role("timer").is_visible()
    expired = page.get_by_role("alert").filter(has_text="Your hold has expired")
    expired.wait_for(timeout=8_000)

    screenshot("expired")
    assert page.get_by_role("button", name=re.compile(r"^Pay ")).is_disabled()
    assert page.get_by_role("link", name="Choose the time again").is_visible()
