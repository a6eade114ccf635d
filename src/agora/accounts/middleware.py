"""Resolve `Authorization: Bearer <token>` once per request, before any view runs.

Doing it in middleware (not only in the API's auth callables) lets request-wide machinery
such as the Idempotency-Key store scope keys to the calling user. A bad token does not
fail here: it is remembered and reported by the API's auth as 401 with its reason.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from agora.accounts.services import token_authenticate
from agora.core.errors import NotAuthenticated


class BearerTokenMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.api_token = None  # type: ignore[attr-defined]
        request.bearer_error = None  # type: ignore[attr-defined]
        header = request.headers.get("Authorization", "")
        if header:
            scheme, _, raw_token = header.partition(" ")
            if scheme.lower() != "bearer" or not raw_token.strip():
                request.bearer_error = NotAuthenticated(  # type: ignore[attr-defined]
                    "Use the Authorization header as 'Bearer <token>'."
                )
            else:
                try:
                    token = token_authenticate(raw_token=raw_token.strip())
                except NotAuthenticated as error:
                    request.bearer_error = error  # type: ignore[attr-defined]
                else:
                    request.api_token = token  # type: ignore[attr-defined]
                    request.user = token.user
        return self.get_response(request)
