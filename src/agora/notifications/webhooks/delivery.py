"""Sending webhook deliveries: claimed with a lease, POSTed, recorded — or retried later.

Per delivery: claim (lease and attempt counted, committed), POST, record the attempt. A
worker killed between the POST and the record leaves the lease to run out and the next
worker sends again under the same `webhook-id`, so the receiver can drop the repeat:
every event arrives at least once.

An attempt succeeds on any 2xx answer within `TIMEOUT_SECONDS`; redirects are not
followed (a 3xx is a failure). A failure is retried after the next wait of
`RETRY_DELAYS` (the Standard Webhooks / Svix schedule, stretched past 72 hours: 5 s,
5 min, 30 min, 2 h, 5 h, 10 h, 10 h, 10 h, 14 h, 20 h, 24 h — 12 attempts over about
four days), each wait lengthened by up to 10 % at random so retries of many deliveries
do not arrive in lock-step. After the last the delivery is failed; it can be replayed.
"""

from __future__ import annotations

import json
import logging
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from django.conf import settings
from django.db import connection, transaction
from django.db.models import DateTimeField, F, Q, Value
from django.db.models.functions import Coalesce

from agora.core import clock
from agora.notifications import rendering
from agora.notifications.models import Event
from agora.notifications.webhooks import services, signing, ssrf
from agora.notifications.webhooks.errors import WebhookUrlRefused
from agora.notifications.webhooks.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
)

logger = logging.getLogger(__name__)

BATCH = 50
CLAIM_CHUNK = 10
TIME_BUDGET_SECONDS = 15.0
TIMEOUT_SECONDS = 10.0
RESPONSE_BODY_LIMIT = 1024  # bytes of the receiver's answer kept in the log
USER_AGENT = "Agora-Webhooks/1.0 (+https://www.standardwebhooks.com)"
RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
    timedelta(hours=10),
    timedelta(hours=14),
    timedelta(hours=20),
    timedelta(hours=24),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
JITTER = 0.1
# A claimed chunk's lease must outlast sending all of it: each attempt may take the
# timeout for connecting, for sending and for the answer.
_SECONDS_PER_ATTEMPT = 3 * TIMEOUT_SECONDS
_URL_KEYS = ("url", "vendor_url", "operator_url")


def retry_delay(failures: int) -> timedelta:
    """The base wait after the `failures`-th failed attempt of a round (1-based)."""
    return RETRY_DELAYS[min(failures, len(RETRY_DELAYS)) - 1]


def _jittered(delay: timedelta) -> timedelta:
    return delay * (1 + random.uniform(0, JITTER))


def payload_data(event: Event) -> dict[str, Any]:
    """The event's data with its links made absolute (receivers are not on this site)."""
    data = dict(event.data)
    for key in _URL_KEYS:
        value = data.get(key)
        if isinstance(value, str) and value.startswith("/"):
            data[key] = rendering.absolute(value)
    return data


def payload_body(event: Event) -> bytes:
    """The Standard Webhooks body; the same bytes on every attempt and replay."""
    occurred = event.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    document = {"type": event.name, "timestamp": occurred, "data": payload_data(event)}
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class Outcome:
    at: datetime
    status_code: int | None
    error: str
    response_body: str
    duration_ms: int

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def send_due(*, limit: int = BATCH) -> int:
    """Send up to `limit` due deliveries; return how many were tried.

    A chunk of `CLAIM_CHUNK` is claimed at a time and its requests made side by side (each
    in a thread of its own; the database is touched only here, before and after), so a
    slow receiver holds up the outbox's loop for one timeout, not one per delivery. No new
    chunk is claimed once `TIME_BUDGET_SECONDS` have passed: e-mail waits for this loop.
    """
    started = time.monotonic()
    chunk = claim(limit=min(CLAIM_CHUNK, limit))
    if not chunk:
        return 0  # the common case, every half second: no client, no threads
    sent = 0
    with (
        httpx.Client(
            timeout=TIMEOUT_SECONDS,
            follow_redirects=False,
            # The request must go to the address `ssrf` checked, not to a proxy from the
            # environment; and no connection is reused, since each is opened to an address
            # checked for one host name.
            trust_env=False,
            limits=httpx.Limits(max_keepalive_connections=0),
        ) as client,
        ThreadPoolExecutor(max_workers=CLAIM_CHUNK, thread_name_prefix="webhook") as pool,
    ):
        while chunk:
            outcomes = pool.map(lambda item: attempt(client=client, delivery=item), chunk)
            for item, outcome in zip(chunk, outcomes, strict=True):
                record(delivery=item, outcome=outcome)
            sent += len(chunk)
            if sent >= limit or time.monotonic() - started >= TIME_BUDGET_SECONDS:
                break
            chunk = claim(limit=min(CLAIM_CHUNK, limit - sent))
    return sent


def claim(*, limit: int) -> list[WebhookDelivery]:
    """Take up to `limit` due deliveries of enabled endpoints for this worker."""
    now = clock.now()
    lease = timedelta(seconds=settings.AGORA_OUTBOX_LEASE_SECONDS + limit * _SECONDS_PER_ATTEMPT)
    with transaction.atomic():
        due = WebhookDelivery.objects.filter(
            Q(leased_until__isnull=True) | Q(leased_until__lt=now),
            status=WebhookDeliveryStatus.PENDING,
            next_attempt_at__lte=now,
            endpoint__enabled=True,
        ).order_by("next_attempt_at", "id")
        if connection.vendor == "postgresql":
            due = due.select_for_update(skip_locked=True, of=("self",))
        ids = list(due.values_list("id", flat=True)[:limit])
        if not ids:
            return []
        WebhookDelivery.objects.filter(pk__in=ids).update(
            leased_until=now + lease, attempts=F("attempts") + 1
        )
    return list(
        WebhookDelivery.objects.filter(pk__in=ids)
        .select_related("event", "endpoint")
        .order_by("next_attempt_at", "id")
    )


def headers_for(
    *, endpoint: WebhookEndpoint, webhook_id: str, body: bytes, at: datetime
) -> dict[str, str]:
    timestamp = int(at.timestamp())
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signing.signature_header(
            signing_secrets=endpoint.signing_secrets(now=at),
            webhook_id=webhook_id,
            timestamp=timestamp,
            body=body,
        ),
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
    }


def attempt(*, client: httpx.Client, delivery: WebhookDelivery) -> Outcome:
    """POST the delivery once to the address its URL resolves to now (checked again)."""
    at = clock.now()
    body = payload_body(delivery.event)
    headers = headers_for(
        endpoint=delivery.endpoint, webhook_id=delivery.webhook_id, body=body, at=at
    )
    started = time.monotonic()

    def outcome(status_code: int | None = None, error: str = "", received: str = "") -> Outcome:
        elapsed = int((time.monotonic() - started) * 1000)
        return Outcome(at, status_code, error[:1000], received, elapsed)

    try:
        target = ssrf.target_resolve(
            delivery.endpoint.url, allow_private=bool(settings.AGORA_WEBHOOK_ALLOW_PRIVATE)
        )
    except WebhookUrlRefused as refusal:
        return outcome(error=f"Not sent: {refusal.detail}")
    headers["Host"] = target.host_header
    extensions = {"sni_hostname": target.sni_hostname} if target.sni_hostname else {}
    try:
        with client.stream(
            "POST", target.connect_url, content=body, headers=headers, extensions=extensions
        ) as response:
            received = _read_start(response)
            status = response.status_code
    except httpx.TimeoutException:
        return outcome(error=f"Timed out after {TIMEOUT_SECONDS:g} s ({target.address}).")
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        return outcome(error=f"{type(error).__name__}: {error or 'connection failed'}")
    if 200 <= status < 300:
        return outcome(status, "", received)
    return outcome(status, f"HTTP {status}", received)


def _read_start(response: httpx.Response) -> str:
    """The first `RESPONSE_BODY_LIMIT` bytes of the answer; the rest is never read."""
    received = b""
    for chunk in response.iter_bytes():
        received += chunk
        if len(received) >= RESPONSE_BODY_LIMIT:
            break
    return received[:RESPONSE_BODY_LIMIT].decode("utf-8", errors="replace")


def record(*, delivery: WebhookDelivery, outcome: Outcome) -> None:
    """Log the attempt and decide what comes next: done, another try later, or failed
    (which may switch the endpoint off, see `services.webhook_endpoint_disable_if_failing`)."""
    now = clock.now()
    last = {
        "leased_until": None,
        "last_status_code": outcome.status_code,
        "last_error": outcome.error,
        "last_response_body": outcome.response_body,
    }
    with transaction.atomic():
        # Locked, and read afresh: a replay meanwhile restarted its round, and a deletion
        # of the endpoint meanwhile took it away (then there is nothing to record).
        in_round = (
            WebhookDelivery.objects.select_for_update()
            .filter(pk=delivery.pk)
            .values_list("failures_in_round", flat=True)
            .first()
        )
        if in_round is None:
            return
        WebhookAttempt.objects.create(
            delivery_id=delivery.pk,
            at=outcome.at,
            status_code=outcome.status_code,
            duration_ms=outcome.duration_ms,
            error=outcome.error,
            response_body=outcome.response_body,
        )
        deliveries = WebhookDelivery.objects.filter(pk=delivery.pk)
        endpoints = WebhookEndpoint.objects.filter(pk=delivery.endpoint_id)
        if outcome.succeeded:
            deliveries.update(status=WebhookDeliveryStatus.SUCCEEDED, succeeded_at=now, **last)
            endpoints.update(consecutive_failures=0, failing_since=None)
            return
        failures = in_round + 1
        endpoints.update(
            consecutive_failures=F("consecutive_failures") + 1,
            failing_since=Coalesce(
                F("failing_since"), Value(outcome.at, output_field=DateTimeField())
            ),
        )
        if failures < MAX_ATTEMPTS:
            deliveries.update(
                failures_in_round=failures,
                next_attempt_at=now + _jittered(retry_delay(failures)),
                **last,
            )
            return
        deliveries.update(status=WebhookDeliveryStatus.FAILED, failures_in_round=failures, **last)
        logger.warning(
            "webhook %s to endpoint %s failed after %s attempts: %s",
            delivery.webhook_id,
            delivery.endpoint_id,
            failures,
            outcome.error,
        )
        services.webhook_endpoint_disable_if_failing(
            endpoint_id=delivery.endpoint_id, last_error=outcome.error
        )
