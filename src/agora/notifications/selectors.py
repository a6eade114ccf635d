"""Reads of the in-app notification centre and of notification preferences.

Every read is scoped to one person: a notification is only ever its recipient's, so another
person's id is indistinguishable from a missing one (404).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from agora.accounts.models import User
from agora.core.errors import NotFound
from agora.core.pagination import DEFAULT_LIMIT, Page, paginate
from agora.notifications.catalogue import EVENT_TYPES, GROUPS
from agora.notifications.models import (
    Channel,
    EmailDelivery,
    Notification,
    NotificationPreference,
)

# Newest first by id: the (user, -id) index serves every page, at any depth.
ORDERING = ("-id",)


@dataclass(frozen=True)
class GroupRules:
    """What the catalogue says about one preference group."""

    group: str
    label: str
    # Event types of the group whose mail is transactional: sent whatever the preference.
    mandatory_email_events: tuple[str, ...]
    # True when every event type of the group is mandatory: its e-mail switch does nothing,
    # so it is not offered (the in-app switch still is).
    email_locked: bool


@dataclass(frozen=True)
class GroupPreference:
    group: str
    label: str
    email: bool
    in_app: bool
    email_locked: bool
    mandatory_email_events: tuple[str, ...]


def group_rules() -> dict[str, GroupRules]:
    """Every preference group in the catalogue's order, with its mandatory mail.

    Read from the catalogue on each call: apps register event types of their own at start-up
    (`catalogue.register`), and a group with no event type yet has nothing mandatory.
    """
    types_by_group: dict[str, list[str]] = {group: [] for group in GROUPS}
    mandatory_by_group: dict[str, list[str]] = {group: [] for group in GROUPS}
    for event_type in EVENT_TYPES.values():
        if event_type.group not in types_by_group:
            continue
        types_by_group[event_type.group].append(event_type.name)
        if event_type.mandatory:
            mandatory_by_group[event_type.group].append(event_type.name)
    return {
        group: GroupRules(
            group=group,
            label=label,
            mandatory_email_events=tuple(mandatory_by_group[group]),
            email_locked=bool(types_by_group[group])
            and len(mandatory_by_group[group]) == len(types_by_group[group]),
        )
        for group, label in GROUPS.items()
    }


def notifications_for(
    *, user: User, cursor: str | None = None, limit: int = DEFAULT_LIMIT
) -> Page[Notification]:
    """One page of the person's notifications, newest first (one query)."""
    return paginate(
        Notification.objects.filter(user=user), ordering=ORDERING, cursor=cursor, limit=limit
    )


def unread_count(*, user: User) -> int:
    """How many of the person's notifications are unread: one COUNT, answered from the
    partial index `notification_unread` (user WHERE read_at IS NULL)."""
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def notification_get(*, user: User, notification_id: int) -> Notification:
    """The person's own notification; anyone else's is a 404."""
    notification = Notification.objects.filter(user=user, pk=notification_id).first()
    if notification is None:
        raise NotFound("No such notification.")
    return notification


def preferences_for(*, user: User) -> list[GroupPreference]:
    """Each group's e-mail and in-app switch for the person (one query).

    No row means "on" (API.md: both channels on by default). A locked group's e-mail is
    reported on whatever is stored, because its mail is sent regardless.
    """
    stored = {
        (group, channel): enabled
        for group, channel, enabled in NotificationPreference.objects.filter(user=user).values_list(
            "group", "channel", "enabled"
        )
    }
    return [
        GroupPreference(
            group=rules.group,
            label=rules.label,
            email=rules.email_locked or stored.get((rules.group, Channel.EMAIL), True),
            in_app=stored.get((rules.group, Channel.IN_APP), True),
            email_locked=rules.email_locked,
            mandatory_email_events=rules.mandatory_email_events,
        )
        for rules in group_rules().values()
    ]


def email_deliveries(*, status: str | None) -> QuerySet[EmailDelivery]:
    """The operator's view of outgoing mail, newest first; `status` narrows it."""
    rows = EmailDelivery.objects.select_related("event").order_by("-id")
    if status:
        rows = rows.filter(status=status)
    return rows
