"""Ninja auth for the API: bearer tokens only (pages use sessions with CSRF)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer

from agora.accounts.errors import AccountErrorCode
from agora.accounts.models import User
from agora.accounts.two_factor.selectors import otp_enrolment_missing
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
    """An operator's token; while AGORA_REQUIRE_OPERATOR_2FA is on, only once the operator
    has two-factor sign-in on (tokens issued before that are revoked when it is turned on,
    so every token that passes here was issued with a code)."""

    def __call__(self, request: HttpRequest) -> User | None:
        user = super().__call__(request)
        if user is None or not user.is_operator:
            raise Forbidden("Only operators may do this.")
        if otp_enrolment_missing(user):
            raise Forbidden(
                "Operators must turn on two-factor sign-in first (POST /me/2fa, then "
                "POST /me/2fa/confirm), and sign in again with a code.",
                code=AccountErrorCode.OTP_ENROLMENT_REQUIRED,
            )
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
