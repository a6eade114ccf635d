"""Writes of the in-app centre (marking read) and of notification preferences.

The delivery engine creates notifications; these services only change what a person may
change about their own: whether they have read them, and which groups reach them by which
channel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction

from agora.accounts.models import User
from agora.core import clock
from agora.core.audit import audit_log
from agora.notifications import errors, selectors
from agora.notifications.models import (
    Channel,
    DeliveryStatus,
    EmailDelivery,
    Notification,
    NotificationPreference,
)
from agora.notifications.selectors import GroupPreference


@dataclass(frozen=True)
class PreferenceChange:
    """A new setting for one group; a channel left as None keeps its current setting."""

    group: str
    email: bool | None = None
    in_app: bool | None = None


def notifications_mark_read(
    *, user: User, ids: Sequence[int] | None = None, all_unread: bool = False
) -> int:
    """Mark the person's notifications read: `all_unread`, or those of `ids`; return how
    many changed.

    One UPDATE scoped to the person, so ids of other people's notifications match nothing
    and are ignored without a trace (and without telling the caller they exist). Already
    read notifications keep their first `read_at`.
    """
    if not all_unread and ids is None:
        raise errors.nothing_to_mark()
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if not all_unread:
        if not ids:
            return 0
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=clock.now())


def notification_open(*, user: User, notification_id: int) -> Notification:
    """The person opens one of their notifications: it is marked read (once) and returned,
    so the page can follow its link. Anyone else's id is a 404."""
    notification = selectors.notification_get(user=user, notification_id=notification_id)
    if notification.read_at is None:
        now = clock.now()
        # Conditional: two tabs opening it at once keep the first time.
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
        notification.read_at = now
    return notification


def _check(changes: Sequence[PreferenceChange]) -> None:
    rules = selectors.group_rules()
    for index, change in enumerate(changes):
        group = rules.get(change.group)
        if group is None:
            raise errors.unknown_group(change.group, index=index)
        if group.email_locked and change.email is False:
            raise errors.email_locked(change.group, index=index)


def preferences_update(
    *, user: User, changes: Sequence[PreferenceChange], via: str = "preferences"
) -> list[GroupPreference]:
    """Store the person's choices and return all their preferences.

    Each (group, channel) given is upserted in one statement (the unique constraint
    `notification_preference_once` is the conflict target, so two saves at once cannot make
    two rows). An unknown group, or switching off e-mail of a group whose every mail is
    transactional, is refused (422) and changes nothing. Mandatory event types of a group
    whose e-mail is off are still e-mailed: the delivery engine checks `mandatory` first.
    `via` says in the audit log where the change came from (the page, the API, a mail's
    unsubscribe link).
    """
    _check(changes)
    rows: dict[tuple[str, str], bool] = {}
    for change in changes:
        if change.email is not None:
            rows[(change.group, Channel.EMAIL)] = change.email
        if change.in_app is not None:
            rows[(change.group, Channel.IN_APP)] = change.in_app
    if rows:
        with transaction.atomic():
            NotificationPreference.objects.bulk_create(
                [
                    NotificationPreference(user=user, group=group, channel=channel, enabled=on)
                    for (group, channel), on in rows.items()
                ],
                update_conflicts=True,
                unique_fields=["user", "group", "channel"],
                update_fields=["enabled"],
            )
            audit_log(
                actor=user,
                action="notification_preferences.updated",
                target=user,
                data={
                    "via": via,
                    "changes": [
                        {"group": group, "channel": channel, "enabled": on}
                        for (group, channel), on in rows.items()
                    ],
                },
            )
    return selectors.preferences_for(user=user)


def preferences_unsubscribe(*, user_id: int, group: str) -> GroupPreference:
    """Switch off e-mail of `group` for the person a signed unsubscribe link names.

    The link is the credential (RFC 8058 one-click), so this takes the id from a verified
    token, never from a form. A group whose every mail is transactional is left as it is
    (its mail cannot be switched off); the returned preference says so with `email_locked`.
    A person who no longer exists is a 404, like a bad link.
    """
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise errors.invalid_unsubscribe_link()
    rules = selectors.group_rules().get(group)
    if rules is None:
        raise errors.invalid_unsubscribe_link()
    if not rules.email_locked:
        preferences_update(
            user=user,
            changes=[PreferenceChange(group=group, email=False)],
            via="unsubscribe_link",
        )
    return next(pref for pref in selectors.preferences_for(user=user) if pref.group == group)


def email_delivery_retry(*, actor: User, delivery_id: int) -> bool:
    """An operator's "try again" on a failed mail: pending again, due now, attempts reset
    (after fixing the relay or the address). False when the mail is not failed. Audited."""
    with transaction.atomic():
        retried = EmailDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.FAILED).update(
            status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=clock.now(), last_error=""
        )
        if retried:
            audit_log(
                actor=actor,
                action="email.retried",
                target=EmailDelivery(pk=delivery_id),
                data={"delivery_id": delivery_id},
            )
    return bool(retried)
