"""Domain refusals on pages become HTML pages, not problem+json.

Views catch the refusals they expect and show them on the form; anything that escapes (a
404 for another vendor's booking, a 409 for an illegal transition) lands here and is shown
as a page with the same status code. API paths are left to the API's own handlers.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from agora.core.errors import DomainError, NotAuthenticated

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
        if request.path.startswith("/api/") or not isinstance(exception, DomainError):
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
