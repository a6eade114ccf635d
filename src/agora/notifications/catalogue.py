"""Every event the marketplace announces: whom it concerns and how they hear of it.

An event's audiences are who hears of it, each with its own wording (the customer's
receipt and the vendor's "new booking to accept" are one event, `booking.paid`):

- `user`: the person the event is about (`Event.user`);
- `vendor`: the staff of `Event.vendor` whose role is in `vendor_roles`;
- `operators`: the marketplace's active operators (when the event says `operators`);
- `address`: an e-mail address that need not be an account (`data["to_email"]`), e-mail only.

Each (event, audience) has three templates under `notifications/<event name>/`:
`<audience>.subject.txt` (also the in-app title), `<audience>.txt` and `<audience>.html`
(extending `notifications/email_base.html`). Templates get the event's `data`, the
recipient, `base_url`, `site_name` and `link` (the absolute `data.url`).

`group` is what a person can switch off per channel in their preferences; `mandatory`
mail (receipts, booking and order changes) cannot be switched off (API.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

ALL_ROLES = frozenset({"owner", "manager", "staff"})
MANAGERS = frozenset({"owner", "manager"})


@dataclass(frozen=True)
class EventType:
    name: str
    group: str
    audiences: tuple[str, ...]
    mandatory: bool = False
    vendor_roles: frozenset[str] = field(default=ALL_ROLES)
    # Carries a secret link (a password reset, an invitation): never sent to webhooks, and
    # its data is wiped from the outbox once its mail is sent.
    private: bool = False


GROUPS = {
    "account": "Your account",
    "vendor": "Your vendor account",
    "bookings": "Bookings",
    "reminders": "Booking reminders",
    "orders": "Orders",
    "payments": "Payouts and refunds",
    "disputes": "Disputes",
    "reviews": "Reviews",
    "messages": "Messages",
    "quotes": "Quotes",
    "stock": "Stock alerts",
    "vehicles": "Vehicle reminders",
}

_TYPES = [
    EventType("account.welcome", "account", ("user",), mandatory=True),
    EventType("vendor.applied", "vendor", ("vendor", "operators"), vendor_roles=MANAGERS),
    EventType("vendor.approved", "vendor", ("vendor",), mandatory=True, vendor_roles=MANAGERS),
    EventType("vendor.rejected", "vendor", ("vendor",), mandatory=True, vendor_roles=MANAGERS),
    EventType("vendor.suspended", "vendor", ("vendor",), mandatory=True, vendor_roles=MANAGERS),
    EventType("vendor.reinstated", "vendor", ("vendor",), mandatory=True, vendor_roles=MANAGERS),
    EventType("account.password_reset", "account", ("address",), mandatory=True, private=True),
    EventType("staff.invited", "account", ("address",), mandatory=True, private=True),
    EventType("booking.paid", "bookings", ("user", "vendor"), mandatory=True),
    EventType("booking.accepted", "bookings", ("user",), mandatory=True),
    EventType("booking.declined", "bookings", ("user",), mandatory=True),
    EventType("booking.cancelled", "bookings", ("user", "vendor"), mandatory=True),
    EventType("booking.expired", "bookings", ("user", "vendor"), mandatory=True),
    EventType("booking.rescheduled", "bookings", ("user", "vendor"), mandatory=True),
    EventType("booking.started", "bookings", ("user",)),
    EventType("booking.completed", "bookings", ("user",), mandatory=True),
    EventType("booking.no_show", "bookings", ("user",), mandatory=True),
    EventType("booking.reminder", "reminders", ("user",)),
    EventType("order.paid", "orders", ("user", "vendor"), mandatory=True),
    EventType("order.accepted", "orders", ("user",), mandatory=True),
    EventType("order.shipped", "orders", ("user",), mandatory=True),
    EventType("order.delivered", "orders", ("user",), mandatory=True),
    EventType("order.cancelled", "orders", ("user", "vendor"), mandatory=True),
    EventType("order.refunded", "orders", ("user", "vendor"), mandatory=True),
    EventType("order.escalated", "orders", ("vendor", "operators"), vendor_roles=MANAGERS),
    EventType("booking.refunded", "bookings", ("user", "vendor"), mandatory=True),
    EventType("payout.paid", "payments", ("vendor",), vendor_roles=MANAGERS),
    EventType("payout.failed", "payments", ("vendor",), mandatory=True, vendor_roles=MANAGERS),
    EventType("dispute.opened", "disputes", ("user", "vendor", "operators"), mandatory=True),
    EventType("dispute.decided", "disputes", ("user", "vendor"), mandatory=True),
    EventType("review.published", "reviews", ("vendor",)),
    EventType("review.replied", "reviews", ("user",)),
    EventType("stock.low", "stock", ("vendor",), vendor_roles=MANAGERS),
    EventType("message.created", "messages", ("user", "vendor")),
    # Quote jobs (agora.quotes): a request to each invited vendor, quotes to the customer,
    # the decision to each vendor that quoted.
    EventType("quote.requested", "quotes", ("vendor",)),
    EventType("quote.offered", "quotes", ("user",)),
    EventType("quote.withdrawn", "quotes", ("user",)),
    EventType("quote.accepted", "quotes", ("vendor",), mandatory=True),
    EventType("quote.declined", "quotes", ("vendor",)),
    EventType("quote.expired", "quotes", ("user",)),
    EventType("quote.cancelled", "quotes", ("vendor",)),
    EventType("vehicle.mot_due", "vehicles", ("user",)),
    EventType("booking.stage", "bookings", ("user",)),
]

EVENT_TYPES: dict[str, EventType] = {event_type.name: event_type for event_type in _TYPES}


def register(event_type: EventType) -> EventType:
    """Add an event type (apps with events of their own: quotes, vehicles)."""
    EVENT_TYPES[event_type.name] = event_type
    return event_type


def event_type(name: str) -> EventType | None:
    return EVENT_TYPES.get(name)
