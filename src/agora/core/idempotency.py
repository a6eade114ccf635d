"""Idempotency-Key for API writes, with Stripe's semantics (API.md).

The first request with a key runs inside one transaction that also inserts the key's
row and stores the response. A retry with the same key and the same request replays that
response and moves nothing; with a different request it gets 422
`idempotency_key_reused`. Keys live 24 hours.

Concurrency: the row is inserted *before* the request's work, in the same transaction, so
a second request with the same key blocks on the unique index (PostgreSQL) or on the
single writer lock (SQLite) until the first commits — then finds the stored response and
replays it. If the first fails with a 5xx, its transaction rolls back, the row vanishes
and the retry runs for real. No polling, no stale locks after a crash.

Rate-limit counters survive that rollback (`ratelimit.surviving_rollback`): a refused
sign-in under a key must still count against the throttle, or any key would lift it. A
response marked `Cache-Control: no-store` carries a secret (a bearer token, a webhook
signing secret): its work commits but it is never stored, so no secret sits in the table
and none can be replayed by whoever learns the key.

Busy: the claim waits for a same-key request at most the lock timeout (settings
AGORA_LOCK_TIMEOUT_MS). A deadlock or lock timeout in the key's own statements rolls the
whole transaction back and runs it again (a few times, jittered), then answers 503 `busy`
with Retry-After; a service that gives up answers the same. Neither is stored, so a retry
with the same key runs the request for real and moves nothing twice: the failed attempt's
writes are gone, and the gateway is called with keys derived from this one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.http import HttpRequest, HttpResponse

from agora.core import clock, locking, ratelimit
from agora.core.errors import Busy, ErrorCode, problem_from_error, problem_response
from agora.core.models import IdempotencyKey

logger = logging.getLogger(__name__)

HEADER = "HTTP_IDEMPOTENCY_KEY"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_KEY_LENGTH = 255
# Outcomes worth replaying: success, and refusals that reflect a decision taken (a slot
# already taken, a card declined). Bad input, auth failures and throttling changed
# nothing, so the client may fix the request and use the same key again.
_STORED_ERROR_STATUSES = frozenset({402, 409})


def request_fingerprint(request: HttpRequest) -> str:
    body = request.body
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, UnicodeDecodeError, RecursionError):
        # Not JSON, or nested too deep to parse: the raw bytes identify the request just as
        # well, and the view refuses it with a 400 of its own.
        canonical = body
    digest = hashlib.sha256()
    digest.update(f"{request.method}\n{request.get_full_path()}\n".encode())
    digest.update(canonical)
    return digest.hexdigest()


def _should_store(status: int) -> bool:
    return 200 <= status < 300 or status in _STORED_ERROR_STATUSES


def _carries_secret(response: HttpResponse) -> bool:
    return "no-store" in response.get("Cache-Control", "")


def _replay(record: IdempotencyKey) -> HttpResponse:
    response = HttpResponse(
        record.body, status=record.status_code, content_type=record.content_type or None
    )
    response["Idempotent-Replayed"] = "true"
    return response


class IdempotencyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.META.get(HEADER)
        if (
            key is None
            or request.method not in WRITE_METHODS
            or not request.path.startswith("/api/")
        ):
            return self.get_response(request)
        key = key.strip()
        if not key or len(key) > MAX_KEY_LENGTH:
            return problem_response(
                status=400,
                code=ErrorCode.VALIDATION_ERROR,
                detail=f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters.",
                extra={"errors": [{"loc": ["header", "Idempotency-Key"], "msg": "invalid"}]},
            )
        user = getattr(request, "user", None)
        user_id = user.pk if user is not None and user.is_authenticated else None
        scope = f"user:{user_id}" if user_id else "anonymous"
        fingerprint = request_fingerprint(request)

        with ratelimit.surviving_rollback() as counted:
            for attempt in range(1, locking.MAX_ATTEMPTS + 1):
                # A rolled-back attempt's counts are gone with it; the next one counts again.
                del counted.windows[:]
                try:
                    return self._run_once(
                        request,
                        scope=scope,
                        key=key,
                        user_id=user_id,
                        fp=fingerprint,
                        counted=counted,
                    )
                except OperationalError as error:
                    # A deadlock or lock timeout in the key's own statements (a concurrent
                    # request with the same key held past the lock timeout): the whole
                    # transaction — claim, the request's work, the stored answer — rolled
                    # back, so running it again is safe.
                    if not locking.is_retryable(error):
                        raise
                    logger.warning(
                        "busy running an idempotent request (attempt %d/%d): %s",
                        attempt,
                        locking.MAX_ATTEMPTS,
                        error,
                    )
                    if attempt == locking.MAX_ATTEMPTS:
                        counted.rolled_back = True
                        return problem_from_error(Busy())
                    time.sleep(locking.backoff_seconds(attempt))
        raise AssertionError("unreachable")

    def _run_once(
        self,
        request: HttpRequest,
        *,
        scope: str,
        key: str,
        user_id: int | None,
        fp: str,
        counted: ratelimit.Counted,
    ) -> HttpResponse:
        """One attempt: claim the key, run the request, store or forget its answer, all in
        one transaction. A 503 (`busy`, `unavailable`) is never stored: the request's
        writes roll back with the key, and the client's retry with the key runs for real."""
        with transaction.atomic():
            existing = self._claim(scope=scope, key=key, user_id=user_id, request=request, fp=fp)
            if existing is not None:
                if existing.fingerprint != fp:
                    return problem_response(
                        status=422,
                        code=ErrorCode.IDEMPOTENCY_KEY_REUSED,
                        detail="This Idempotency-Key was used with a different request.",
                    )
                return _replay(existing)
            response = self.get_response(request)
            if _carries_secret(response) and 200 <= response.status_code < 300:
                # Keep the work, forget the key: a retry runs again rather than replaying
                # a secret from storage.
                IdempotencyKey.objects.filter(scope=scope, key=key).delete()
            elif _should_store(response.status_code):
                IdempotencyKey.objects.filter(scope=scope, key=key).update(
                    status_code=response.status_code,
                    content_type=response.get("Content-Type", ""),
                    body=response.content.decode("utf-8", errors="replace"),
                )
            else:
                # Nothing worth replaying: undo the request's writes and the key itself.
                transaction.set_rollback(True)
                counted.rolled_back = True
        return response

    def _claim(
        self, *, scope: str, key: str, user_id: int | None, request: HttpRequest, fp: str
    ) -> IdempotencyKey | None:
        """Insert the key's row; return the stored record instead when one already exists.

        One `INSERT ... ON CONFLICT DO NOTHING` (no savepoint): on PostgreSQL it waits, like
        any insert into the unique index, for a concurrent request with the same key to
        commit or roll back, then inserts nothing or inserts."""
        for _ in range(2):
            if _insert_if_absent(
                scope=scope,
                key=key,
                user_id=user_id,
                fingerprint=fp,
                method=request.method or "",
                path=request.path[:500],
            ):
                return None
            record = IdempotencyKey.objects.filter(scope=scope, key=key).first()
            if record is None:  # deleted meanwhile (expired and pruned): claim it again
                continue
            if record.created_at >= expiry_cutoff():
                return record
            record.delete()  # an expired key is free for reuse
        raise RuntimeError("could not claim idempotency key")


def _insert_if_absent(
    *, scope: str, key: str, user_id: int | None, fingerprint: str, method: str, path: str
) -> bool:
    """Insert a claim row unless (scope, key) exists; True when this call inserted it."""
    table = connection.ops.quote_name(IdempotencyKey._meta.db_table)
    columns = ", ".join(
        connection.ops.quote_name(column)
        for column in (
            "scope",
            "key",
            "user_id",
            "fingerprint",
            "method",
            "path",
            "status_code",
            "content_type",
            "body",
            "created_at",
        )
    )
    conflict = ", ".join(connection.ops.quote_name(column) for column in ("scope", "key"))
    # Only quoted identifiers of our own model are interpolated; values are parameters.
    sql = (
        f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s, %s, %s, NULL, '', '', %s) "  # noqa: S608
        f"ON CONFLICT ({conflict}) DO NOTHING"
    )
    created_at = connection.ops.adapt_datetimefield_value(clock.now())
    with connection.cursor() as cursor:
        cursor.execute(sql, [scope, key, user_id, fingerprint, method, path, created_at])
        return cursor.rowcount == 1


def expiry_cutoff() -> datetime:
    return clock.now() - timedelta(hours=settings.AGORA_IDEMPOTENCY_TTL_HOURS)


def prune_expired_keys() -> int:
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=expiry_cutoff()).delete()
    return deleted
