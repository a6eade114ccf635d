"""Domain errors and their one rendering as problem+json (RFC 9457).

Every app raises a subclass of `DomainError` carrying a stable machine `code`; the API's
exception handlers (agora.api) and the pages turn it into a response in one place, so a
client can rely on `code` whatever produced the error.
"""

from __future__ import annotations

import json
from enum import StrEnum
from http import HTTPStatus
from typing import Any

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse

from agora.core.request_context import current_request_id

PROBLEM_CONTENT_TYPE = "application/problem+json"

# The database cannot be reached (down, restarting, out of connections, a lock held too
# long): the request may well succeed in a moment, so 503 with Retry-After, not a 500.
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (OperationalError, InterfaceError)
DATABASE_RETRY_AFTER_SECONDS = 5


class ErrorCode(StrEnum):
    VALIDATION_ERROR = "validation_error"
    NOT_AUTHENTICATED = "not_authenticated"
    INVALID_CREDENTIALS = "invalid_credentials"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    CONFLICT = "conflict"
    INVALID_TRANSITION = "invalid_transition"
    RATE_LIMITED = "rate_limited"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    BUSY = "busy"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    UNAVAILABLE = "unavailable"
    INTERNAL_ERROR = "internal_error"


class DomainError(Exception):
    """An expected refusal of a request, with a stable code and an HTTP status.

    `extra` members are added to the problem document (e.g. `errors` with field paths,
    `lines` short of stock); `headers` to the response (e.g. Retry-After).
    """

    status: int = HTTPStatus.CONFLICT
    code: str = ErrorCode.CONFLICT

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        status: int | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.extra = extra or {}
        self.headers = headers or {}


class InvalidInput(DomainError):
    """Bad input (422). `errors` lists `{loc, msg, type}` items with field paths."""

    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = ErrorCode.VALIDATION_ERROR

    def __init__(
        self, detail: str, *, errors: list[dict[str, Any]] | None = None, code: str | None = None
    ) -> None:
        super().__init__(detail, code=code, extra={"errors": errors or []})


class NotAuthenticated(DomainError):
    status = HTTPStatus.UNAUTHORIZED
    code = ErrorCode.NOT_AUTHENTICATED

    def __init__(self, detail: str = "Authentication is required.", **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": 'Bearer realm="agora"'})
        super().__init__(detail, **kwargs)


class Forbidden(DomainError):
    status = HTTPStatus.FORBIDDEN
    code = ErrorCode.FORBIDDEN

    def __init__(self, detail: str = "You do not have the role this needs.", **kwargs: Any):
        super().__init__(detail, **kwargs)


class NotFound(DomainError):
    """Missing, or belonging to another tenant: the two are indistinguishable on purpose."""

    status = HTTPStatus.NOT_FOUND
    code = ErrorCode.NOT_FOUND

    def __init__(self, detail: str = "Not found.", **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)


class Conflict(DomainError):
    status = HTTPStatus.CONFLICT
    code = ErrorCode.CONFLICT


class InvalidTransition(DomainError):
    status = HTTPStatus.CONFLICT
    code = ErrorCode.INVALID_TRANSITION


class RateLimited(DomainError):
    status = HTTPStatus.TOO_MANY_REQUESTS
    code = ErrorCode.RATE_LIMITED

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(
            detail, extra={"retry_after": retry_after}, headers={"Retry-After": str(retry_after)}
        )


class Busy(DomainError):
    """A scarce row stayed locked past the lock timeout after bounded retries."""

    status = HTTPStatus.SERVICE_UNAVAILABLE
    code = ErrorCode.BUSY

    def __init__(self, detail: str = "The resource is busy; retry shortly.") -> None:
        super().__init__(detail, headers={"Retry-After": "1"})


def problem_response(
    *,
    status: int,
    code: str,
    detail: str,
    title: str | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    body: dict[str, Any] = {
        "type": f"/problems/{code}",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if extra:
        body.update(extra)
    if status >= 400 and not body.get("request_id"):
        # Every problem names its request, so a support ticket can quote it: refusals made
        # before a view runs (a bad Idempotency-Key) included.
        request_id = current_request_id()
        if request_id:
            body["request_id"] = request_id
    response = HttpResponse(
        json.dumps(body, default=str), status=status, content_type=PROBLEM_CONTENT_TYPE
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def problem_from_error(error: DomainError) -> HttpResponse:
    return problem_response(
        status=int(error.status),
        code=str(error.code),
        detail=error.detail,
        extra=error.extra,
        headers=error.headers,
    )


def unavailable_response() -> HttpResponse:
    """503 `unavailable` for a request that met an unreachable database."""
    return problem_response(
        status=503,
        code=ErrorCode.UNAVAILABLE,
        detail="The service cannot reach its database just now; retry shortly.",
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
    )
