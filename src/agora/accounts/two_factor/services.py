"""Two-factor sign-in: enrol, confirm, check a code, new recovery codes, turn it off.

Order of work, and why: a code is checked (and a wrong one counted) *before* any
transaction of these services opens, because a failure counter written inside a
transaction that is then rolled back would be undone with it, and guessing would be free.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from agora.accounts.errors import AccountError, AccountErrorCode
from agora.accounts.models import ApiToken, User
from agora.accounts.two_factor import codes
from agora.accounts.two_factor.selectors import (
    PendingEnrolment,
    otp_required_for,
    pending_enrolment_of,
)
from agora.core import clock, ratelimit
from agora.core.audit import audit_log
from agora.core.errors import InvalidInput, NotAuthenticated, RateLimited

TOTP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"
OTP_FAILURE_SCOPE = "otp-fail"


@dataclass(frozen=True)
class OtpMatch:
    """The device that accepted a code, and whether it was a recovery code."""

    device: Device
    recovery_code: bool
    recovery_codes_left: int


@dataclass(frozen=True)
class RecoveryCodes:
    """New recovery codes, as the person must write them down: they are shown this once."""

    codes: list[str]


# --- checking a code ----------------------------------------------------------------------


def _throttle(*, user: User) -> None:
    window = settings.AGORA_SIGNIN_WINDOW_SECONDS
    failures = ratelimit.count(scope=OTP_FAILURE_SCOPE, ident=str(user.pk), window_seconds=window)
    if failures >= settings.AGORA_OTP_MAX_FAILURES:
        raise RateLimited(
            "Too many wrong codes; wait and try again.",
            retry_after=ratelimit.retry_after(window_seconds=window),
        )


def _totp_match(*, user: User, code: str) -> TOTPDevice | None:
    """The confirmed TOTP device whose code, at a step not used before, is `code`.

    The step is claimed with `UPDATE ... WHERE last_t < step`: of two requests racing with
    the same code only one updates the row, so a code is good exactly once."""
    if not codes.looks_like_totp(code):
        return None
    now = clock.now()
    for device in TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk"):
        current = codes.totp_step(now, step=device.step, t0=device.t0) + device.drift
        step = codes.matching_step(
            device.key,
            code,
            current_step=current,
            tolerance=device.tolerance,
            after_step=device.last_t,
            digits=device.digits,
        )
        if step is not None and TOTPDevice.objects.filter(pk=device.pk, last_t__lt=step).update(
            last_t=step, last_used_at=now
        ):
            return device
    return None


def _recovery_match(*, user: User, code: str) -> StaticDevice | None:
    """The recovery-code device holding `code`, which is spent (deleted) here. Of two
    requests racing with one code only one deletes the row."""
    token = (
        StaticToken.objects.filter(
            device__user=user,
            device__confirmed=True,
            token__in=codes.recovery_code_digests(code),
        )
        .select_related("device")
        .first()
    )
    if token is None:
        return None
    spent, _ = StaticToken.objects.filter(pk=token.pk).delete()
    if not spent:
        return None
    StaticDevice.objects.filter(pk=token.device.pk).update(last_used_at=clock.now())
    return token.device


def otp_check(*, user: User, otp: str | None) -> OtpMatch:
    """Check the second factor of `user`, who has it on: a code of their authenticator app
    or one of their recovery codes (spent by this). Wrong codes are counted per account;
    past AGORA_OTP_MAX_FAILURES in a sign-in window every code is refused with 429.

    Call outside a transaction that may be rolled back (see the module's docstring)."""
    if otp is None or not otp.strip():
        raise NotAuthenticated(
            "This account has two-factor sign-in: send the code of its authenticator app "
            "(or a recovery code) as `otp`.",
            code=AccountErrorCode.OTP_REQUIRED,
        )
    _throttle(user=user)
    code = codes.normalise_code(otp)
    totp = _totp_match(user=user, code=code)
    if totp is not None:
        return OtpMatch(device=totp, recovery_code=False, recovery_codes_left=-1)
    recovery = _recovery_match(user=user, code=code)
    if recovery is not None:
        left = StaticToken.objects.filter(device=recovery).count()
        audit_log(actor=user, action="user.recovery_code_used", target=user, data={"left": left})
        return OtpMatch(device=recovery, recovery_code=True, recovery_codes_left=left)
    ratelimit.hit(
        scope=OTP_FAILURE_SCOPE,
        ident=str(user.pk),
        window_seconds=settings.AGORA_SIGNIN_WINDOW_SECONDS,
    )
    raise NotAuthenticated(
        "The code is wrong, or has been used already.", code=AccountErrorCode.OTP_INVALID
    )


def otp_sign_in_step(*, user: User, otp: str | None, ip: str) -> OtpMatch:
    """The pages' second sign-in step, a request of its own: it counts as a sign-in
    attempt from `ip` (as the password step does), then checks the code."""
    window = settings.AGORA_SIGNIN_WINDOW_SECONDS
    if ratelimit.hit(scope="signin-ip", ident=ip, window_seconds=window) > (
        settings.AGORA_SIGNIN_MAX_PER_IP
    ):
        raise RateLimited(
            "Too many sign-in attempts; wait and try again.",
            retry_after=ratelimit.retry_after(window_seconds=window),
        )
    return otp_check(user=user, otp=otp)


# --- enrolment ----------------------------------------------------------------------------


def two_factor_enrol_start(*, user: User, otp: str | None = None) -> PendingEnrolment:
    """Start adding an authenticator app: a new secret, shown as a QR code and as text,
    confirmed by `two_factor_enrol_confirm` with the app's first code. An earlier
    unfinished enrolment is replaced. With two-factor sign-in already on this replaces the
    app, and needs a current code (`otp`): a stolen token alone cannot swap the app."""
    if user.otp_enabled_at is not None:
        otp_check(user=user, otp=otp)
    return _enrol_start(user=user)


@transaction.atomic
def _enrol_start(*, user: User) -> PendingEnrolment:
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    device = TOTPDevice.objects.create(
        user=user,
        name=TOTP_DEVICE_NAME,
        confirmed=False,
        key=codes.new_secret_hex(),
        tolerance=1,
        drift=0,
    )
    return pending_enrolment_of(device)


def _invalid_first_code() -> InvalidInput:
    return InvalidInput(
        "The code does not match: check the app's clock and type the code it shows now.",
        errors=[{"loc": ["body", "code"], "msg": "does not match", "type": "otp_invalid"}],
    )


@transaction.atomic
def two_factor_enrol_confirm(
    *, user: User, code: str, keep_token: ApiToken | None = None
) -> RecoveryCodes:
    """Turn two-factor sign-in on with the first code of the app being enrolled.

    Any earlier app is removed, ten new recovery codes replace the old ones, and every
    API token of the person but `keep_token` (the one confirming, if any) is revoked: a
    token issued with the password alone must not outlive the change. Other sessions end
    too (the session hash covers `otp_enabled_at`; see User.get_session_auth_hash)."""
    device = (
        TOTPDevice.objects.select_for_update()
        .filter(user=user, confirmed=False)
        .order_by("-pk")
        .first()
    )
    if device is None:
        raise AccountError(
            "Start the enrolment first: POST /me/2fa gives the secret to add to the app.",
            code=AccountErrorCode.OTP_ENROLMENT_NOT_STARTED,
        )
    normalised = codes.normalise_code(code)
    now = clock.now()
    step = (
        codes.matching_step(
            device.key,
            normalised,
            current_step=codes.totp_step(now, step=device.step, t0=device.t0),
            tolerance=device.tolerance,
            after_step=device.last_t,
            digits=device.digits,
        )
        if codes.looks_like_totp(normalised)
        else None
    )
    if step is None:
        raise _invalid_first_code()
    replacing = user.otp_enabled_at is not None
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.last_t = step
    device.last_used_at = now
    device.save(update_fields=["confirmed", "last_t", "last_used_at"])
    recovery = _recovery_codes_replace(user=user)
    user.otp_enabled_at = now
    user.save(update_fields=["otp_enabled_at"])
    revoked = ApiToken.objects.filter(user=user, revoked_at__isnull=True)
    if keep_token is not None:
        revoked = revoked.exclude(pk=keep_token.pk)
    revoked_count = revoked.update(revoked_at=now)
    audit_log(
        actor=user,
        action="user.two_factor_enabled",
        target=user,
        data={"replaced": replacing, "tokens_revoked": revoked_count},
    )
    return recovery


def _recovery_codes_replace(*, user: User) -> RecoveryCodes:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    fresh = [codes.new_recovery_code() for _ in range(codes.RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(
        [StaticToken(device=device, token=codes.recovery_code_digests(c)[0]) for c in fresh]
    )
    return RecoveryCodes(codes=fresh)


def _require_enabled(user: User) -> None:
    if user.otp_enabled_at is None:
        raise AccountError(
            "Two-factor sign-in is not on for this account.",
            code=AccountErrorCode.OTP_NOT_ENABLED,
        )


def recovery_codes_regenerate(*, user: User, otp: str | None) -> RecoveryCodes:
    """Ten new recovery codes for the person (a current code proves it is them); the old
    ones stop working."""
    _require_enabled(user)
    otp_check(user=user, otp=otp)
    with transaction.atomic():
        recovery = _recovery_codes_replace(user=user)
        audit_log(actor=user, action="user.recovery_codes_generated", target=user)
    return recovery


def two_factor_disable(*, user: User, otp: str | None) -> None:
    """Turn two-factor sign-in off (a current code proves it is them). Operators may not
    while it is required of them: they can replace their app instead."""
    _require_enabled(user)
    if otp_required_for(user):
        raise AccountError(
            "Operators must keep two-factor sign-in on; add a new authenticator app instead.",
            code=AccountErrorCode.OTP_REQUIRED_FOR_OPERATORS,
        )
    otp_check(user=user, otp=otp)
    with transaction.atomic():
        _devices_remove(user=user)
        audit_log(actor=user, action="user.two_factor_disabled", target=user)


def _devices_remove(*, user: User) -> None:
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    user.otp_enabled_at = None
    user.save(update_fields=["otp_enabled_at"])


def two_factor_erase(*, user: User) -> None:
    """Remove every two-factor device of `user` without a code: for account deletion,
    inside its transaction (the caller audits)."""
    _devices_remove(user=user)
