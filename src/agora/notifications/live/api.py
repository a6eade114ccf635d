"""The live streams in the API document, and their finite replay for plain Django.

Under `agora serve` the ASGI lane handler answers these paths itself with the long-lived
stream (`live/stream.py`) before Django is asked. A client that reaches Django directly —
the test client, a WSGI server — gets the same protocol in short: the events past
`Last-Event-ID` (up to REPLAY_LIMIT), then the response ends with `retry:`, and an
EventSource reconnects after that delay with the last id it saw, so it still sees every
event, in order, only later.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router
from ninja.security import SessionAuth as NinjaSessionAuth

from agora.accounts.auth import acting_user, bearer
from agora.core.errors import InvalidInput
from agora.notifications.live import selectors, wire
from agora.notifications.live.wire import Audience

router = Router(tags=["live events"])

REPLAY_LIMIT = 1000

_PROBLEM = {
    "application/problem+json": {
        "schema": {
            "type": "object",
            "properties": {
                "type": {"type": "string"},
                "title": {"type": "string"},
                "status": {"type": "integer"},
                "detail": {"type": "string"},
                "code": {"type": "string"},
            },
        }
    }
}
_STREAM = {"text/event-stream": {"schema": {"type": "string"}}}
_LAST_EVENT_ID = [
    {
        "in": "header",
        "name": "Last-Event-ID",
        "required": False,
        "schema": {"type": "integer", "minimum": 0},
        "description": "Resume after this stream position: every later event is sent.",
    },
    {
        "in": "query",
        "name": "last_event_id",
        "required": False,
        "schema": {"type": "integer", "minimum": 0},
        "description": "The same, for EventSource polyfills that cannot set headers.",
    },
]


class SessionAuth(NinjaSessionAuth):
    """The session cookie of a signed-in page, unless a bearer token was sent (then the
    token alone decides, as everywhere in the API). A GET changes nothing: no CSRF."""

    def __init__(self) -> None:
        super().__init__(csrf=False)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if request.headers.get("Authorization"):
            return None
        return super().authenticate(request, key)


def _last_event_id(request: HttpRequest) -> int | None:
    raw = request.headers.get("Last-Event-ID")
    if raw is None:
        raw = request.GET.get("last_event_id")
    try:
        return wire.parse_last_event_id(raw)
    except ValueError:
        raise InvalidInput(
            "Last-Event-ID must be a stream position this server sent (a whole number).",
            errors=[{"loc": ["header", "Last-Event-ID"], "msg": "not a number", "type": ""}],
        ) from None


def _replay(audience: Audience, after: int | None) -> HttpResponse:
    top = selectors.stream_position()
    body = wire.retry_frame()
    if after is None or after > top:
        body += wire.position_frame(top)
    else:
        events = selectors.events_for(audience=audience, after=after, limit=REPLAY_LIMIT)
        body += "".join(audience.frames(events))
        if events and audience.frame(events[-1]) is None:
            # The last event read was not for this caller: resume past it all the same.
            body += wire.position_frame(events[-1].seq)
    response = HttpResponse(body, content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response


_EVENTS_DESCRIPTION = """\
A Server-Sent Events stream of the caller's events: `booking.updated`, `order.updated`,
`message.created`, `notification.created`, `quote.updated`. Each has an increasing numeric
`id:` (its stream position), the name in `event:` and JSON `data` with the object's `id`,
`status` where it has one, the `url` to open (the customer's, the vendor's or the
operator's page, as the caller is), the dotted `name` of what happened (`booking.accepted`)
and ids of related objects (`booking_id` of a message).

Reconnecting with `Last-Event-ID: n` (or `?last_event_id=n`) sends every later event that
concerns the caller, in order, with no gaps and nothing earlier; without it the stream
starts now and sends its position as a bare `id:`. The stream sends `retry: 2000` and a
`: keep-alive` comment every 15 seconds.

Authenticate with a bearer token or a signed-in session cookie. Under `agora serve` the
stream stays open across every server process (through the database, or Redis pub/sub
when `REDIS_URL` is set); a server without it answers the replay and closes, and the
client reconnects after `retry`.
"""


@router.get(
    "/events",
    auth=[SessionAuth(), bearer],
    summary="Your live events (Server-Sent Events)",
    description=_EVENTS_DESCRIPTION,
    openapi_extra={
        "parameters": _LAST_EVENT_ID,
        "responses": {
            "200": {"description": "The event stream", "content": _STREAM},
            "401": {"description": "Not signed in", "content": _PROBLEM},
            "422": {"description": "Last-Event-ID is not a number", "content": _PROBLEM},
        },
    },
)
def events_stream(request: HttpRequest) -> HttpResponse:
    after = _last_event_id(request)
    return _replay(selectors.audience_for_user(user=acting_user(request)), after)


@router.get(
    "/listings/{listing_id}/events",
    summary="A listing's free times changed (Server-Sent Events, public)",
    description=(
        "`slots.changed` (data `{listing_id}`, nothing personal) whenever a booking at the "
        "listing's vendor changes — held, paid, moved, cancelled or expired — so a page can "
        "fetch the free times again. Resumes with `Last-Event-ID` like `/events`; one "
        "`slots.changed` stands for all the changes missed."
    ),
    openapi_extra={
        "parameters": _LAST_EVENT_ID,
        "responses": {
            "200": {"description": "The event stream", "content": _STREAM},
            "404": {"description": "No such public listing", "content": _PROBLEM},
            "422": {"description": "Last-Event-ID is not a number", "content": _PROBLEM},
        },
    },
)
def listing_events_stream(request: HttpRequest, listing_id: int) -> HttpResponse:
    after = _last_event_id(request)
    return _replay(selectors.audience_for_listing(listing_id=listing_id), after)
