"""Ninja auth for the API: bearer tokens only (pages use sessions with CSRF)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer

from agora.accounts.models import User
from agora.core.errors import Forbidden, NotAuthenticated


class BearerAuth(HttpBearer):
    """The user behind the request's bearer token (resolved by BearerTokenMiddleware)."""

    def __call__(self, request: HttpRequest) -> User | None:
        error = getattr(request, "bearer_error", None)
        if error is not None:
            raise error
        token = getattr(request, "api_token", None)
        if token is None:
            raise NotAuthenticated()
        return token.user

    def authenticate(self, request: HttpRequest, token: str) -> Any:  # pragma: no cover
        raise NotImplementedError("resolved in BearerTokenMiddleware")


class OperatorAuth(BearerAuth):
    def __call__(self, request: HttpRequest) -> User | None:
        user = super().__call__(request)
        if user is None or not user.is_operator:
            raise Forbidden("Only operators may do this.")
        return user


bearer = BearerAuth()
operator = OperatorAuth()


def acting_user(request: HttpRequest) -> User:
    """The authenticated user of an API request (after `auth=bearer`)."""
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)
    return user


def optional_user(request: HttpRequest) -> User | None:
    """The bearer-token user of a public endpoint, or None when no token was sent.

    A token that was sent but is bad is still an error (401): a client should learn that
    its credentials stopped working rather than silently see the anonymous view.
    """
    error = getattr(request, "bearer_error", None)
    if error is not None:
        raise error
    token = getattr(request, "api_token", None)
    return token.user if token is not None else None
