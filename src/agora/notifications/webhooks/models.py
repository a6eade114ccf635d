"""Webhook endpoints, their deliveries (one per endpoint and event) and every attempt.

Part of the `notifications` app: `agora.notifications.models` imports these, so their
migrations live in `notifications/migrations`.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models

from agora.core import clock


class WebhookEndpoint(models.Model):
    """A URL that receives the events it subscribed to, signed with its secret.

    `vendor` is the vendor whose events it receives; null is the operator's endpoint,
    which may receive every event. `previous_secret` still signs (beside `secret`) until
    `previous_secret_expires_at`, so a receiver has a day to switch after a rotation.
    `failing_since` is when the current run of failed attempts began (null while the
    last attempt succeeded); a delivery that fails for good while it is older than the
    disable threshold switches the endpoint off (see `delivery`).
    """

    vendor = models.ForeignKey(
        "vendors.Vendor",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="webhook_endpoints",
    )
    url = models.CharField(max_length=2000)
    events = models.JSONField(default=list, help_text='Event names, or ["*"] for all.')
    secret = models.CharField(max_length=100)
    previous_secret = models.CharField(max_length=100, blank=True, default="")
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    enabled = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=500, blank=True, default="")
    disabled_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        indexes = [models.Index(fields=["vendor", "enabled"], name="webhook_endpoint_vendor")]

    def __str__(self) -> str:
        owner = f"vendor {self.vendor_id}" if self.vendor_id else "operator"
        return f"{self.url} ({owner})"

    def signing_secrets(self, *, now: datetime | None = None) -> list[str]:
        """The secrets that sign now: the current one, and the previous one until it ends."""
        at = now or clock.now()
        keys = [self.secret]
        if (
            self.previous_secret
            and self.previous_secret_expires_at is not None
            and self.previous_secret_expires_at > at
        ):
            keys.append(self.previous_secret)
        return keys


class WebhookDeliveryStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SUCCEEDED = "succeeded", "Delivered"
    FAILED = "failed", "Failed after every retry"


class WebhookDelivery(models.Model):
    """One event for one endpoint, retried until a 2xx answer or the schedule runs out.

    `webhook_id` is the same on every attempt and every replay, so a receiver can tell a
    repeat from a new event. `attempts` counts every attempt ever made; `failures_in_round`
    only those since the delivery was last queued (created or replayed), which picks the
    next wait from the retry schedule. A row is claimed for sending by `leased_until`; a
    worker that dies mid-send leaves the lease to expire and the row is sent again.
    """

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(
        "notifications.Event", on_delete=models.CASCADE, related_name="webhook_deliveries"
    )
    webhook_id = models.CharField(max_length=64)
    status = models.CharField(
        max_length=16,
        choices=WebhookDeliveryStatus.choices,
        default=WebhookDeliveryStatus.PENDING,
    )
    attempts = models.PositiveIntegerField(default=0)
    failures_in_round = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=clock.now)
    leased_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    last_response_body = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=clock.now)
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="webhook_delivery_once")
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_delivery_due",
                condition=models.Q(status="pending"),
            ),
            models.Index(fields=["endpoint", "-id"], name="webhook_delivery_endpoint"),
        ]

    def __str__(self) -> str:
        return f"{self.webhook_id} → endpoint {self.endpoint_id} {self.status}"


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery: when, what came back, how long it took."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    at = models.DateTimeField(default=clock.now)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    response_body = models.TextField(blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["delivery", "id"], name="webhook_attempt_delivery")]

    def __str__(self) -> str:
        return f"{self.delivery_id} at {self.at}: {self.status_code or self.error}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


__all__ = ["WebhookAttempt", "WebhookDelivery", "WebhookDeliveryStatus", "WebhookEndpoint"]
