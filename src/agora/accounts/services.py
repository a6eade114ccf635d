"""Accounts: registration, sign-in with throttling (and two-factor codes), bearer tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from agora.accounts.errors import AccountError, AccountErrorCode
from agora.accounts.models import ApiToken, User, normalize_email
from agora.accounts.two_factor import services as two_factor
from agora.core import clock, ratelimit
from agora.core.audit import audit_log
from agora.core.errors import InvalidInput, NotAuthenticated, RateLimited
from agora.core.validation import check_single_line
from agora.notifications import outbox

TOKEN_PREFIX = "agora_"
# Sign-ups per address of origin an hour, through the API and the page alike: enough for
# a shared office, too few to mass-create accounts.
SIGNUPS_PER_IP = 20
SIGNUP_WINDOW_SECONDS = 3600


def _check_email(email: str) -> str:
    email = normalize_email(email)
    try:
        validate_email(email)
    except DjangoValidationError as error:
        raise InvalidInput(
            "The e-mail address is not valid.",
            errors=[{"loc": ["body", "email"], "msg": "invalid e-mail address", "type": "email"}],
        ) from error
    return email


def _check_password(password: str, *, user: User) -> None:
    try:
        validate_password(password, user=user)
    except DjangoValidationError as error:
        raise InvalidInput(
            "The password is too weak.",
            errors=[
                {"loc": ["body", "password"], "msg": message, "type": "password"}
                for message in error.messages
            ],
        ) from error


def _throttle_signup(*, ip: str) -> None:
    attempts = ratelimit.hit(scope="signup-ip", ident=ip, window_seconds=SIGNUP_WINDOW_SECONDS)
    if attempts > SIGNUPS_PER_IP:
        raise RateLimited(
            "Too many new accounts from your network; try again later.",
            retry_after=ratelimit.retry_after(window_seconds=SIGNUP_WINDOW_SECONDS),
        )


def user_register(*, email: str, password: str, name: str, ip: str | None = None) -> User:
    """Create a customer account. A sign-up from `ip` (the API's and the page's callers
    pass the request's address) counts against SIGNUPS_PER_IP an hour, refused or not;
    None is for trusted callers (commands, the demo). The count is made outside the
    registration's transaction, so a refused registration still counts."""
    if ip is not None:
        _throttle_signup(ip=ip)
    return _user_create(email=email, password=password, name=name)


@transaction.atomic
def _user_create(*, email: str, password: str, name: str) -> User:
    email = _check_email(email)
    name = name.strip()
    if not name:
        raise InvalidInput(
            "A name is required.",
            errors=[{"loc": ["body", "name"], "msg": "must not be blank", "type": "missing"}],
        )
    check_single_line(name, "name")
    candidate = User(email=email, name=name)
    _check_password(password, user=candidate)
    if User.objects.filter(email__iexact=email).exists():
        raise AccountError(
            "An account with this e-mail already exists.", code=AccountErrorCode.EMAIL_TAKEN
        )
    candidate.set_password(password)
    try:
        with transaction.atomic():
            candidate.save()
    except IntegrityError as error:  # a concurrent registration won the race
        raise AccountError(
            "An account with this e-mail already exists.", code=AccountErrorCode.EMAIL_TAKEN
        ) from error
    audit_log(actor=candidate, action="user.registered", target=candidate)
    outbox.emit(
        "account.welcome",
        subject=candidate,
        data={"id": candidate.pk, "url": "/account/", "browse_url": "/"},
        user_id=candidate.pk,
    )
    return candidate


@transaction.atomic
def operator_create(*, email: str, password: str, name: str = "Operator") -> User:
    """Create an operator, or promote an existing account (idempotent for scripts)."""
    email = _check_email(email)
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User(email=email, name=name)
    # Promotion sets the password too, so it meets the same rules as a new account's.
    _check_password(password, user=user)
    user.is_operator = True
    user.is_staff = True
    user.is_superuser = True
    user.set_password(password)
    user.save()
    audit_log(actor=None, action="user.operator_granted", target=user)
    return user


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_in: int
    user: User


def _hash(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


def _throttle_signin(*, email: str, ip: str) -> None:
    window = settings.AGORA_SIGNIN_WINDOW_SECONDS
    failures = ratelimit.count(scope="signin-fail", ident=email, window_seconds=window)
    attempts_from_ip = ratelimit.hit(scope="signin-ip", ident=ip, window_seconds=window)
    if (
        failures >= settings.AGORA_SIGNIN_MAX_FAILURES
        or attempts_from_ip > settings.AGORA_SIGNIN_MAX_PER_IP
    ):
        raise RateLimited(
            "Too many sign-in attempts; wait and try again.",
            retry_after=ratelimit.retry_after(window_seconds=window),
        )


def user_authenticate(*, email: str, password: str, ip: str) -> User:
    """Check a password, counting failures per e-mail and attempts per IP address.

    Past the limit the answer is 429 even for the right password, so guessing gains nothing.
    An unknown e-mail costs one password hash like a known one (no user enumeration by timing).
    """
    email = normalize_email(email)
    _throttle_signin(email=email, ip=ip)
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        User().set_password(password)
    elif user.is_active and user.check_password(password):
        return user
    ratelimit.hit(
        scope="signin-fail", ident=email, window_seconds=settings.AGORA_SIGNIN_WINDOW_SECONDS
    )
    raise NotAuthenticated(
        "The e-mail or password is wrong.", code=AccountErrorCode.INVALID_CREDENTIALS
    )


def token_issue(*, email: str, password: str, ip: str, otp: str | None = None) -> IssuedToken:
    """A bearer token for the right password and, for an account with two-factor sign-in,
    a current code or a recovery code as `otp` (401 `otp_required` without one, 401
    `otp_invalid` for a wrong one, throttled per account: two_factor.services.otp_check)."""
    user = user_authenticate(email=email, password=password, ip=ip)
    if user.otp_enabled_at is not None:
        two_factor.otp_check(user=user, otp=otp)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    ttl = settings.AGORA_TOKEN_TTL_SECONDS
    now = clock.now()
    ApiToken.objects.create(
        user=user,
        token_hash=_hash(raw),
        prefix=raw[: len(TOKEN_PREFIX) + 6],
        created_at=now,
        expires_at=now + timedelta(seconds=ttl),
    )
    return IssuedToken(token=raw, expires_in=ttl, user=user)


def token_authenticate(*, raw_token: str) -> ApiToken:
    """The live token for `raw_token`, with its user; NotAuthenticated otherwise."""
    token = ApiToken.objects.select_related("user").filter(token_hash=_hash(raw_token)).first()
    if token is None or not token.user.is_active:
        raise NotAuthenticated("The bearer token is not valid.")
    if token.revoked_at is not None:
        raise NotAuthenticated("The bearer token has been revoked.")
    if token.expires_at <= clock.now():
        raise NotAuthenticated("The bearer token has expired.")
    return token


def token_revoke(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=clock.now())


def tokens_revoke_all(*, user: User) -> int:
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=clock.now()
    )


def tokens_prune_expired() -> int:
    deleted, _ = ApiToken.objects.filter(expires_at__lt=clock.now() - timedelta(days=7)).delete()
    return deleted


def password_reset_announce(*, user: User, reset_path: str) -> None:
    """Queue the password-reset mail for `user` (the outbox sends it, with retries).

    `reset_path` is the one-time page (`/password-reset/<uid>/<token>/`). The event is
    private: it never reaches webhooks, and its data is wiped once the mail is sent.
    """
    with transaction.atomic():
        outbox.emit(
            "account.password_reset",
            subject=user,
            data={
                "id": user.pk,
                "url": reset_path,
                "to_email": user.email,
                "name": (user.name or "").split(" ")[0],
                "valid_hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
            },
        )
