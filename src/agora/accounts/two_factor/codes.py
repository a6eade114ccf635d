"""The arithmetic of two-factor codes: TOTP steps and codes, secrets, recovery codes, the
enrolment QR code. Pure functions of their arguments (and SECRET_KEY for digests)."""

from __future__ import annotations

import hmac
import secrets
from base64 import b32decode, b32encode
from datetime import datetime

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.utils.crypto import salted_hmac
from django_otp.oath import hotp

RECOVERY_CODE_COUNT = 10
# Lower-case letters and digits without the look-alikes (l/1, o/0): 32 symbols, so a
# ten-symbol code holds 50 bits.
RECOVERY_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
RECOVERY_CODE_LENGTH = 10
_DIGEST_SALT = "agora.accounts.two_factor.recovery-code"
# StaticToken.token holds 16 characters: the first 16 hex digits (64 bits) of the digest.
_DIGEST_LENGTH = 16


def new_secret_hex() -> str:
    """A fresh 20-byte TOTP secret (RFC 4226's recommended size), hex as TOTPDevice keeps it."""
    return secrets.token_hex(20)


def secret_base32(key_hex: str) -> str:
    """The secret as authenticator apps take it when typed in (no padding)."""
    return b32encode(bytes.fromhex(key_hex)).decode("ascii").rstrip("=")


def key_hex_from_base32(secret: str) -> str:
    padded = secret.strip().upper() + "=" * (-len(secret.strip()) % 8)
    return b32decode(padded).hex()


def totp_step(at: datetime, *, step: int = 30, t0: int = 0) -> int:
    return (int(at.timestamp()) - t0) // step


def totp_code(key_hex: str, time_step: int, *, digits: int = 6) -> str:
    """The code of `time_step`, zero-padded as an app shows it."""
    return f"{hotp(bytes.fromhex(key_hex), time_step, digits=digits):0{digits}d}"


def totp_code_at(key_hex: str, at: datetime, *, step: int = 30, t0: int = 0) -> str:
    return totp_code(key_hex, totp_step(at, step=step, t0=t0))


def matching_step(
    key_hex: str, code: str, *, current_step: int, tolerance: int, after_step: int, digits: int
) -> int | None:
    """The time step within `tolerance` of `current_step`, later than `after_step` (the
    last one accepted: a code is good once), whose code is `code`; None if there is none."""
    for candidate in range(current_step - tolerance, current_step + tolerance + 1):
        if candidate <= after_step:
            continue
        if hmac.compare_digest(totp_code(key_hex, candidate, digits=digits), code):
            return candidate
    return None


def looks_like_totp(code: str, *, digits: int = 6) -> bool:
    return len(code) == digits and code.isascii() and code.isdigit()


def new_recovery_code() -> str:
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def normalise_code(code: str) -> str:
    """What the person typed, without spaces and hyphens, lower case."""
    return "".join(code.split()).replace("-", "").lower()


def recovery_code_digests(code: str) -> list[str]:
    """The stored forms of `code`: keyed with SECRET_KEY first, then each fallback key, so
    codes survive a key rotation done with SECRET_KEY_FALLBACKS."""
    value = normalise_code(code)
    keys = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    return [
        salted_hmac(_DIGEST_SALT, value, secret=key, algorithm="sha256").hexdigest()[
            :_DIGEST_LENGTH
        ]
        for key in keys
    ]


def qr_svg(text: str) -> str:
    """`text` as a QR code, an SVG element to place inline in a page."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    svg = image.to_string(encoding="unicode")
    return str(svg)
