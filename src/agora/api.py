"""The REST API at /api/v1: routers of every app, and one rendering of every error.

Each handler below maps one class of error to problem+json with a stable `code`; nothing
reaches a client as an HTML page or a stack trace.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db import DataError, InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError

from agora.accounts.api import router as accounts_router
from agora.bookings.api import router as bookings_router
from agora.catalog.api import operator_router as catalog_operator_router
from agora.catalog.api import router as catalog_router
from agora.core import locking
from agora.core.errors import (
    Busy,
    DomainError,
    ErrorCode,
    problem_from_error,
    problem_response,
    unavailable_response,
)
from agora.core.openapi import ContractAPI
from agora.messaging.api import router as messaging_router
from agora.notifications.api import router as notifications_router
from agora.notifications.live.api import router as live_router
from agora.notifications.webhooks.api import operator_router as webhooks_operator_router
from agora.notifications.webhooks.api import router as webhooks_router
from agora.orders.api import router as orders_router
from agora.payments.api import operator_router as payments_operator_router
from agora.payments.api import router as payments_router
from agora.quotes.api import operator_router as quotes_operator_router
from agora.quotes.api import router as quotes_router
from agora.reviews.api import operator_router as reviews_operator_router
from agora.reviews.api import router as reviews_router
from agora.search.api import router as search_router
from agora.vendors.api import operator_router as vendors_operator_router
from agora.vendors.api import router as vendors_router
from agora.verticals.automotive.api import router as vehicles_router

logger = logging.getLogger("agora.api")

api = ContractAPI(
    title="Agora API",
    version="1",
    description=(
        "Multi-vendor marketplace: vendors, listings, bookings, goods, payments, reviews. "
        "Errors are application/problem+json with a stable `code`. Writes that take a slot, "
        "reserve stock or move money accept an `Idempotency-Key` header."
    ),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def _validation_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "loc": list(error.get("loc", [])),
            "msg": error.get("msg", ""),
            "type": error.get("type", ""),
        }
        for error in errors
    ]


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, error: DomainError) -> HttpResponse:
    return problem_from_error(error)


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, error: ValidationError) -> HttpResponse:
    return problem_response(
        status=422,
        code=ErrorCode.VALIDATION_ERROR,
        detail="The request is not valid; see `errors` for the fields.",
        extra={"errors": _validation_errors(list(error.errors))},
    )


@api.exception_handler(AuthenticationError)
def on_authentication_error(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
    return problem_response(
        status=401,
        code=ErrorCode.NOT_AUTHENTICATED,
        detail="A valid bearer token is required (Authorization: Bearer <token>).",
        headers={"WWW-Authenticate": 'Bearer realm="agora"'},
    )


@api.exception_handler(AuthorizationError)
def on_authorization_error(request: HttpRequest, error: AuthorizationError) -> HttpResponse:
    return problem_response(status=403, code=ErrorCode.FORBIDDEN, detail=str(error.message))


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
    if error.status_code == 400:
        # Ninja raises this for a body that is not JSON at all.
        return problem_response(
            status=400,
            code=ErrorCode.VALIDATION_ERROR,
            detail="The request body is not valid JSON.",
            extra={
                "errors": [{"loc": ["body"], "msg": "malformed JSON", "type": "json_invalid"}],
                "request_id": getattr(request, "request_id", None),
            },
        )
    code = {
        401: ErrorCode.NOT_AUTHENTICATED,
        403: ErrorCode.FORBIDDEN,
        404: ErrorCode.NOT_FOUND,
        405: ErrorCode.METHOD_NOT_ALLOWED,
        429: ErrorCode.RATE_LIMITED,
    }.get(error.status_code, ErrorCode.CONFLICT)
    return problem_response(status=error.status_code, code=code, detail=str(error.message))


@api.exception_handler(DataError)
def on_data_error(request: HttpRequest, error: DataError) -> HttpResponse:
    # Input the database cannot store (a NUL character, a value out of range) that slipped
    # past validation: still the client's input, so 422 — never a 500.
    logger.warning("database refused input on %s %s: %s", request.method, request.path, error)
    return problem_response(
        status=422,
        code=ErrorCode.VALIDATION_ERROR,
        detail="A value in the request cannot be stored (a NUL character, a number out of range).",
    )


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def on_database_unavailable(request: HttpRequest, error: Exception) -> HttpResponse:
    if locking.is_retryable(error):
        # A deadlock or a lock timeout that no service retried: the row was busy, not the
        # database down. Its transaction was rolled back; the client may send it again.
        logger.warning("busy on %s %s: %s", request.method, request.path, error)
        return problem_from_error(Busy())
    # The database is down or unreachable: nothing is wrong with the request, retry it.
    logger.error("database unavailable on %s %s: %s", request.method, request.path, error)
    return unavailable_response()


@api.exception_handler(RequestDataTooBig)
def on_body_too_large(request: HttpRequest, error: RequestDataTooBig) -> HttpResponse:
    # A body without Content-Length (chunked) that grew past DATA_UPLOAD_MAX_MEMORY_SIZE;
    # one with it is refused earlier by RequestGuardMiddleware, with the same answer.
    return problem_response(
        status=413,
        code=ErrorCode.PAYLOAD_TOO_LARGE,
        detail="The request body is larger than allowed.",
    )


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, error: Http404) -> HttpResponse:
    return problem_response(status=404, code=ErrorCode.NOT_FOUND, detail="Not found.")


@api.exception_handler(PermissionDenied)
def on_permission_denied(request: HttpRequest, error: PermissionDenied) -> HttpResponse:
    return problem_response(
        status=403, code=ErrorCode.FORBIDDEN, detail=str(error) or "You may not do this."
    )


@api.exception_handler(Exception)
def on_unhandled(request: HttpRequest, error: Exception) -> HttpResponse:
    request_id = getattr(request, "request_id", None)
    logger.exception("unhandled error on %s %s", request.method, request.path)
    return problem_response(
        status=500,
        code=ErrorCode.INTERNAL_ERROR,
        detail="Something went wrong on our side; it has been logged with the request id.",
        extra={"request_id": request_id},
    )


api.add_router("/", accounts_router)
api.add_router("/", vendors_router)
api.add_router("/", vendors_operator_router)
api.add_router("/", search_router)
api.add_router("/", catalog_router)
api.add_router("/", catalog_operator_router)
api.add_router("/", bookings_router)
api.add_router("/", orders_router)
api.add_router("/", payments_router)
api.add_router("/", payments_operator_router)
api.add_router("/", reviews_router)
api.add_router("/", reviews_operator_router)
api.add_router("/", quotes_router)
api.add_router("/", quotes_operator_router)
api.add_router("/", messaging_router)
api.add_router("/", notifications_router)
api.add_router("/", live_router)
api.add_router("/", webhooks_router)
api.add_router("/", webhooks_operator_router)
api.add_router("/", vehicles_router)
