"""`{% live_position %}`: the stream position when a page is rendered.

A page that updates itself opens its stream with `?last_event_id=<this>`, so an event
committed between the render and the stream's start still reaches it.
"""

from __future__ import annotations

from django import template

from agora.notifications.live.selectors import stream_position

register = template.Library()


@register.simple_tag(takes_context=True)
def live_position(context: template.Context) -> int:
    request = context.get("request")
    cached = getattr(request, "_live_position", None)
    if cached is not None:
        return int(cached)
    position = stream_position()
    if request is not None:
        request._live_position = position
    return position
