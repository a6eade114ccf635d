"""What a stream says: whom an event concerns, the JSON each side sees, the SSE frames.

Pure functions on plain values (no database), shared by the long-lived ASGI stream and the
finite replay of the API view.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from agora.notifications import catalogue

BOOKING_STREAM = "booking.updated"
NOTIFICATION_STREAM = "notification.created"
# The one event of the public per-listing streams: "the free times may have changed".
SLOTS_CHANGED = "slots.changed"
# How long a client waits before reconnecting (the SSE `retry:` field), in milliseconds.
RETRY_MS = 2000

# Related objects a page needs to tell whether an event is about what it shows (a
# message's `subject`, "booking:12"; a quote's request); copied from the data when present.
REFERENCE_KEYS = (
    "subject",
    "booking_id",
    "order_id",
    "checkout_id",
    "listing_id",
    "quote_id",
    "quote_request_id",
    "conversation_id",
)
# Where each side of an event finds its own link (events carry `url` for the customer).
_URL_KEYS = {
    "user": ("url",),
    "vendor": ("vendor_url", "url"),
    "operators": ("operator_url", "url"),
}


@dataclass(frozen=True, eq=False)
class StreamEvent:
    """One streamed outbox event as the hub and the streams hold it (no model instance)."""

    seq: int
    name: str
    stream_name: str
    user_id: int | None
    vendor_id: int | None
    operators: bool
    data: dict[str, Any]
    # JSON per side, made once however many streams send it (1,000 streams of one vendor).
    _json: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def payload(self, side: str) -> dict[str, Any]:
        """What `side` ("user", "vendor", "operators") is told: id, status, its own url."""
        data = self.data
        url = next((data[key] for key in _URL_KEYS[side] if data.get(key)), "")
        body: dict[str, Any] = {"id": data.get("id"), "name": self.name}
        if "status" in data:
            body["status"] = data["status"]
        body["url"] = str(url)
        for key in REFERENCE_KEYS:
            if key in data:
                body[key] = data[key]
        if self.stream_name == NOTIFICATION_STREAM:
            # A notice is one person's own: its title and the event it tells of.
            for key in ("event", "title"):
                if key in data:
                    body[key] = data[key]
        return body

    def json_for(self, side: str) -> str:
        if side not in self._json:
            self._json[side] = json.dumps(self.payload(side), separators=(",", ":"), default=str)
        return self._json[side]


@dataclass(frozen=True)
class Audience:
    """Whose events a stream carries, computed once when it opens.

    A signed-in caller hears of events about them (`user_id`), about a vendor they staff
    (`vendor_roles`: vendor id → role) and, for operators, events for operators. An
    anonymous listing stream (`slots_of_vendor`, `listing_id`) hears only that something
    changed the free times: any booking change at the listing's vendor, since a vendor's
    resources are shared by its listings.
    """

    user_id: int | None = None
    vendor_roles: tuple[tuple[int, str], ...] = ()
    operator: bool = False
    slots_of_vendor: int | None = None
    listing_id: int | None = None

    @property
    def vendor_ids(self) -> list[int]:
        return [vendor_id for vendor_id, _ in self.vendor_roles]

    @property
    def is_public(self) -> bool:
        return self.slots_of_vendor is not None

    def side(self, event: StreamEvent) -> str | None:
        """Which side of `event` this audience sees, or None if it does not concern it."""
        if self.slots_of_vendor is not None:
            concerns = (
                event.stream_name == BOOKING_STREAM and event.vendor_id == self.slots_of_vendor
            )
            return "public" if concerns else None
        if self.user_id is not None and event.user_id == self.user_id:
            return "user"
        if event.vendor_id is not None:
            role = dict(self.vendor_roles).get(event.vendor_id)
            kind = catalogue.event_type(event.name)
            if role is not None and (kind is None or role in kind.vendor_roles):
                return "vendor"
        if event.operators and self.operator:
            return "operators"
        return None

    def frame(self, event: StreamEvent) -> str | None:
        """The SSE frame of `event` for this audience, or None if it does not concern it."""
        side = self.side(event)
        if side is None:
            return None
        if side == "public":
            data = json.dumps({"listing_id": self.listing_id}, separators=(",", ":"))
            return event_frame(seq=event.seq, name=SLOTS_CHANGED, data=data)
        return event_frame(seq=event.seq, name=event.stream_name, data=event.json_for(side))

    def frames(self, events: list[StreamEvent]) -> list[str]:
        """The frames of `events`; a public stream says "slots changed" once per batch."""
        frames = [frame for frame in map(self.frame, events) if frame is not None]
        return frames[-1:] if self.is_public else frames


def event_frame(*, seq: int, name: str, data: str) -> str:
    # `data` is one line of JSON (json.dumps escapes newlines), so one `data:` field.
    return f"id: {seq}\nevent: {name}\ndata: {data}\n\n"


def position_frame(seq: int) -> str:
    """An `id:` with no data: sets the client's Last-Event-ID without firing an event, so a
    stream that drops before its first event still resumes from where it began."""
    return f"id: {seq}\n\n"


def retry_frame() -> str:
    return f"retry: {RETRY_MS}\n\n"


HEARTBEAT_FRAME = ": keep-alive\n\n"


def parse_last_event_id(raw: str | None) -> int | None:
    """The stream position a client resumes after; None when it sent none.

    ValueError for anything but a whole number ≥ 0 (ids are only ever ours).
    """
    if raw is None or not raw.strip():
        return None
    value = raw.strip()
    if not value.isdigit() or len(value) > 18:
        raise ValueError(value)
    return int(value)
