"""Helpers of the two-factor tests: enrol through the real API, compute codes as an
authenticator app would (RFC 6238 on agora's clock), sign in."""

from __future__ import annotations

from typing import Any

from agora.accounts.models import User
from agora.accounts.two_factor import codes
from agora.core import clock
from tests.conftest import ApiClient

PASSWORD = "pass-word-123"  # the factories' password


def code_for(secret: str, *, steps_ahead: int = 0) -> str:
    """The code an app holding `secret` (base32) shows now, or `steps_ahead` 30-second
    steps later."""
    key = codes.key_hex_from_base32(secret)
    return codes.totp_code(key, codes.totp_step(clock.now()) + steps_ahead)


def sign_in(user: User, *, otp: str | None = None, ip: str = "127.0.0.1", **extra: Any) -> Any:
    body: dict[str, Any] = {"email": user.email, "password": PASSWORD, **extra}
    if otp is not None:
        body["otp"] = otp
    return ApiClient().client.post(
        "/api/v1/auth/token", data=body, content_type="application/json", REMOTE_ADDR=ip
    )


def token_without_otp(user: User) -> ApiClient:
    """A client signed in with the password alone (an account without two-factor)."""
    response = sign_in(user)
    assert response.status_code == 200, response.content
    return ApiClient(response.json()["access_token"])


def enrol(client: ApiClient) -> tuple[str, list[str]]:
    """Turn two-factor sign-in on through the API; the secret and the recovery codes."""
    started = client.post("/me/2fa")
    assert started.status_code == 201, started.content
    secret = started.json()["secret"]
    confirmed = client.post("/me/2fa/confirm", {"code": code_for(secret)})
    assert confirmed.status_code == 200, confirmed.content
    return secret, confirmed.json()["recovery_codes"]


def send(client: ApiClient, method: str, path: str, body: Any) -> Any:
    """A request with a JSON body for any method (DELETE included)."""
    return client._send(method, path, body, None, None, False)
