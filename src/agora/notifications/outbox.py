"""`emit`: the one function every domain service calls to announce what happened.

Call it inside the transaction of the change it announces, like `audit_log`: the event
lands if and only if the change does, so nothing is announced that did not happen and
nothing that happened goes unannounced when a process dies right after its commit. It
imports no domain app; the caller says whom the event concerns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connection, models, transaction
from django.db.models.expressions import RawSQL

from agora.core import clock
from agora.notifications.models import Event

# Stream (SSE) names by the subject's kind; events of other kinds reach the stream only
# through the notification they produce (`notification.created`).
_STREAMED_KINDS = {
    "booking": "booking.updated",
    "order": "order.updated",
    "quote": "quote.updated",
    "message": "message.created",
    "notification": "notification.created",
}

# Called after each commit that emitted events (the live hub's wake-up, Redis publish).
_after_commit_hooks: list[Callable[[], None]] = []


def on_events_committed(hook: Callable[[], None]) -> None:
    """Register `hook` to run after every transaction that emitted events commits."""
    if hook not in _after_commit_hooks:
        _after_commit_hooks.append(hook)


def stream_name_for(name: str) -> str:
    return _STREAMED_KINDS.get(name.split(".", 1)[0], "")


def _subject(subject: models.Model | str) -> str:
    if isinstance(subject, str):
        return subject
    return f"{subject._meta.model_name}:{subject.pk}"


def emit(
    name: str,
    *,
    subject: models.Model | str,
    data: dict[str, Any],
    user_id: int | None = None,
    vendor_id: int | None = None,
    operators: bool = False,
) -> Event:
    """Record event `name` (dotted, e.g. `booking.paid`) about `subject`.

    `user_id` is the person it is about (a booking's customer), `vendor_id` the vendor
    whose staff it concerns, `operators` whether operators hear of it. `data` must be
    JSON and should hold `id`, `status` (where the subject has one) and `url` (a path),
    plus whatever the messages about it need (titles, times, amounts as Money dicts).
    """
    return emit_many([(name, subject, data, user_id, vendor_id, operators)])[0]


EventSpec = tuple[str, models.Model | str, dict[str, Any], int | None, int | None, bool]


def emit_many(events: list[EventSpec]) -> list[Event]:
    """`emit` for several events in one INSERT (a checkout's orders, a bulk action)."""
    if not events:
        return []
    now = clock.now()
    postgres = connection.vendor == "postgresql"
    rows = [
        Event(
            name=name,
            stream_name=stream_name_for(name),
            subject=_subject(subject),
            data=data,
            user_id=user_id,
            vendor_id=vendor_id,
            operators=operators,
            created_at=now,
            # The inserting transaction, for the sequencer (see Event); a transaction that
            # writes has an id already, so this assigns nothing new.
            xid=RawSQL("pg_current_xact_id()::text::bigint", ()) if postgres else None,
        )
        for name, subject, data, user_id, vendor_id, operators in events
    ]
    created = Event.objects.bulk_create(rows)
    if not postgres:
        # SQLite runs one writer at a time, so insert order is commit order: the stream
        # position is the id, set in the same transaction.
        Event.objects.filter(pk__in=[event.pk for event in created]).update(seq=models.F("id"))
        for event in created:
            event.seq = event.pk
    for hook in _after_commit_hooks:
        transaction.on_commit(hook)
    return created
