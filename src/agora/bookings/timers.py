"""Due work at its due time: each booking's deadlines are scheduled when they are set.

A hold lapses at `hold_expires_at`, an unanswered request at the vendor's acceptance
timeout, escrow is released `AGORA_ESCROW_RELEASE_HOURS` after completion, reminders go
24 h and 2 h before the start. The service that sets a deadline calls the function here in
its own transaction; it enqueues a django-tasks task with `run_after` at that moment (the
database backend writes the task row in the same transaction, so a rolled-back change
schedules nothing). The task runs the same sweep the periodic jobs run — which acts only on
what is due — so a timer that fires early, late or twice does nothing wrong, and the
periodic sweeps stay as the safety net for a lost timer.

Holds are the hot path (hundreds a second): their sweep is scheduled once per
`HOLD_BUCKET` per process rather than once per hold, so a hold lapses at most that long
after its time.
"""

from __future__ import annotations

import math
import threading
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from agora.bookings.models import Booking, CancellationPolicy
from agora.core import clock

HOLD_BUCKET_SECONDS = 5
REMINDERS = (("24h", timedelta(hours=24)), ("2h", timedelta(hours=2)))

_scheduled_buckets: set[int] = set()
_buckets_lock = threading.Lock()


def _bucket(at: datetime) -> int:
    return math.ceil(at.timestamp() / HOLD_BUCKET_SECONDS)


def after_hold(*, booking: Booking) -> None:
    """Schedule the hold-expiry sweep for the end of this hold's bucket."""
    from agora.bookings import tasks

    if booking.hold_expires_at is None:
        return
    bucket = _bucket(booking.hold_expires_at)
    with _buckets_lock:
        if bucket in _scheduled_buckets:
            return
    run_after = datetime.fromtimestamp(
        bucket * HOLD_BUCKET_SECONDS, tz=booking.hold_expires_at.tzinfo
    )
    tasks.expire_holds.using(run_after=run_after).enqueue()

    def remember() -> None:
        with _buckets_lock:
            if len(_scheduled_buckets) > 10_000:  # old buckets are of no further use
                _scheduled_buckets.clear()
            _scheduled_buckets.add(bucket)

    transaction.on_commit(remember)


def after_payment(*, booking: Booking) -> None:
    """A paid booking: its acceptance deadline (when pending) and its first reminder."""
    from agora.bookings import tasks

    if booking.status == "pending" and booking.paid_at is not None:
        hours = (
            CancellationPolicy.objects.filter(vendor_id=booking.vendor_id)
            .values_list("acceptance_timeout_hours", flat=True)
            .first()
        )
        if hours is None:
            hours = CancellationPolicy().acceptance_timeout_hours
        tasks.expire_unanswered_bookings.using(
            run_after=booking.paid_at + timedelta(hours=hours, seconds=1)
        ).enqueue()
    schedule_next_reminder(booking=booking)


def schedule_next_reminder(*, booking: Booking, after: str | None = None) -> None:
    """Enqueue the next reminder still ahead (after the one named `after`)."""
    from agora.bookings import tasks

    kinds = [kind for kind, _ in REMINDERS]
    following = REMINDERS[kinds.index(after) + 1 :] if after in kinds else REMINDERS
    now = clock.now()
    for kind, before in following:
        at = booking.start - before
        if booking.start > now and at > now - timedelta(minutes=1):
            tasks.send_booking_reminder.using(run_after=max(at, now)).enqueue(
                booking_id=booking.pk, kind=kind, start=booking.start.isoformat()
            )
            return


def after_completion(*, booking: Booking) -> None:
    from agora.bookings import tasks

    completed_at = booking.completed_at or clock.now()
    release_at = completed_at + timedelta(hours=settings.AGORA_ESCROW_RELEASE_HOURS)
    tasks.release_booking_escrow.using(run_after=release_at).enqueue()
