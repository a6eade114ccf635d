from __future__ import annotations

from datetime import datetime
from typing import Annotated

from ninja import Schema
from pydantic import Field

from agora.notifications.models import Notification
from agora.notifications.selectors import GroupPreference
from agora.vendors.schemas import StrictIn


class NotificationOut(Schema):
    id: int
    event: str = Field(description="The event's dotted name, e.g. booking.accepted.")
    title: str
    body: str
    url: str = Field(description="Where the notice leads: a path on this site, or empty.")
    created_at: datetime
    read_at: datetime | None

    @classmethod
    def of(cls, notification: Notification) -> NotificationOut:
        return cls(
            id=notification.pk,
            event=notification.name,
            title=notification.title,
            body=notification.body,
            url=notification.url,
            created_at=notification.created_at,
            read_at=notification.read_at,
        )


class NotificationPageOut(Schema):
    items: list[NotificationOut]
    next_cursor: str | None
    unread_count: int = Field(description="All of your unread notifications, not this page's.")


# An id the database can hold: larger ones would fail in the driver, not as a 422.
NotificationId = Annotated[int, Field(strict=True, ge=1, le=2**63 - 1)]


class MarkReadIn(StrictIn):
    ids: list[NotificationId] | None = Field(
        None,
        max_length=500,
        description="Your notifications to mark read; other people's ids are ignored.",
    )
    all: bool = Field(False, strict=True, description="Mark every unread notification read.")


class MarkReadOut(Schema):
    marked: int = Field(description="How many of your notifications this marked read.")
    unread_count: int


class GroupPreferenceOut(Schema):
    group: str
    label: str
    email: bool
    in_app: bool
    email_locked: bool = Field(
        description="Every e-mail of this group is transactional: `email` cannot be false."
    )
    mandatory_email_events: list[str] = Field(
        description=(
            "Event types of this group that are e-mailed even when `email` is false "
            "(receipts, booking and order changes)."
        )
    )

    @classmethod
    def of(cls, preference: GroupPreference) -> GroupPreferenceOut:
        return cls(
            group=preference.group,
            label=preference.label,
            email=preference.email,
            in_app=preference.in_app,
            email_locked=preference.email_locked,
            mandatory_email_events=list(preference.mandatory_email_events),
        )


class PreferencesOut(Schema):
    groups: list[GroupPreferenceOut]

    @classmethod
    def of(cls, preferences: list[GroupPreference]) -> PreferencesOut:
        return cls(groups=[GroupPreferenceOut.of(preference) for preference in preferences])


class GroupPreferenceIn(StrictIn):
    group: str = Field(max_length=32)
    email: bool | None = Field(None, strict=True, description="Omit to keep the current setting.")
    in_app: bool | None = Field(None, strict=True, description="Omit to keep the current setting.")
    # Read-only members of GroupPreferenceOut, accepted and ignored so that a client can PUT
    # back what it GOT with only the switches changed.
    label: str | None = Field(None, max_length=200, description="Read-only; ignored.")
    email_locked: bool | None = Field(None, description="Read-only; ignored.")
    mandatory_email_events: list[str] | None = Field(
        None, max_length=100, description="Read-only; ignored."
    )


class PreferencesIn(StrictIn):
    groups: list[GroupPreferenceIn] = Field(
        max_length=100, description="The groups to change; groups not listed keep their settings."
    )
