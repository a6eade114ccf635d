"""The in-app notification centre and notification preferences under /api/v1 (the caller's
own only)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from agora.accounts.auth import acting_user, bearer
from agora.notifications import selectors, services
from agora.notifications.schemas import (
    MarkReadIn,
    MarkReadOut,
    NotificationOut,
    NotificationPageOut,
    PreferencesIn,
    PreferencesOut,
)
from agora.notifications.services import PreferenceChange

router = Router(tags=["notifications"])


@router.get(
    "/notifications",
    response=NotificationPageOut,
    auth=bearer,
    summary="Your notifications, newest first, with how many are unread",
)
def notification_list(
    request: HttpRequest, cursor: str | None = None, limit: int = 20
) -> NotificationPageOut:
    user = acting_user(request)
    page = selectors.notifications_for(user=user, cursor=cursor, limit=limit)
    return NotificationPageOut(
        items=[NotificationOut.of(notification) for notification in page.items],
        next_cursor=page.next_cursor,
        unread_count=selectors.unread_count(user=user),
    )


@router.post(
    "/notifications/read",
    response=MarkReadOut,
    auth=bearer,
    summary="Mark your notifications read: `ids`, or `all: true`",
    description=(
        "Only the caller's own notifications change; ids of anyone else's are ignored "
        "(they are counted in neither `marked` nor an error), so the answer reveals nothing "
        "about other people's notifications."
    ),
)
def notification_mark_read(request: HttpRequest, payload: MarkReadIn) -> MarkReadOut:
    user = acting_user(request)
    marked = services.notifications_mark_read(user=user, ids=payload.ids, all_unread=payload.all)
    return MarkReadOut(marked=marked, unread_count=selectors.unread_count(user=user))


@router.get(
    "/me/notification-preferences",
    response=PreferencesOut,
    auth=bearer,
    summary="Which groups of notifications reach you by e-mail and in the app",
)
def preferences_get(request: HttpRequest) -> PreferencesOut:
    return PreferencesOut.of(selectors.preferences_for(user=acting_user(request)))


@router.put(
    "/me/notification-preferences",
    response=PreferencesOut,
    auth=bearer,
    summary="Change your notification preferences",
    description=(
        "Groups not listed keep their settings; a channel left out keeps its setting. "
        "Switching e-mail off for a group still e-mails its `mandatory_email_events` "
        "(transactional mail); a group whose every e-mail is mandatory (`email_locked`) "
        "refuses `email: false` with 422 `email_locked`. An unknown group is 422 "
        "`unknown_notification_group`."
    ),
)
def preferences_put(request: HttpRequest, payload: PreferencesIn) -> PreferencesOut:
    changes = [
        PreferenceChange(group=item.group, email=item.email, in_app=item.in_app)
        for item in payload.groups
    ]
    return PreferencesOut.of(
        services.preferences_update(user=acting_user(request), changes=changes, via="api")
    )
