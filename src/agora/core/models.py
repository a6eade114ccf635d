from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models

from agora.core import clock


class AuditLog(models.Model):
    """One row per state change: who did what to which object, when, and why.

    Append-only. Lifecycle histories (e.g. a booking's `history`) are read from here, so a
    transition that skips its audit row is a bug the history would show.
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=100, help_text="Dotted name, e.g. booking.accepted")
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.CharField(max_length=64)
    data = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True, default="")
    at = models.DateTimeField(default=clock.now, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["content_type", "object_id", "at"])]
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_id}"


class IdempotencyKey(models.Model):
    """The first response to a request carrying an `Idempotency-Key`, per (user, key).

    A row exists only once its request has finished: it is inserted in the same
    transaction as the request's own writes, so the unique index makes a concurrent retry
    wait for the first and then replay it (see agora.core.idempotency).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # Anonymous requests share user=NULL; `scope` makes (scope, key) unique for them too,
    # since NULLs never collide in a unique index.
    scope = models.CharField(max_length=64)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    status_code = models.PositiveSmallIntegerField(null=True)
    content_type = models.CharField(max_length=100, blank=True, default="")
    body = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=clock.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="idempotency_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"


class RateCounter(models.Model):
    """A fixed-window counter (sign-in attempts per e-mail or IP), bumped with F()."""

    key = models.CharField(max_length=255, unique=True)
    count = models.PositiveIntegerField(default=0)
    window_ends_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.key}={self.count}"


class PeriodicRun(models.Model):
    """When each periodic job is next due; claimed with a conditional UPDATE so that
    several `agora worker` processes enqueue a due job exactly once."""

    name = models.CharField(max_length=100, unique=True)
    next_run_at = models.DateTimeField()
    last_enqueued_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} at {self.next_run_at}"
