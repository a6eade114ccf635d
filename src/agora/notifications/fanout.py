"""From events to the people they concern: in-app notices and e-mails to send.

Runs in the worker, after commit, for events that have their stream position. One batch
is one transaction: the events are locked (SKIP LOCKED on PostgreSQL, the single writer
on SQLite), their recipients resolved in a fixed number of queries, the notices and mail
rows written, the events marked dispatched. A worker that dies mid-batch rolls all of it
back and the next one does it again — and since (event, person) is unique for notices and
`key` for mails, a batch done twice creates nothing twice.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.template import TemplateDoesNotExist

from agora.accounts.models import User
from agora.core import clock
from agora.notifications import catalogue, outbox, rendering
from agora.notifications.models import (
    Channel,
    DeliveryStatus,
    EmailDelivery,
    Event,
    Notification,
    NotificationPreference,
)
from agora.vendors.models import VendorMembership

logger = logging.getLogger(__name__)

BATCH = 200


@dataclass(frozen=True)
class Recipient:
    audience: str
    user: User | None
    email: str


def dispatch(*, limit: int = BATCH) -> int:
    """Fan out the next sequenced, undispatched events; return how many were handled."""
    with transaction.atomic():
        events = Event.objects.filter(seq__isnull=False, dispatched_at__isnull=True).order_by("seq")
        if connection.vendor == "postgresql":
            events = events.select_for_update(skip_locked=True)
        batch = list(events[:limit])
        if not batch:
            return 0
        _fan_out(batch)
        Event.objects.filter(pk__in=[event.pk for event in batch]).update(dispatched_at=clock.now())
    return len(batch)


def _fan_out(events: list[Event]) -> None:
    typed = [(event, catalogue.event_type(event.name)) for event in events]
    recipients = _recipients([(event, kind) for event, kind in typed if kind is not None])
    users = [r.user for rs in recipients.values() for r in rs if r.user is not None]
    switched_off = _switched_off({user.pk for user in users})

    notices: list[Notification] = []
    mails: list[EmailDelivery] = []
    for event, kind in typed:
        if kind is None:
            continue
        for recipient in recipients.get(event.pk, []):
            user = recipient.user
            if user is not None and (kind.group, Channel.IN_APP) not in switched_off.get(
                user.pk, set()
            ):
                notice = _notice(event, kind, recipient)
                if notice is not None:
                    notices.append(notice)
            email_off = user is not None and (kind.group, Channel.EMAIL) in switched_off.get(
                user.pk, set()
            )
            if recipient.email and not (email_off and not kind.mandatory):
                mails.append(
                    EmailDelivery(
                        event=event,
                        user=user,
                        key=_mail_key(event, recipient),
                        to_email=recipient.email,
                        template=f"{event.name}/{recipient.audience}",
                    )
                )

    _create_notices(notices)
    EmailDelivery.objects.bulk_create(mails, ignore_conflicts=True)
    _webhooks([event for event, kind in typed if _public(event, kind)])


def _public(event: Event, kind: catalogue.EventType | None) -> bool:
    """Whether webhooks may carry the event: not a notice, not a secret link."""
    return event.name != "notification.created" and not (kind is not None and kind.private)


def _mail_key(event: Event, recipient: Recipient) -> str:
    who = f"u{recipient.user.pk}" if recipient.user is not None else recipient.email.lower()
    return f"{event.pk}:{who}"[:120]


def _recipients(typed: list[tuple[Event, catalogue.EventType]]) -> dict[int, list[Recipient]]:
    """Everyone each event concerns, in three queries for the whole batch."""
    user_ids = {e.user_id for e, kind in typed if "user" in kind.audiences and e.user_id}
    vendor_ids = {e.vendor_id for e, kind in typed if "vendor" in kind.audiences and e.vendor_id}
    wants_operators = any(e.operators and "operators" in kind.audiences for e, kind in typed)

    users = {u.pk: u for u in User.objects.filter(pk__in=user_ids, is_active=True)}
    staff: dict[int, list[tuple[str, User]]] = defaultdict(list)
    if vendor_ids:
        memberships = VendorMembership.objects.filter(
            vendor_id__in=vendor_ids, user__is_active=True
        ).select_related("user")
        for membership in memberships:
            staff[membership.vendor_id].append((membership.role, membership.user))
    operators = (
        list(User.objects.filter(is_operator=True, is_active=True)) if wants_operators else []
    )

    return {
        event.pk: _recipients_of(event, kind, users=users, staff=staff, operators=operators)
        for event, kind in typed
    }


def _recipients_of(
    event: Event,
    kind: catalogue.EventType,
    *,
    users: dict[int, User],
    staff: dict[int, list[tuple[str, User]]],
    operators: list[User],
) -> list[Recipient]:
    """Each person once, in the first audience that names them; never a message's author."""
    candidates: list[tuple[str, User | None, str]] = []
    for audience in kind.audiences:
        if audience == "user" and event.user_id in users:
            subject_user = users[event.user_id]
            candidates.append(("user", subject_user, subject_user.email))
        elif audience == "vendor" and event.vendor_id:
            candidates += [
                ("vendor", member, member.email)
                for role, member in staff.get(event.vendor_id, [])
                if role in kind.vendor_roles
            ]
        elif audience == "operators" and event.operators:
            candidates += [("operators", operator, operator.email) for operator in operators]
        elif audience == "address" and event.data.get("to_email"):
            candidates.append(("address", None, str(event.data["to_email"])))
    author_id = event.data.get("author_id")
    seen: set[int | str] = set()
    chosen: list[Recipient] = []
    for audience, person, email in candidates:
        marker: int | str = person.pk if person is not None else email.lower()
        if marker in seen or (person is not None and person.pk == author_id):
            continue
        seen.add(marker)
        chosen.append(Recipient(audience=audience, user=person, email=email))
    return chosen


def _switched_off(user_ids: Iterable[int]) -> dict[int, set[tuple[str, str]]]:
    off: dict[int, set[tuple[str, str]]] = defaultdict(set)
    ids = list(user_ids)
    if not ids:
        return off
    for user_id, group, channel in NotificationPreference.objects.filter(
        user_id__in=ids, enabled=False
    ).values_list("user_id", "group", "channel"):
        off[user_id].add((group, channel))
    return off


def _notice(event: Event, kind: catalogue.EventType, recipient: Recipient) -> Notification | None:
    assert recipient.user is not None
    try:
        words = rendering.render(
            event_name=event.name,
            audience=recipient.audience,
            data=event.data,
            recipient=recipient.user,
            html=False,
        )
    except TemplateDoesNotExist:
        logger.error("no templates for %s/%s", event.name, recipient.audience)
        return None
    return Notification(
        user=recipient.user,
        event=event,
        name=event.name,
        title=words.subject[:200],
        body=words.notice[:2000],
        url=rendering.path_for(audience=recipient.audience, data=event.data)[:500],
        created_at=event.created_at,
    )


def _create_notices(notices: list[Notification]) -> None:
    """Insert the notices not yet there and announce each on its person's stream."""
    if not notices:
        return
    existing = set(
        Notification.objects.filter(event_id__in={n.event_id for n in notices}).values_list(
            "event_id", "user_id"
        )
    )
    fresh = [n for n in notices if (n.event_id, n.user_id) not in existing]
    created = Notification.objects.bulk_create(fresh)
    outbox.emit_many(
        [
            (
                "notification.created",
                f"notification:{notice.pk}",
                {
                    "id": notice.pk,
                    "event": notice.name,
                    "title": notice.title,
                    "url": notice.url,
                },
                notice.user_id,
                None,
                False,
            )
            for notice in created
        ]
    )


def _webhooks(events: list[Event]) -> None:
    try:
        from agora.notifications.webhooks.services import webhook_deliveries_create
    except ModuleNotFoundError:  # a build without the webhooks package
        return
    webhook_deliveries_create(events=events)


def failed_email_count() -> int:
    return EmailDelivery.objects.filter(status=DeliveryStatus.FAILED).count()
