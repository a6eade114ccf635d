"""Request ids, security headers, problem+json for every API error Django produces, and a
guard that refuses requests no view could answer (NUL in the address, oversized bodies)."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

from agora.core.errors import PROBLEM_CONTENT_TYPE, ErrorCode, problem_response
from agora.core.request_context import current_request_id, reset_request_id, set_request_id

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    """Accept a sane incoming X-Request-ID or make one; echo it; put it in every log line."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = set_request_id(request_id)
        try:
            response = self.get_response(request)
        finally:
            reset_request_id(token)
        response["X-Request-ID"] = request_id
        return response


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id() or "-"
        return True


CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "style-src 'self' 'unsafe-inline'",
        "script-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "object-src 'none'",
    ]
)


class SecurityHeadersMiddleware:
    """Headers Django 5.2 does not set itself (SecurityMiddleware covers the rest)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(self)")
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        return response


_STATUS_CODES = {
    400: ErrorCode.VALIDATION_ERROR,
    401: ErrorCode.NOT_AUTHENTICATED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    500: ErrorCode.INTERNAL_ERROR,
}
_DETAILS = {
    400: "The request could not be understood.",
    401: "Authentication is required.",
    403: "You may not do this.",
    404: "No such endpoint.",
    405: "This endpoint does not accept that method.",
    500: "Something went wrong on our side; it has been logged with the request id.",
}


class ApiProblemMiddleware:
    """Make every error under /api/ problem+json, including those Django itself produces
    outside the API's handlers: unknown paths (404), wrong methods (405), disallowed hosts
    (400) and crashes outside a view (500)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code in _STATUS_CODES
            and not response.get("Content-Type", "").startswith(PROBLEM_CONTENT_TYPE)
        ):
            status = response.status_code
            problem = problem_response(
                status=status,
                code=_STATUS_CODES[status],
                detail=_DETAILS[status],
                extra={"request_id": getattr(request, "request_id", None)},
            )
            if "Allow" in response:
                problem["Allow"] = response["Allow"]
            return problem
        return response


_NUL_ESCAPE = re.compile(r"%00", re.IGNORECASE)


class RequestGuardMiddleware:
    """Refuse, before anything reads them, requests no view could answer sensibly.

    - A NUL character in the path or the query string (`/bookings/%00/pay`, `?q=%00`):
      PostgreSQL cannot store or compare text holding NUL, so a lookup by such a slug
      fails deep in the database driver. 400 on every path; problem+json under /api/.
    - An API body larger than DATA_UPLOAD_MAX_MEMORY_SIZE, judged by its Content-Length
      before it is read: 413 `payload_too_large`. Multipart uploads are left to Django's
      own limits (their files stream to disk) and to the services' size checks.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        is_api = request.path.startswith("/api/")
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or "\x00" in query or _NUL_ESCAPE.search(query):
            if not is_api:
                return HttpResponseBadRequest(
                    "The address holds a NUL character.", content_type="text/plain"
                )
            return problem_response(
                status=400,
                code=ErrorCode.VALIDATION_ERROR,
                detail="The path or query string holds a NUL character.",
                extra={
                    "errors": [{"loc": ["path"], "msg": "NUL character", "type": "value_error"}]
                },
            )
        if is_api and self._too_large(request):
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            return problem_response(
                status=413,
                code=ErrorCode.PAYLOAD_TOO_LARGE,
                detail=f"The request body is larger than the {limit} bytes allowed.",
                extra={"limit": limit},
            )
        return self.get_response(request)

    @staticmethod
    def _too_large(request: HttpRequest) -> bool:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is None or request.content_type == "multipart/form-data":
            return False
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return False
        return length > limit
