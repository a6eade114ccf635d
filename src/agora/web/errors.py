"""Domain refusals on pages become HTML pages, not problem+json.

Views catch the refusals they expect and show them on the form; anything that escapes (a
404 for another vendor's booking, a 409 for an illegal transition) lands here and is shown
as a page with the same status code. API paths are left to the API's own handlers.

An unreachable database is not an error of ours to apologise for with a 500 but a moment
to wait: 503 with Retry-After, from a page that needs no database to render (no context
processors, no session, no user).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views import defaults

from agora.core import locking
from agora.core.errors import (
    DATABASE_RETRY_AFTER_SECONDS,
    DATABASE_UNAVAILABLE,
    DomainError,
    NotAuthenticated,
    unavailable_response,
)

logger = logging.getLogger(__name__)

TITLES = {
    400: "Bad request",
    403: "Not allowed",
    404: "Not found",
    409: "That cannot be done now",
    422: "Please check your input",
    429: "Too many attempts",
    503: "Busy — please retry",
}


class PageErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if request.path.startswith("/api/"):
            return None
        if locking.is_retryable(exception):
            # A row another request holds (lock timeout, deadlock): busy, not down.
            logger.warning("busy on %s %s: %s", request.method, request.path, exception)
            return busy_page(request)
        if isinstance(exception, DATABASE_UNAVAILABLE):
            logger.error(
                "database unavailable on %s %s: %s", request.method, request.path, exception
            )
            return unavailable_page()
        if not isinstance(exception, DomainError):
            return None
        if isinstance(exception, NotAuthenticated):
            return redirect_to_login(request.get_full_path())
        response = render(
            request,
            "web/error.html",
            {
                "page_title": TITLES.get(exception.status, "Cannot do that"),
                "detail": exception.detail,
                "status": exception.status,
            },
            status=exception.status,
        )
        for name, value in exception.headers.items():
            response[name] = value
        return response


def busy_page(request: HttpRequest) -> HttpResponse:
    response = render(
        request,
        "web/error.html",
        {
            "page_title": TITLES[503],
            "detail": "Someone else is changing this right now, so nothing was saved. "
            "Please try again in a moment.",
            "status": 503,
        },
        status=503,
    )
    response["Retry-After"] = "1"
    return response


def unavailable_page() -> HttpResponse:
    response = HttpResponse(render_to_string("web/unavailable.html"), status=503)
    response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """`handler500`: what an exception that escaped everything becomes.

    Called by Django while the exception is being handled, so `sys.exc_info()` names it.
    A database outage met in a middleware (a bearer token or a session looked up, the
    idempotency key claimed) becomes 503 here, problem+json under /api/.
    """
    error = sys.exc_info()[1]
    if isinstance(error, DATABASE_UNAVAILABLE):
        if request.path.startswith("/api/"):
            return unavailable_response()
        return unavailable_page()
    return defaults.server_error(request)
