"""Reviews of the demo's completed bookings and delivered orders, written through the real
services with the clock set to the day after each finished — vendor replies to some, a few
held back by the fraud rules for the operator's moderation queue, and one of the demo
customer's bookings and orders left for them to review."""

from __future__ import annotations

from datetime import timedelta

from agora.accounts.models import User
from agora.bookings.models import Booking, BookingStatus
from agora.core import clock
from agora.orders.models import OrderStatus, VendorOrder
from agora.reviews import services
from agora.reviews.models import Review, ReviewStatus

BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 Safari/605.1.15"
REVIEWS = [
    (
        5,
        "Booked online in a minute, the car was ready before lunch and the invoice matched the quote to the penny.",
    ),
    (
        4,
        "Friendly, tidy work and a clear explanation of what needed doing next. Ran about twenty minutes late.",
    ),
    (5, "Found the fault two other places had missed. Honest advice, no upselling."),
    (
        3,
        "The job itself was fine, but nobody answered the phone when I called to check on progress.",
    ),
    (
        5,
        "Arrived in the slot they promised, protected the floor and left everything cleaner than they found it.",
    ),
    (4, "Good value and quick. Parking outside is tight, so allow a few extra minutes."),
    (
        2,
        "Had to come back a second time for the same noise. They fixed it free of charge, to be fair.",
    ),
    (5, "Third visit this year and as reliable as ever. Collection and drop-off made it painless."),
    (4, "Clear pricing up front and photos of the worn parts sent to my phone. Would book again."),
    (5, "Sorted a tricky job quickly and explained the options without jargon."),
]
COPIED = "Brilliant service from start to finish, really friendly team, fair prices and the work was done perfectly - would recommend to anyone!"
COPIED_AGAIN = "Brilliant service from start to finish, really friendly team, fair prices and the work was done perfectly - would recommend to everyone!!"
ORDER_REVIEW = (
    5,
    "Well packed, tracked all the way and arrived a day early. Exactly as described.",
)
REPLIES = [
    "Thank you for taking the time to write this — see you next time!",
    "Sorry about the wait on the phone; we have added a second line since. Thanks for the feedback.",
    "Thanks for coming back so we could put it right, and for the fair review.",
]


def _owner_of(review: Review) -> User | None:
    membership = review.vendor.memberships.order_by("id").first()
    return membership.user if membership else None


def load() -> str:
    if Review.objects.exists():
        return "reviews already there"
    completed = list(
        Booking.objects.filter(status=BookingStatus.COMPLETED, completed_at__isnull=False)
        .select_related("customer", "vendor")
        .order_by("completed_at", "id")
    )
    # The demo customer keeps their latest completed booking to review by hand.
    mine = [b for b in completed if b.customer.email == "customer@agora.test"]
    keep = {mine[-1].pk} if mine else set()
    to_review = [b for b in completed if b.pk not in keep]
    written: list[Review] = []
    addresses: dict[int, str] = {}  # booking id → the address its review came from
    shared_network_shown = False
    for number, booking in enumerate(to_review):
        assert booking.completed_at is not None
        rating, text = REVIEWS[number % len(REVIEWS)]
        if number == len(to_review) - 2:
            text, rating = COPIED, 5
        elif number == len(to_review) - 1:
            text, rating = COPIED_AGAIN, 5  # a near copy of another customer's: flagged
        address = f"81.{100 + number}.{(number * 37) % 250}.{20 + number}"
        # Once, a second account writing from the address of an earlier reviewer of the
        # same vendor: the shared-network rule sends both reviews to moderation.
        sibling = next(
            (
                b
                for b in to_review[:number]
                if b.vendor_id == booking.vendor_id and b.customer_id != booking.customer_id
            ),
            None,
        )
        if sibling is not None and not shared_network_shown and number >= 3:
            address, shared_network_shown = addresses[sibling.pk], True
        addresses[booking.pk] = address
        with clock.frozen(booking.completed_at + timedelta(days=1)):
            written.append(
                services.review_create(
                    author=booking.customer,
                    booking_id=booking.pk,
                    rating=rating,
                    text=text,
                    ip_address=address,
                    user_agent=BROWSER,
                )
            )
    orders = list(
        VendorOrder.objects.filter(
            status__in=[OrderStatus.DELIVERED, OrderStatus.COMPLETED], delivered_at__isnull=False
        )
        .select_related("customer")
        .order_by("delivered_at", "id")
    )
    for order in orders[:-1]:  # the latest delivery is left for its customer to review
        assert order.delivered_at is not None
        with clock.frozen(order.delivered_at + timedelta(days=1)):
            written.append(
                services.review_create(
                    author=order.customer,
                    order_id=order.pk,
                    rating=ORDER_REVIEW[0],
                    text=ORDER_REVIEW[1],
                    ip_address="198.51.100.77",
                    user_agent=BROWSER,
                )
            )
    replied = 0
    for review in written:
        review.refresh_from_db()
        if review.status != ReviewStatus.PUBLISHED or (review.rating > 4 and replied):
            continue
        owner = _owner_of(review)
        if owner is None or replied >= len(REPLIES):
            continue
        with clock.frozen(review.created_at + timedelta(hours=5)):
            services.review_reply(user=owner, review_id=review.pk, text=REPLIES[replied])
        replied += 1
    flagged = Review.objects.filter(status=ReviewStatus.FLAGGED).count()
    return f"{len(written)} reviews ({flagged} flagged for moderation), {replied} vendor replies"
