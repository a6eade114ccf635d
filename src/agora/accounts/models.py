from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower

from agora.core import clock


def normalize_email(email: str) -> str:
    """E-mail addresses are compared case-insensitively: `Ann@X.com` is `ann@x.com`."""
    return email.strip().lower()


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        if not email:
            raise ValueError("an e-mail address is required")
        user = self.model(email=normalize_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> User:
        fields.update(is_staff=True, is_superuser=True, is_operator=True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """Anyone who signs in. Every user can buy (customer); vendor staff is a membership of
    a vendor organisation; operator is the platform-admin flag."""

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=150)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="May use the Django admin.")
    is_operator = models.BooleanField(default=False, help_text="Runs the marketplace.")
    date_joined = models.DateTimeField(default=clock.now)
    # Set while two-factor sign-in is on (a confirmed TOTP device): kept on the row so the
    # checks on every operator request need no query of their own.
    otp_enabled_at = models.DateTimeField(null=True, blank=True)
    # Set when the account was deleted: the row stays, anonymised, so the bookings, orders,
    # reviews and messages that point at it stay whole (agora.accounts.privacy).
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self) -> str:
        return self.email

    # A session stays valid while its stored hash matches. Django derives it from the
    # password; turning two-factor sign-in on or off changes it too, so every other session
    # of the person ends (the one that made the change is kept with
    # update_session_auth_hash). Accounts without two-factor keep Django's hash unchanged.
    def get_session_auth_hash(self) -> str:
        return self._with_two_factor(super().get_session_auth_hash())

    def get_session_auth_fallback_hash(self) -> Iterator[str]:
        for fallback in super().get_session_auth_fallback_hash():
            yield self._with_two_factor(fallback)

    def _with_two_factor(self, password_hash: str) -> str:
        if self.otp_enabled_at is None:
            return password_hash
        stamp = f"{password_hash}:{self.otp_enabled_at.timestamp()}"
        return hashlib.sha256(stamp.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token. Only its SHA-256 is stored: a leaked table grants nothing."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=16, help_text="First characters, to tell tokens apart.")
    created_at = models.DateTimeField(default=clock.now)
    expires_at = models.DateTimeField(db_index=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user_id})"
