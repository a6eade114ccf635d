"""Periodic jobs of the outbox (the worker's outbox loop does the prompt work)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django_tasks import task

from agora.core import clock, periodic
from agora.notifications.models import Event


def prune_events(*, batch: int = 5000) -> int:
    """Forget dispatched events older than the retention period (stream replay reaches
    back that far), with their sent mails and webhook deliveries; notices stay."""
    cutoff = clock.now() - timedelta(days=settings.AGORA_EVENT_RETENTION_DAYS)
    deleted = 0
    while True:
        ids = list(
            Event.objects.filter(created_at__lt=cutoff, dispatched_at__isnull=False)
            .order_by("id")
            .values_list("id", flat=True)[:batch]
        )
        if not ids:
            return deleted
        Event.objects.filter(pk__in=ids).delete()
        deleted += len(ids)


@task()
def prune_old_events() -> int:
    return prune_events()


periodic.register(prune_old_events, every=timedelta(hours=6))
