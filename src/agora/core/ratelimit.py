"""Fixed-window rate limits kept in the database, so every server process shares them.

Counters change with a conditional `UPDATE ... SET count = count + 1`, never a
read-modify-save, so concurrent sign-in attempts are all counted.
"""

from __future__ import annotations

import contextvars
import hashlib
import math
from collections.abc import Iterator
from contextlib import contextmanager
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


# Windows counted inside a `surviving_rollback()` block, to count again if it rolls back.
_counted: contextvars.ContextVar[list[Window] | None] = contextvars.ContextVar(
    "ratelimit_counted", default=None
)


class Counted:
    """What a `surviving_rollback()` block counted; the caller says if it was undone."""

    def __init__(self) -> None:
        self.windows: list[Window] = []
        self.rolled_back = False


@contextmanager
def surviving_rollback() -> Iterator[Counted]:
    """Keep the counts made inside the block even when its transaction is rolled back.

    Wrap it around an `atomic()` that may be rolled back for reasons of its own (an
    idempotent request that was refused) and set `rolled_back` when it was, or leave by an
    exception: each window counted inside is then counted again, after the rollback. So
    a throttle stays closed whatever happened to the request that tripped it.
    """
    counted = Counted()
    token = _counted.set(counted.windows)
    try:
        yield counted
    except BaseException:
        counted.rolled_back = True
        raise
    finally:
        _counted.reset(token)
        if counted.rolled_back:
            for window in counted.windows:
                _increment(window)


def hit(*, scope: str, ident: str, window_seconds: int) -> int:
    """Count one event; return the window's count including it."""
    window = _window(scope, ident, window_seconds)
    _increment(window)
    counted = _counted.get()
    if counted is not None:
        counted.append(window)
    return count(scope=scope, ident=ident, window_seconds=window_seconds)


def _increment(window: Window) -> None:
    with transaction.atomic():
        if not RateCounter.objects.filter(key=window.key).update(count=F("count") + 1):
            try:
                with transaction.atomic():
                    RateCounter.objects.create(
                        key=window.key, count=1, window_ends_at=window.ends_at
                    )
            except IntegrityError:
                RateCounter.objects.filter(key=window.key).update(count=F("count") + 1)


def retry_after(*, window_seconds: int) -> int:
    now = clock.now()
    remaining = window_seconds - (now.timestamp() % window_seconds)
    return max(1, math.ceil(remaining))


def prune_expired() -> int:
    deleted, _ = RateCounter.objects.filter(
        window_ends_at__lt=clock.now() - timedelta(hours=1)
    ).delete()
    return deleted
