from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import Field

from agora.notifications.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from agora.vendors.schemas import StrictIn

EVENTS_DESCRIPTION = (
    'Event names such as booking.paid, order.shipped, payout.paid, or "*" for every event.'
)


class WebhookIn(StrictIn):
    url: str = Field(
        max_length=2000,
        description="https URL on a public address (private ones only with "
        "AGORA_WEBHOOK_ALLOW_PRIVATE).",
        examples=["https://example.com/agora/webhooks"],
    )
    events: list[str] = Field(
        min_length=1, max_length=100, description=EVENTS_DESCRIPTION, examples=[["booking.paid"]]
    )


class WebhookPatchIn(StrictIn):
    url: str | None = Field(None, max_length=2000)
    events: list[str] | None = Field(None, min_length=1, max_length=100)
    enabled: bool | None = Field(
        None, description="true switches a disabled endpoint on again; false switches it off."
    )


class WebhookOut(Schema):
    id: int
    url: str
    events: list[str]
    enabled: bool
    disabled_reason: str
    disabled_at: datetime | None
    consecutive_failures: int
    previous_secret_expires_at: datetime | None = Field(
        description="Until then the secret before the last rotation still signs too."
    )
    created_at: datetime

    @classmethod
    def of(cls, endpoint: WebhookEndpoint) -> WebhookOut:
        return cls(
            id=endpoint.pk,
            url=endpoint.url,
            events=list(endpoint.events),
            enabled=endpoint.enabled,
            disabled_reason=endpoint.disabled_reason,
            disabled_at=endpoint.disabled_at,
            consecutive_failures=endpoint.consecutive_failures,
            previous_secret_expires_at=endpoint.previous_secret_expires_at,
            created_at=endpoint.created_at,
        )


class WebhookCreatedOut(WebhookOut):
    secret: str = Field(description="The whsec_ signing secret; shown only in this response.")

    @classmethod
    def of(cls, endpoint: WebhookEndpoint) -> WebhookCreatedOut:
        return cls(**WebhookOut.of(endpoint).model_dump(), secret=endpoint.secret)


class SecretOut(Schema):
    id: int
    secret: str = Field(description="The new whsec_ secret; shown only in this response.")
    previous_secret_expires_at: datetime

    @classmethod
    def of(cls, endpoint: WebhookEndpoint) -> SecretOut:
        assert endpoint.previous_secret_expires_at is not None
        return cls(
            id=endpoint.pk,
            secret=endpoint.secret,
            previous_secret_expires_at=endpoint.previous_secret_expires_at,
        )


class AttemptOut(Schema):
    at: datetime
    status_code: int | None
    duration_ms: int
    error: str
    response_body: str

    @classmethod
    def of(cls, attempt: WebhookAttempt) -> AttemptOut:
        return cls(
            at=attempt.at,
            status_code=attempt.status_code,
            duration_ms=attempt.duration_ms,
            error=attempt.error,
            response_body=attempt.response_body,
        )


class DeliveryOut(Schema):
    id: int
    webhook_id: str = Field(description="The webhook-id header: the same on every attempt.")
    event_id: int
    type: str
    status: str
    attempt_count: int
    next_attempt_at: datetime | None = Field(description="When it is tried next (pending only).")
    last_status_code: int | None
    last_error: str
    created_at: datetime
    succeeded_at: datetime | None
    attempts: list[AttemptOut]

    @classmethod
    def of(cls, delivery: WebhookDelivery) -> DeliveryOut:
        return cls(
            id=delivery.pk,
            webhook_id=delivery.webhook_id,
            event_id=delivery.event_id,
            type=delivery.event.name,
            status=delivery.status,
            attempt_count=delivery.attempts,
            next_attempt_at=delivery.next_attempt_at if delivery.status == "pending" else None,
            last_status_code=delivery.last_status_code,
            last_error=delivery.last_error,
            created_at=delivery.created_at,
            succeeded_at=delivery.succeeded_at,
            attempts=[AttemptOut.of(attempt) for attempt in delivery.attempt_log.all()],
        )
