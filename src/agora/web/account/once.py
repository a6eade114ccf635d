"""Exactly once for page forms that take a slot, reserve stock or move money.

The API relies on the Idempotency-Key header (agora.core.idempotency); a page cannot send
one, so each such form carries a random token instead and the same table records it. The
row is inserted in the transaction that does the work: a double-click's second request
waits for the first (unique index, or SQLite's single writer) and is then sent where the
first one went, instead of booking or charging twice.
"""

from __future__ import annotations

import secrets

from django.db import IntegrityError, transaction

from agora.accounts.models import User
from agora.core import clock
from agora.core.errors import InvalidInput
from agora.core.idempotency import expiry_cutoff
from agora.core.models import IdempotencyKey


def new_token() -> str:
    return secrets.token_urlsafe(18)


def _key(purpose: str, token: str) -> str:
    return f"web:{purpose}:{token}"


def _scope(user: User) -> str:
    return f"user:{user.pk}"


def claim(*, user: User, purpose: str, token: str) -> str | None:
    """Claim `token` for `purpose`. Returns None when this is the first use (go ahead and
    call `remember` with the result in the same transaction), else the page the first use
    led to. Precondition: inside `transaction.atomic()`."""
    if not token or len(token) > 64:
        raise InvalidInput(
            "This form has expired; please reload the page and try again.",
            errors=[{"loc": ["form", "token"], "msg": "missing", "type": "value_error"}],
        )
    scope, key = _scope(user), _key(purpose, token)
    for _ in range(2):
        try:
            with transaction.atomic():
                IdempotencyKey.objects.create(
                    scope=scope,
                    key=key,
                    user=user,
                    fingerprint=purpose,
                    method="POST",
                    path=purpose,
                    created_at=clock.now(),
                )
            return None
        except IntegrityError:
            record = IdempotencyKey.objects.get(scope=scope, key=key)
            if record.created_at >= expiry_cutoff():
                return record.body or "/account/"
            record.delete()
    raise RuntimeError("could not claim a form token")


def remember(*, user: User, purpose: str, token: str, result: str) -> None:
    """Record where the first use of `token` led (a page path)."""
    IdempotencyKey.objects.filter(scope=_scope(user), key=_key(purpose, token)).update(
        status_code=303, content_type="text/html", body=result
    )
