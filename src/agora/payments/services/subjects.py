"""Whom a sale concerns, as the app that owns its reference describes it.

Payments knows no bookings or orders (ARCHITECTURE.md): a refund or a dispute is about a
`reference` such as "booking:12". To announce one to the customer as well as to the
vendor, payments asks the app that owns the reference's kind, which registers a describer
for it when it starts (bookings for "booking", orders for "order"). The arrow still runs
from bookings and orders to payments: payments calls what they registered, it imports
nothing of theirs. A reference nobody describes is announced to its vendor only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SaleSubject:
    """What a sale is for, in the words its events need.

    `event_prefix` names the subject's events (`booking` → `booking.refunded`); `data`
    is what every event about it carries (`id`, `status`, `url`, `vendor_url`, titles,
    the vendor's time zone), built by the owner app from one query.
    """

    event_prefix: str
    customer_id: int | None
    data: dict[str, Any] = field(default_factory=dict)


Describer = Callable[[int], SaleSubject | None]

_describers: dict[str, Describer] = {}


def sale_describer_register(*, kind: str, describer: Describer) -> None:
    """Let payments describe references `<kind>:<id>` with `describer(id)`."""
    _describers[kind] = describer


def sale_describe(*, reference: str) -> SaleSubject | None:
    """The registered description of `reference`, or None (unknown kind, no such row)."""
    kind, _, raw_id = reference.partition(":")
    describer = _describers.get(kind)
    if describer is None or not raw_id.isdigit():
        return None
    return describer(int(raw_id))
