"""Calling an outside API that rate-limits and fails: retries with backoff, Retry-After,
a time budget, and a circuit breaker.

Both government APIs answer 429 when a client goes too fast and 5xx when they are down.
A lookup is a read, so it is safe to send again: `send` retries 429, 5xx, timeouts and
broken connections with exponential backoff (equal jitter), waiting exactly what a
`Retry-After` header asks when it asks for no more than `max_retry_after` seconds, and
never past the call's time budget. Each failed attempt counts against the source's
`CircuitBreaker`; after `failure_threshold` failures in a row it opens and calls fail at
once for `reset_seconds` — a dead API then costs nothing, instead of every lookup waiting
out its timeouts — and then one trial call is let through (half-open): success closes
it, failure opens it again.

Time is injected (`Timing`), so tests move it without sleeping.
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

logger = logging.getLogger(__name__)

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass
class Timing:
    """The clock and the sleep the resilience code uses (real ones by default)."""

    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[float, float], float] = random.uniform


class SourceUnavailable(Exception):
    """The source did not answer usefully within its retries and budget (or its circuit
    is open). `retry_after` is how long the caller should tell its own client to wait."""

    def __init__(self, source: str, reason: str, *, retry_after: int = 30) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason
        self.retry_after = retry_after


@dataclass
class CircuitBreaker:
    name: str
    failure_threshold: int = 5
    reset_seconds: float = 30.0
    timing: Timing = field(default_factory=Timing)
    state: str = "closed"  # closed, open, half_open
    failures: int = 0
    opened_at: float = 0.0
    _trial_in_flight: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def allow(self) -> bool:
        """Whether a call may go out now. In half-open state only one trial at a time."""
        with self._lock:
            if self.state == "closed":
                return True
            if self.state == "open":
                if self.timing.monotonic() - self.opened_at < self.reset_seconds:
                    return False
                self.state = "half_open"
                self._trial_in_flight = False
            if self._trial_in_flight:
                return False
            self._trial_in_flight = True
            return True

    def seconds_until_trial(self) -> int:
        with self._lock:
            if self.state != "open":
                return 1
            remaining = self.reset_seconds - (self.timing.monotonic() - self.opened_at)
            return max(1, int(remaining + 0.999))

    def record_success(self) -> None:
        with self._lock:
            if self.state != "closed":
                logger.info("circuit %s closed again", self.name)
            self.state = "closed"
            self.failures = 0
            self._trial_in_flight = False

    def record_failure(self) -> None:
        with self._lock:
            self.failures += 1
            self._trial_in_flight = False
            if self.state == "half_open" or self.failures >= self.failure_threshold:
                if self.state != "open":
                    logger.warning("circuit %s opened after %d failures", self.name, self.failures)
                self.state = "open"
                self.opened_at = self.timing.monotonic()


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = 2  # attempts after the first
    backoff_seconds: float = 0.25  # the first retry's wait; doubled each time
    max_backoff_seconds: float = 4.0
    max_retry_after: float = 5.0  # a longer Retry-After is not waited for
    budget_seconds: float = 10.0  # the whole call, waits included


def retry_after_seconds(response: httpx.Response, *, now: datetime | None = None) -> float | None:
    """A `Retry-After` header in seconds, whether given as seconds or as an HTTP date."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def send(
    client: httpx.Client,
    build: Callable[[], httpx.Request],
    *,
    source: str,
    policy: RetryPolicy,
    breaker: CircuitBreaker | None,
    timing: Timing,
) -> httpx.Response:
    """Send the request `build` makes until it gets an answer that is not worth retrying.

    Returns that response (2xx, or a 4xx other than 429 for the caller to interpret).
    Raises SourceUnavailable when the circuit is open, or when retries or the budget run
    out on 429, 5xx or transport errors.
    """
    started = timing.monotonic()
    attempt = 0
    while True:
        if breaker is not None and not breaker.allow():
            raise SourceUnavailable(
                source, "circuit open", retry_after=breaker.seconds_until_trial()
            )
        asked_wait: float | None = None
        try:
            response = client.send(build())
        except httpx.TransportError as error:  # timeouts, refused or reset connections
            reason = f"{type(error).__name__}"
        else:
            if response.status_code not in RETRYABLE_STATUSES:
                if breaker is not None:
                    breaker.record_success()
                return response
            reason = f"HTTP {response.status_code}"
            asked_wait = retry_after_seconds(response)
        if breaker is not None:
            breaker.record_failure()
        wait = _wait(policy, attempt=attempt, asked=asked_wait, timing=timing)
        elapsed = timing.monotonic() - started
        out_of_attempts = attempt >= policy.retries
        too_long = asked_wait is not None and asked_wait > policy.max_retry_after
        over_budget = elapsed + wait > policy.budget_seconds
        if out_of_attempts or too_long or over_budget:
            retry_after = int(asked_wait + 0.999) if asked_wait is not None else 30
            logger.warning("%s unavailable after %d attempt(s): %s", source, attempt + 1, reason)
            raise SourceUnavailable(source, reason, retry_after=max(1, retry_after))
        logger.info("%s answered %s; retrying in %.2fs", source, reason, wait)
        timing.sleep(wait)
        attempt += 1


def _wait(policy: RetryPolicy, *, attempt: int, asked: float | None, timing: Timing) -> float:
    if asked is not None:
        return asked
    ceiling = min(policy.max_backoff_seconds, policy.backoff_seconds * (2**attempt))
    return ceiling / 2 + timing.jitter(0, ceiling / 2)
