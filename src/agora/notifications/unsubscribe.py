"""Signed unsubscribe links: one per person and preference group, put in every mail.

The token is the credential: whoever holds the mail may switch that group's e-mail off
without signing in (RFC 8058 one-click, `List-Unsubscribe-Post: List-Unsubscribe=One-Click`).
It is signed with the site's SECRET_KEY under its own salt, so a token made for anything
else (a pagination cursor, a password reset) is not one, and it does not expire: a mail
read a year later must still be able to stop the next one. All it can do is switch e-mail
off for one group of one person, which the person can undo in their preferences.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

from agora.notifications import errors
from agora.notifications.catalogue import GROUPS

_SALT = "agora.notifications.unsubscribe"


@dataclass(frozen=True)
class UnsubscribeLink:
    user_id: int
    group: str


def unsubscribe_token(*, user_id: int, group: str) -> str:
    return signing.dumps([user_id, group], salt=_SALT, compress=True)


def unsubscribe_path(*, user_id: int, group: str) -> str:
    return reverse(
        "web:notifications-unsubscribe",
        kwargs={"token": unsubscribe_token(user_id=user_id, group=group)},
    )


def unsubscribe_url(*, user_id: int, group: str) -> str:
    """The absolute link for mails (the List-Unsubscribe header and the footer)."""
    return f"{settings.AGORA_BASE_URL}{unsubscribe_path(user_id=user_id, group=group)}"


def unsubscribe_read(token: str) -> UnsubscribeLink:
    """The person and group a token names; a tampered, truncated or foreign token, or one
    naming a group that no longer exists, is a 404 (`invalid_unsubscribe_link`)."""
    try:
        value = signing.loads(token, salt=_SALT)
    except signing.BadSignature:
        raise errors.invalid_unsubscribe_link() from None
    match value:
        case [int() as user_id, str() as group] if group in GROUPS:
            return UnsubscribeLink(user_id=user_id, group=group)
    raise errors.invalid_unsubscribe_link()
