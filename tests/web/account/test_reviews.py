"""Reviews from the customer pages: what can be reviewed, writing one, editing it within
the edit window; refusals on the page; other people's things are 404."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from agora.bookings.models import Booking
from agora.bookings.services import lifecycle
from agora.core import clock
from agora.orders.models import VendorOrder
from agora.orders.services import fulfilment
from agora.reviews.models import Review
from tests.web.account.conftest import World, tuesday
from tests.web.account.helpers import html, paid
from tests.web.account.test_goods import add, check_out

pytestmark = pytest.mark.django_db


def completed(world: World, client: Client) -> Booking:
    booking = paid(client, world.service, tuesday(10))
    lifecycle.booking_accept(actor=world.owner, booking=booking)
    lifecycle.booking_complete(actor=world.owner, booking=booking)
    booking.refresh_from_db()
    return booking


def write(client: Client, booking: Booking, rating: int = 5, text: str = "") -> Any:
    return client.post(
        f"/account/reviews/new/booking/{booking.pk}/",
        {"rating": rating, "text": text or "Quick, friendly and fairly priced."},
    )


def test_a_completed_booking_waits_for_its_review(
    world: World, alice: Client, django_assert_max_num_queries: Any
) -> None:
    booking = completed(world, alice)

    # + 1: the header's notification bell (one COUNT of unread notifications)
    with django_assert_max_num_queries(10 + 1):
        page = html(alice.get("/account/reviews/"))

    assert f'href="/account/reviews/new/booking/{booking.pk}/"' in page
    assert "Full service" in page
    assert f'href="/account/reviews/new/booking/{booking.pk}/"' in html(alice.get("/account/"))
    assert "Write a review" in html(alice.get(f"/account/bookings/{booking.pk}/"))


def test_writing_a_review_publishes_it(world: World, alice: Client) -> None:
    booking = completed(world, alice)

    form = html(alice.get(f"/account/reviews/new/booking/{booking.pk}/"))
    assert "<legend>Rating</legend>" in form
    assert 'type="radio" name="rating" value="5"' in form

    response = write(alice, booking, 4, "Good work on the brakes.")

    assert response.status_code == 302
    review = Review.objects.get(booking=booking)
    assert (review.author_id, review.rating, review.text) == (
        world.alice.pk,
        4,
        "Good work on the brakes.",
    )
    assert review.status == "published"
    booking.refresh_from_db()
    assert booking.status == "reviewed"
    page = html(alice.get("/account/reviews/"))
    assert "Thank you — your review is published." in page
    assert "Good work on the brakes." in page
    assert f"/account/reviews/{review.pk}/edit/" in page
    assert f"/account/reviews/new/booking/{booking.pk}/" not in page


def test_a_review_is_edited_within_the_window_only(world: World, alice: Client) -> None:
    booking = completed(world, alice)
    write(alice, booking, 3)
    review = Review.objects.get()

    alice.post(f"/account/reviews/{review.pk}/edit/", {"rating": 5, "text": "Even better."})

    review.refresh_from_db()
    assert (review.rating, review.text) == (5, "Even better.")

    clock.advance(timedelta(hours=49))
    page = alice.get(f"/account/reviews/{review.pk}/edit/")
    assert "can no longer be changed" in html(page)
    late = alice.post(f"/account/reviews/{review.pk}/edit/", {"rating": 1, "text": "Changed."})
    assert late.status_code == 409
    assert "can be edited for 48 hours" in html(late)
    review.refresh_from_db()
    assert (review.rating, review.text) == (5, "Even better.")


def test_reviewing_before_completion_is_refused_on_the_page(world: World, alice: Client) -> None:
    booking = paid(alice, world.service, tuesday(10))

    response = write(alice, booking)

    assert response.status_code == 409
    assert 'role="alert"' in html(response)
    assert not Review.objects.exists()


def test_a_second_review_is_refused(world: World, alice: Client) -> None:
    booking = completed(world, alice)
    write(alice, booking)

    response = write(alice, booking, 1, "Changed my mind completely.")

    assert response.status_code == 409
    assert "already been reviewed" in html(response)
    assert Review.objects.get().rating == 5


def test_a_rating_must_be_one_to_five(world: World, alice: Client) -> None:
    booking = completed(world, alice)

    response = write(alice, booking, 6)

    assert response.status_code == 400
    assert "Select a valid choice" in html(response)
    assert not Review.objects.exists()


def test_a_delivered_order_can_be_reviewed(world: World, alice: Client) -> None:
    add(alice, world.widget)
    check_out(alice)
    order = VendorOrder.objects.get()
    staff = world.anvil.memberships.first().user
    fulfilment.order_accept(actor=staff, order=order)
    fulfilment.order_ship(actor=staff, order=order, carrier="DPD", tracking_number="1")
    fulfilment.order_deliver(actor=staff, order=order)

    assert f"/account/reviews/new/order/{order.pk}/" in html(alice.get("/account/reviews/"))
    alice.post(
        f"/account/reviews/new/order/{order.pk}/", {"rating": 5, "text": "Arrived next day."}
    )

    assert Review.objects.get().vendor_order_id == order.pk


def test_other_peoples_bookings_and_reviews_are_404(
    world: World, alice: Client, bob: Client
) -> None:
    booking = completed(world, alice)
    write(alice, booking)
    review = Review.objects.get()

    assert bob.get(f"/account/reviews/new/booking/{booking.pk}/").status_code == 404
    assert write(bob, booking).status_code == 404
    assert bob.get(f"/account/reviews/{review.pk}/edit/").status_code == 404
    response = bob.post(f"/account/reviews/{review.pk}/edit/", {"rating": 1, "text": "Bad."})
    assert response.status_code == 404
    assert bob.get("/account/reviews/new/thing/1/").status_code == 404
    review.refresh_from_db()
    assert review.rating == 5
    assert Review.objects.count() == 1
