"""The outbox and what it turns into: in-app notifications, e-mail deliveries, preferences.

An `Event` is written by a domain service in the same transaction as the change it
announces (`agora.notifications.outbox.emit`). After commit it is given its place in the
stream (`seq`) by the sequencer, and the worker fans it out to the people it concerns:
a `Notification` per person for the in-app centre and an `EmailDelivery` per person and
mail, each unique per (event, person), so fanning out twice creates nothing twice.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from agora.core import clock


class Event(models.Model):
    """Something that happened and concerns someone: the outbox row.

    `user` is the person the event is about (the customer of a booking, the author of an
    application), `vendor` the vendor whose staff it concerns, `operators` whether the
    marketplace's operators should hear of it. `data` holds what the mail, the in-app
    notice, the webhook payload and the stream need: at least `id`, `status` (where the
    subject has one) and `url`.

    `id` is the insert order, which on PostgreSQL is not the commit order; `seq` is the
    stream position, assigned after commit in commit order (`sequencer.assign`), so a
    reader that has seen `seq = n` has seen every event before it and a stream resumed
    with `Last-Event-ID: n` has no gaps. `xid` is the inserting transaction's id on
    PostgreSQL, which tells the sequencer when every earlier transaction has finished.
    """

    name = models.CharField(max_length=64, help_text="Dotted, e.g. booking.paid")
    stream_name = models.CharField(
        max_length=32, help_text="The SSE event name, e.g. booking.updated"
    )
    subject = models.CharField(max_length=64, help_text="What it is about, e.g. booking:12")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    vendor = models.ForeignKey(
        "vendors.Vendor", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    operators = models.BooleanField(default=False)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=clock.now)
    xid = models.BigIntegerField(null=True, blank=True)
    seq = models.BigIntegerField(null=True, blank=True, unique=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "seq"], name="event_user_seq"),
            models.Index(fields=["vendor", "seq"], name="event_vendor_seq"),
            models.Index(
                fields=["id"], name="event_unsequenced", condition=models.Q(seq__isnull=True)
            ),
            models.Index(
                fields=["seq"],
                name="event_undispatched",
                condition=models.Q(dispatched_at__isnull=True, seq__isnull=False),
            ),
            models.Index(fields=["created_at"], name="event_created"),
        ]

    def __str__(self) -> str:
        return f"{self.seq or '-'} {self.name} {self.subject}"


class Notification(models.Model):
    """One person's in-app notice of one event."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    # A notice outlives its event: events are pruned after AGORA_EVENT_RETENTION_DAYS, the
    # person's notification history is not.
    event = models.ForeignKey(
        Event, null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications"
    )
    name = models.CharField(max_length=64)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True, default="")
    url = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(default=clock.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "user"], name="notification_once")]
        indexes = [
            models.Index(fields=["user", "-id"], name="notification_user"),
            models.Index(
                fields=["user"],
                name="notification_unread",
                condition=models.Q(read_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.title}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed for good"
    SKIPPED = "skipped", "Not sent (preferences or no address)"


class EmailDelivery(models.Model):
    """One e-mail to one address for one event, retried with backoff until sent or failed.

    `key` is stable (`<event id>:<recipient>`) and is the mail's Message-ID, so a relay or
    a mailbox can tell a repeat after a crash from a new mail. A row is claimed for
    sending by setting `leased_until`; a worker that dies while sending leaves the lease
    to expire and another worker takes the row again.
    """

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="emails")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    key = models.CharField(max_length=120, unique=True)
    to_email = models.EmailField(max_length=254)
    template = models.CharField(max_length=64)
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=clock.now)
    leased_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=clock.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="email_due",
                condition=models.Q(status="pending"),
            ),
            models.Index(fields=["status", "-id"], name="email_status"),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.status}"


class Channel(models.TextChoices):
    EMAIL = "email", "E-mail"
    IN_APP = "in_app", "In the app"


class NotificationPreference(models.Model):
    """A person's choice for one event group and channel; no row means "on"."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    group = models.CharField(max_length=32)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    enabled = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "group", "channel"], name="notification_preference_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.group}/{self.channel}={self.enabled}"


# Webhooks are part of this app (their migrations are this app's); defined in their package.
from agora.notifications.webhooks.models import *  # noqa: E402, F403
