"""After every commit that emitted events: wake this process's hub and, with Redis, every
other process's (registered by the notifications app's `ready`)."""

from __future__ import annotations

from django.conf import settings

from agora.notifications import outbox
from agora.notifications.live.hub import current_hub


def events_committed() -> None:
    hub = current_hub()
    if hub is not None:
        hub.wake()
    if settings.REDIS_URL:
        from agora.notifications.live.redis_bus import publisher

        publisher(settings.REDIS_URL).publish()


def install() -> None:
    outbox.on_events_committed(events_committed)
