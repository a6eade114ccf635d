"""Due work at its due time for orders (see bookings.timers for the pattern): a stock
reservation lapses at `expires_at`, a delivered order completes itself after
`AUTO_COMPLETE_AFTER_DAYS`, escrow is released `AGORA_ESCROW_RELEASE_HOURS` after
completion. Each is the periodic sweep, run at that moment; the sweeps remain the net."""

from __future__ import annotations

import math
import threading
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

RESERVATION_BUCKET_SECONDS = 5

_scheduled_buckets: set[int] = set()
_buckets_lock = threading.Lock()


def after_reservation(*, expires_at: datetime) -> None:
    """Schedule the reservation-expiry sweep once per bucket and process."""
    from agora.orders import tasks

    bucket = math.ceil(expires_at.timestamp() / RESERVATION_BUCKET_SECONDS)
    with _buckets_lock:
        if bucket in _scheduled_buckets:
            return
    run_after = datetime.fromtimestamp(bucket * RESERVATION_BUCKET_SECONDS, tz=expires_at.tzinfo)
    tasks.expire_stock_reservations.using(run_after=run_after).enqueue()

    def remember() -> None:
        with _buckets_lock:
            if len(_scheduled_buckets) > 10_000:
                _scheduled_buckets.clear()
            _scheduled_buckets.add(bucket)

    transaction.on_commit(remember)


def after_delivery(*, delivered_at: datetime) -> None:
    from agora.orders import tasks
    from agora.orders.services.fulfilment import AUTO_COMPLETE_AFTER_DAYS

    run_after = delivered_at + timedelta(days=AUTO_COMPLETE_AFTER_DAYS, seconds=1)
    tasks.complete_delivered_orders.using(run_after=run_after).enqueue()


def after_completion(*, completed_at: datetime) -> None:
    from agora.orders import tasks

    run_after = completed_at + timedelta(hours=settings.AGORA_ESCROW_RELEASE_HOURS)
    tasks.release_order_escrow.using(run_after=run_after).enqueue()
