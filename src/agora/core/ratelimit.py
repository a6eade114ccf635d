"""Fixed-window rate limits kept in the database, so every server process shares them.

Counters change with a conditional `UPDATE ... SET count = count + 1`, never a
read-modify-save, so concurrent sign-in attempts are all counted.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F

from agora.core import clock
from agora.core.models import RateCounter


@dataclass(frozen=True)
class Window:
    key: str
    ends_at: datetime


def _ident_key(ident: str) -> str:
    """`ident` as it appears in a counter's key: itself when short and printable, else a
    digest. Idents come from clients (a 254-character e-mail address, a NUL), while the
    key column is 255 characters and PostgreSQL cannot store NUL."""
    if len(ident) <= 100 and ident.isprintable():
        return ident
    return "sha256:" + hashlib.sha256(ident.encode("utf-8", "surrogatepass")).hexdigest()


def _window(scope: str, ident: str, window_seconds: int) -> Window:
    now = clock.now()
    index = int(now.timestamp()) // window_seconds
    ends_at = datetime.fromtimestamp((index + 1) * window_seconds, tz=now.tzinfo)
    return Window(key=f"{scope}:{_ident_key(ident)}:{window_seconds}:{index}", ends_at=ends_at)


def count(*, scope: str, ident: str, window_seconds: int) -> int:
    window = _window(scope, ident, window_seconds)
    value = RateCounter.objects.filter(key=window.key).values_list("count", flat=True).first()
    return value or 0


def hit(*, scope: str, ident: str, window_seconds: int) -> int:
    """Count one event; return the window's count including it."""
    window = _window(scope, ident, window_seconds)
    with transaction.atomic():
        if not RateCounter.objects.filter(key=window.key).update(count=F("count") + 1):
            try:
                with transaction.atomic():
                    RateCounter.objects.create(
                        key=window.key, count=1, window_ends_at=window.ends_at
                    )
            except IntegrityError:
                RateCounter.objects.filter(key=window.key).update(count=F("count") + 1)
    return count(scope=scope, ident=ident, window_seconds=window_seconds)


def retry_after(*, window_seconds: int) -> int:
    now = clock.now()
    remaining = window_seconds - (now.timestamp() % window_seconds)
    return max(1, math.ceil(remaining))


def prune_expired() -> int:
    deleted, _ = RateCounter.objects.filter(
        window_ends_at__lt=clock.now() - timedelta(hours=1)
    ).delete()
    return deleted
