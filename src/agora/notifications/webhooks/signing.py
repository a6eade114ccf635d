"""Standard Webhooks signatures: `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`.

The key is the base64-decoded part of the `whsec_` secret. During a secret rotation the
old and the new secret both sign, their signatures separated by a space in one
`webhook-signature` header, so a receiver that still knows only the old one keeps
verifying until it has switched.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # the specification asks for 24 to 64 bytes


def secret_generate() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def _key(secret: str) -> bytes:
    encoded = secret.removeprefix(SECRET_PREFIX)
    return base64.b64decode(encoded + "=" * (-len(encoded) % 4))


def sign(*, secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    message = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), message, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signature_header(
    *, signing_secrets: Iterable[str], webhook_id: str, timestamp: int, body: bytes
) -> str:
    """The `webhook-signature` value: one signature per secret, space-separated."""
    return " ".join(
        sign(secret=secret, webhook_id=webhook_id, timestamp=timestamp, body=body)
        for secret in signing_secrets
    )
