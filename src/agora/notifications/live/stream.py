"""The long-lived SSE streams, served as plain ASGI before Django sees the request.

`agora.asgi.LaneASGIHandler` runs every request's sync code on one of a few long-lived
threads per worker ("lanes"). A stream lasts minutes or hours: run as a Django view it
would hold a lane all that time, and a handful of open pages would stop the server. So the
handler hands `GET /api/v1/events` and `GET /api/v1/listings/<id>/events` to `serve`,
which borrows a lane only to authenticate (a few milliseconds), then lives in the event
loop: the hub delivers its events and its own threads do the database reads.

A stream, in order:
1. authenticate on a lane (bearer token, else the session cookie; CSRF is not needed for
   a GET that changes nothing) and compute the caller's audience once;
2. subscribe to the hub — before reading anything, so nothing committed from here on can
   be missed (the mailbox buffers it);
3. replay from the database, in pages, every event concerning the caller past
   `Last-Event-ID` (header, or `?last_event_id=` for EventSource polyfills); without it,
   start at the current top of the stream and send that position as a bare `id:`;
4. write the mailbox out, skipping what the replay already sent (seq ≤ the last sent);
   a `: keep-alive` comment every HEARTBEAT_SECONDS; the audience re-checked every
   RECHECK_SECONDS (a revoked token or a lost membership ends or narrows the stream);
5. end on the client's disconnect or the server's shutdown.

Django's test client and WSGI never come here: the API view of the same path
(`live/api.py`) answers them with the finite replay.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import parse_qs

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpResponse
from django.http.cookie import parse_cookie
from django.http.request import split_domain_port, validate_host

from agora.core.errors import (
    DomainError,
    ErrorCode,
    InvalidInput,
    problem_from_error,
    problem_response,
)
from agora.notifications.live import hub as live_hub
from agora.notifications.live import selectors, wire
from agora.notifications.live.hub import Hub, Subscription
from agora.notifications.live.selectors import Credential
from agora.notifications.live.wire import Audience

logger = logging.getLogger(__name__)

EVENTS_PATH = "/api/v1/events"
_LISTING_EVENTS = re.compile(r"^/api/v1/listings/(?P<listing_id>[0-9]{1,18})/events$")
HEARTBEAT_SECONDS = 15.0
RECHECK_SECONDS = 60.0
REPLAY_PAGE = 500

_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-store"),
    # nginx and other proxies must pass each frame on at once, not buffer the response.
    (b"x-accel-buffering", b"no"),
    (b"x-content-type-options", b"nosniff"),
]


@dataclass(frozen=True)
class Route:
    """A stream request: the caller's own events, or a listing's public slot changes."""

    listing_id: int | None = None


def route(scope: dict[str, Any]) -> Route | None:
    """The stream `scope` asks for, or None when Django should answer it."""
    if scope.get("type") != "http" or scope.get("method") != "GET":
        return None
    path = scope.get("path", "")
    if path == EVENTS_PATH:
        return Route()
    match = _LISTING_EVENTS.match(path)
    if match:
        return Route(listing_id=int(match["listing_id"]))
    return None


class _Request:
    def __init__(self, scope: dict[str, Any]) -> None:
        self.headers: dict[str, str] = {}
        cookies: list[str] = []
        for name, value in scope.get("headers", []):
            key, text = name.decode("latin-1").lower(), value.decode("latin-1")
            if key == "cookie":
                cookies.append(text)  # HTTP/2 may send one header per cookie
            else:
                self.headers[key] = text
        self.headers["cookie"] = "; ".join(cookies)
        self.query = parse_qs(scope.get("query_string", b"").decode("latin-1"))

    def check_host(self) -> None:
        """ALLOWED_HOSTS, as Django checks it for every other request."""
        allowed = list(settings.ALLOWED_HOSTS)
        if settings.DEBUG and not allowed:
            allowed = [".localhost", "127.0.0.1", "[::1]"]
        domain, _ = split_domain_port(self.headers.get("host", ""))
        if not domain or not validate_host(domain, allowed):
            # What Django answers a disallowed host with (ApiProblemMiddleware): 400.
            raise DomainError(
                "The Host header is not one this server answers to.",
                code=ErrorCode.VALIDATION_ERROR,
                status=400,
            )

    def last_event_id(self) -> int | None:
        raw = self.headers.get("last-event-id")
        if raw is None:
            raw = (self.query.get("last_event_id") or [None])[0]
        try:
            return wire.parse_last_event_id(raw)
        except ValueError:
            raise InvalidInput(
                "Last-Event-ID must be a stream position this server sent (a whole number).",
                errors=[{"loc": ["header", "Last-Event-ID"], "msg": "not a number", "type": ""}],
            ) from None

    def credential(self) -> Credential:
        # Django's own cookie parsing, as for every other request.
        cookies = parse_cookie(self.headers.get("cookie", ""))
        return Credential(
            authorization=self.headers.get("authorization"),
            session_key=cookies.get(settings.SESSION_COOKIE_NAME) or None,
        )


async def _send_response(send: Callable[..., Awaitable[None]], response: HttpResponse) -> None:
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.items()]
    await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": response.content, "more_body": False})


def _open(stream_route: Route, credential: Credential) -> Audience:
    """On a lane: who is asking, as an audience (NotAuthenticated / NotFound)."""
    if stream_route.listing_id is not None:
        return selectors.audience_for_listing(listing_id=stream_route.listing_id)
    return selectors.audience_for_credential(credential=credential)


async def serve(
    stream_route: Route,
    scope: dict[str, Any],
    receive: Callable[[], Awaitable[dict[str, Any]]],
    send: Callable[[dict[str, Any]], Awaitable[None]],
    *,
    run_on_lane: Callable[[Callable[[], Audience]], Awaitable[Audience]],
) -> None:
    request = _Request(scope)
    credential = request.credential()
    try:
        request.check_host()
        after = request.last_event_id()
        audience = await run_on_lane(partial(_open, stream_route, credential))
        hub = await live_hub.get_hub()
    except DomainError as error:
        await _send_response(send, problem_from_error(error))
        return
    except (TimeoutError, DatabaseError):
        logger.warning("live events: no stream, the database is not answering")
        unavailable = problem_response(
            status=503,
            code=ErrorCode.BUSY,
            detail="Live events are unavailable for a moment; retry shortly.",
            headers={"Retry-After": "2"},
        )
        await _send_response(send, unavailable)
        return
    recheck = credential if stream_route.listing_id is None else None
    await _Stream(hub, audience, recheck, receive, send).run(after)


class _Stream:
    def __init__(
        self,
        hub: Hub,
        audience: Audience,
        credential: Credential | None,
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        self.hub = hub
        self.audience = audience
        self.credential = credential
        self.receive = receive
        self.send = send
        self.disconnected = False

    async def _write(self, text: str) -> None:
        await self.send({"type": "http.response.body", "body": text.encode(), "more_body": True})

    async def _watch_disconnect(self, subscription: Subscription) -> None:
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                self.disconnected = True
                subscription.close()
                return

    async def run(self, after: int | None) -> None:
        subscription = self.hub.subscribe(self.audience)
        watcher = asyncio.get_running_loop().create_task(self._watch_disconnect(subscription))
        try:
            top = await self.hub.read(selectors.stream_position)
            await self.send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
            # No Last-Event-ID: from now on. An id past the top (a database restored from
            # a backup, or another marketplace's) would wait for events that never come:
            # also from now on.
            if after is None or after > top:
                cursor = top
                await self._write(wire.retry_frame() + wire.position_frame(cursor))
            else:
                cursor = after
                await self._write(wire.retry_frame())
                cursor = await self._replay(cursor)
            await self._live(subscription, cursor)
        except DatabaseError as error:
            # The client reconnects after `retry` with its Last-Event-ID: nothing is lost.
            logger.warning("live events: stream ended, database unavailable (%s)", error)
        finally:
            self.hub.unsubscribe(subscription)
            watcher.cancel()
            if not self.disconnected:
                await self.send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _replay(self, cursor: int) -> int:
        """Send every event concerning the audience past `cursor`; return the last sent."""
        while True:
            events = await self.hub.read(
                selectors.events_for, audience=self.audience, after=cursor, limit=REPLAY_PAGE
            )
            if not events:
                return cursor
            frames = self.audience.frames(events)
            if frames:
                await self._write("".join(frames))
            cursor = events[-1].seq
            if len(events) < REPLAY_PAGE:
                return cursor

    async def _live(self, subscription: Subscription, cursor: int) -> None:
        now = time.monotonic()
        heartbeat_at = now + HEARTBEAT_SECONDS
        recheck_at = now + RECHECK_SECONDS
        while True:
            await subscription.wait(min(heartbeat_at, recheck_at) - time.monotonic())
            if subscription.closed:
                return
            if subscription.lagged:
                # The mailbox overflowed while this client was slow: read what it missed.
                subscription.lagged = False
                subscription.take()
                cursor = await self._replay(cursor)
                heartbeat_at = time.monotonic() + HEARTBEAT_SECONDS
            fresh = [event for event in subscription.take() if event.seq > cursor]
            if fresh:
                cursor = fresh[-1].seq
                frames = self.audience.frames(fresh)
                if frames:
                    await self._write("".join(frames))
                    heartbeat_at = time.monotonic() + HEARTBEAT_SECONDS
            now = time.monotonic()
            if now >= heartbeat_at:
                await self._write(wire.HEARTBEAT_FRAME)
                heartbeat_at = now + HEARTBEAT_SECONDS
            if self.credential is not None and now >= recheck_at:
                recheck_at = now + RECHECK_SECONDS
                audience = await self.hub.read(
                    selectors.audience_still_valid, credential=self.credential
                )
                if audience is None:
                    return
                if audience != self.audience:
                    self.audience = audience
                    self.hub.resubscribe(subscription, audience)
