"""`audit_log`: the one way a state change is recorded (after pretix's log_action)."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from agora.core import clock
from agora.core.models import AuditLog
from agora.core.request_context import current_request_id


def audit_log(
    *,
    actor: Any,
    action: str,
    target: models.Model,
    data: dict[str, Any] | None = None,
) -> AuditLog:
    """Record `action` (dotted, e.g. `vendor.approved`) on `target` by `actor`.

    `actor` is a user, or None for the system (tasks, expiry). Call it inside the same
    transaction as the change it records, so both land or neither does.
    """
    return AuditLog.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        content_type=ContentType.objects.get_for_model(target, for_concrete_model=False),
        object_id=str(target.pk),
        data=data or {},
        request_id=current_request_id() or "",
        at=clock.now(),
    )


def audit_trail(target: models.Model) -> models.QuerySet[AuditLog]:
    content_type = ContentType.objects.get_for_model(target, for_concrete_model=False)
    return AuditLog.objects.filter(content_type=content_type, object_id=str(target.pk)).order_by(
        "at", "id"
    )


def audit_log_many(
    *,
    actor: Any,
    action: str,
    targets: list[models.Model],
    data: dict[str, Any] | None = None,
) -> list[AuditLog]:
    """`audit_log` for the same action on several targets of one model, in one INSERT."""
    if not targets:
        return []
    content_type = ContentType.objects.get_for_model(targets[0], for_concrete_model=False)
    actor = actor if getattr(actor, "pk", None) else None
    request_id = current_request_id() or ""
    at = clock.now()
    return AuditLog.objects.bulk_create(
        [
            AuditLog(
                actor=actor,
                action=action,
                content_type=content_type,
                object_id=str(target.pk),
                data=dict(data or {}),
                request_id=request_id,
                at=at,
            )
            for target in targets
        ]
    )
