"""The ASGI application: Django's handler running each worker's requests on a few lanes.

Django's stock `ASGIHandler` enters a fresh `ThreadSensitiveContext()` per request, and
asgiref gives each such context a new one-thread executor: every request's middleware and
view run on a new thread. Database connections are per thread, so every request opens a
new connection (CONN_MAX_AGE never gets to reuse one) and the old one lingers until
garbage collection — on PostgreSQL a backend fork per request and, under load, "too many
clients"; on SQLite the file opened and its PRAGMAs run per request.

Here each worker process keeps `AGORA_SYNC_THREADS` long-lived threads ("lanes", default
1). A request waits for a free lane and runs all its sync code there, so connections are
reused and bounded by workers × lanes. On 2 cores one lane per worker is best: scale with
`agora serve --workers N`.

The live event streams (`GET /api/v1/events`, `/api/v1/listings/<id>/events`) hold no lane:
they last as long as a page is open, so they are answered in the event loop
(`agora.notifications.live.stream`), borrowing a lane only to authenticate.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import django
from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.db import close_old_connections
from django.http import HttpRequest, HttpResponseBase

from agora.core import health

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agora.settings")

DEFAULT_LANES = 1
T = TypeVar("T")


def lanes_from_env() -> int:
    raw = os.environ.get("AGORA_SYNC_THREADS", "").strip()
    if not raw:
        return DEFAULT_LANES
    try:
        lanes = int(raw)
    except ValueError as error:
        raise ValueError(f"AGORA_SYNC_THREADS must be a whole number, not {raw!r}") from error
    if lanes < 1:
        raise ValueError(f"AGORA_SYNC_THREADS must be at least 1, not {lanes}")
    return lanes


class LaneASGIHandler(ASGIHandler):
    """`ASGIHandler` whose requests run on a fixed set of long-lived threads.

    Every middleware and view of Agora is synchronous, so the whole request path — the
    middleware chain and the view — runs as one synchronous call on the request's lane,
    as under WSGI. (Django's ASGI handler builds an asynchronous chain instead: with sync
    middleware it hops from the lane to the event loop after the innermost middleware and
    back to the lane for the view, two thread hand-offs per request for nothing.) An async
    view would still work: Django's sync path runs it with async_to_sync.
    """

    def __init__(self, lanes: int = DEFAULT_LANES) -> None:
        super().__init__()
        # Server-Sent Event streams are answered here, in the event loop, not by Django
        # on a lane: a stream lasts as long as the page is open (notifications.live).
        from agora.notifications.live import stream

        self._live = stream
        # Load balancers' probes are answered in the event loop too (agora.core.health).
        self.health = health.HealthProbe()
        self.load_middleware(is_async=False)
        self.lane_count = max(1, lanes)
        self.executors = [
            ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"agora-lane{i}")
            for i in range(self.lane_count)
        ]
        # Created on first use: the queue belongs to the event loop that serves requests.
        self._free: asyncio.Queue[ThreadPoolExecutor] | None = None

    def _free_lanes(self) -> asyncio.Queue[ThreadPoolExecutor]:
        if self._free is None:
            self._free = asyncio.Queue()
            for executor in self.executors:
                self._free.put_nowait(executor)
        return self._free

    async def get_response_async(self, request: HttpRequest) -> HttpResponseBase:
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)

    async def run_on_lane(self, fn: Callable[[], T]) -> T:
        """Run the short sync `fn` on a free lane, as a request would run (stale database
        connections closed before and after), and give the lane back."""
        free = self._free_lanes()
        executor = await free.get()
        try:
            return await asyncio.get_running_loop().run_in_executor(executor, _as_request, fn)
        finally:
            free.put_nowait(executor)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        if health.is_probe(scope):
            await self.health.serve(scope, receive, send)
            return
        live_route = self._live.route(scope)
        if live_route is not None:
            await self._live.serve(live_route, scope, receive, send, run_on_lane=self.run_on_lane)
            return
        free = self._free_lanes()
        executor = await free.get()
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        finally:
            free.put_nowait(executor)


def _as_request(fn: Callable[[], T]) -> T:
    close_old_connections()
    try:
        return fn()
    finally:
        close_old_connections()


django.setup(set_prefix=False)
application = LaneASGIHandler(lanes_from_env())
