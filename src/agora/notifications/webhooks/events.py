"""Which event names an endpoint may subscribe to, and the webhooks' own event.

Subscriptions are checked against the catalogue (every event the marketplace announces)
plus the quote events, whose app registers its types when it lands, plus `*` for all.
"""

from __future__ import annotations

from agora.notifications import catalogue
from agora.notifications.catalogue import MANAGERS, EventType

ALL_EVENTS = "*"

# Announced by the quotes app; subscribable before it registers them with the catalogue.
QUOTE_EVENT_NAMES = frozenset(
    {
        "quote.requested",
        "quote.invited",
        "quote.offered",
        "quote.accepted",
        "quote.declined",
        "quote.withdrawn",
        "quote.expired",
        "quote.cancelled",
    }
)

# Told to the vendor's owners and managers (vendor endpoints) or the operators (the
# operator's endpoints) when an endpoint is switched off after failing for days.
WEBHOOK_DISABLED = catalogue.register(
    EventType(
        "webhook.disabled",
        "account",
        ("vendor", "operators"),
        mandatory=True,
        vendor_roles=MANAGERS,
    )
)

# Notices about notices are not worth an HTTP call each (the stream carries them).
NOT_DELIVERED = frozenset({"notification.created"})


def delivered(name: str) -> bool:
    """Whether events of this name go to webhooks at all: not notices about notices, and
    never a private event (one carrying a secret link: a password reset, an invitation)."""
    kind = catalogue.event_type(name)
    return name not in NOT_DELIVERED and not (kind is not None and kind.private)


def subscribable_names() -> list[str]:
    """Every name `events` may hold, sorted, `*` first."""
    names = {name for name in set(catalogue.EVENT_TYPES) | QUOTE_EVENT_NAMES if delivered(name)}
    return [ALL_EVENTS, *sorted(names)]


def subscribes_to(events: list[str], name: str) -> bool:
    return ALL_EVENTS in events or name in events
