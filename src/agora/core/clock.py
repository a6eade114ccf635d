"""The one source of "now" for domain code, so tests can move time.

Domain code calls `clock.now()` instead of `timezone.now()`. Tests use `clock.frozen(at)`
or `clock.advance(delta)`; the override is process-wide on purpose, so threads started by a
race test see the same time as the test.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.utils import timezone

_lock = threading.Lock()
_frozen_at: datetime | None = None
_offset = timedelta(0)


def now() -> datetime:
    if _frozen_at is not None:
        return _frozen_at
    return timezone.now() + _offset


@contextmanager
def frozen(at: datetime) -> Iterator[None]:
    """Stop the clock at `at` (an aware datetime) for the duration of the block."""
    global _frozen_at
    if timezone.is_naive(at):
        raise ValueError("clock.frozen needs an aware datetime")
    with _lock:
        previous, _frozen_at = _frozen_at, at
    try:
        yield
    finally:
        with _lock:
            _frozen_at = previous


def advance(delta: timedelta) -> None:
    """Move a frozen clock forward by `delta`; move a running clock's offset otherwise."""
    global _frozen_at, _offset
    with _lock:
        if _frozen_at is not None:
            _frozen_at += delta
        else:
            _offset += delta


def reset() -> None:
    global _frozen_at, _offset
    with _lock:
        _frozen_at = None
        _offset = timedelta(0)
