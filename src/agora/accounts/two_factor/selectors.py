"""Reads of two-factor sign-in: whether it is on, is required, and the enrolment shown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from agora.accounts.models import User
from agora.accounts.two_factor import codes

# Where the pages send a person to turn two-factor sign-in on.
ENROLMENT_PATH = "/account/security/"


def otp_required_for(user: Any) -> bool:
    """Whether `user` must use two-factor sign-in before acting with their role: operators
    (and Django admin staff), while AGORA_REQUIRE_OPERATOR_2FA is on."""
    return bool(
        settings.AGORA_REQUIRE_OPERATOR_2FA
        and getattr(user, "is_authenticated", False)
        and (getattr(user, "is_operator", False) or getattr(user, "is_staff", False))
    )


def otp_enrolment_missing(user: Any) -> bool:
    """True when `user` must turn two-factor sign-in on first. Reads no table: the flag
    is on the user row every request has loaded already."""
    return otp_required_for(user) and getattr(user, "otp_enabled_at", None) is None


@dataclass(frozen=True)
class PendingEnrolment:
    """A TOTP device waiting for its first code: what the person adds to their app."""

    secret: str
    otpauth_url: str
    qr_svg: str


@dataclass(frozen=True)
class TwoFactorStatus:
    enabled: bool
    enabled_at: datetime | None
    required: bool
    recovery_codes_left: int
    pending: PendingEnrolment | None


def pending_enrolment_of(device: TOTPDevice) -> PendingEnrolment:
    url = str(device.config_url)
    return PendingEnrolment(
        secret=codes.secret_base32(device.key), otpauth_url=url, qr_svg=codes.qr_svg(url)
    )


def two_factor_status(*, user: User) -> TwoFactorStatus:
    """Two queries: the unconfirmed device (an enrolment under way) and the recovery codes."""
    pending_device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if pending_device is not None:
        pending_device.user = user  # the app's label is the e-mail address: no second query
    left = StaticToken.objects.filter(device__user=user, device__confirmed=True).count()
    return TwoFactorStatus(
        enabled=user.otp_enabled_at is not None,
        enabled_at=user.otp_enabled_at,
        required=otp_required_for(user),
        recovery_codes_left=left if user.otp_enabled_at is not None else 0,
        pending=pending_enrolment_of(pending_device) if pending_device is not None else None,
    )
