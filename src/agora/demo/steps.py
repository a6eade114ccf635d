"""The demo marketplace, built step by step; each step is idempotent.

Later capabilities add their own step here (vendors, listings, bookings, orders, reviews).
"""

from collections.abc import Callable

from agora.demo import (
    accounts,
    bookings,
    marketplace,
    messaging,
    notifications,
    orders,
    pending_vendors,
    quotes,
    reviews,
    search,
    two_factor,
    vehicles,
    webhooks,
)

STEPS: list[tuple[str, Callable[[], str]]] = [
    ("accounts", accounts.load),
    ("two-factor sign-in", two_factor.load),
    ("vendors and listings", marketplace.load),
    ("schedules and bookings", bookings.load),
    ("shipping and orders", orders.load),
    ("applications awaiting approval", pending_vendors.load),
    ("reviews", reviews.load),
    ("notifications", notifications.load),
    ("conversations", messaging.load),
    ("webhooks", webhooks.load),
    ("quote requests", quotes.load),
    ("vehicles in the garage", vehicles.load),
    ("search", search.load),
]
