"""The hub: one per server process, in its event loop, feeding every open stream.

Every poll interval, or at once when woken (by a commit in this process or a Redis
message from another), the hub asks the database for the events past the last position it
handed out — `sequencer.assign()` first, so that on PostgreSQL committed events get their
position — and gives each to the streams it concerns. That is one indexed query per tick
whatever the number of streams, and fan-out goes through indexes by user, vendor and
operators, so 1,000 streams of which one is concerned cost one hand-over, not 1,000 checks.

The queries run on a thread of the hub's own with its own database connection — never on a
lane (`agora.asgi`): a lane is a request's thread, and streams must not hold or wait for
one. Replays of streams that resume run on a second thread, so a burst of reconnections
cannot delay the live ticks.

The database is the source of truth. Without Redis the hub polls every 150 ms; with Redis
it sleeps longer when idle, since every commit anywhere wakes it, and falls back to the
short interval whenever Redis is unreachable. A lost wake-up costs one interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from django.conf import settings
from django.db import DatabaseError, connections

from agora.notifications import sequencer
from agora.notifications.live import selectors
from agora.notifications.live.wire import BOOKING_STREAM, Audience, StreamEvent

logger = logging.getLogger(__name__)

T = TypeVar("T")

# The poll intervals are AGORA_LIVE_POLL_MS (no Redis, or Redis unreachable) and
# AGORA_LIVE_REDIS_POLL_MS: with Redis every commit wakes the hub, polling is only the
# safety net — except just after activity, when a PostgreSQL event may still wait for an
# older transaction to finish before the sequencer can place it: then the short interval.
FAST_AFTER_ACTIVITY_SECONDS = 2.0
# Woken for a commit whose events are not placed yet (PostgreSQL: another process's
# sequencer held the lock, or an older transaction is still open): look again this soon,
# this many times, rather than a whole interval later.
LOOK_AGAIN_SECONDS = 0.02
LOOKS_AFTER_WAKE = 5
BATCH = 500
# Events buffered for one stream that does not keep up (a slow client); past this the
# stream drops the buffer and reads what it missed from the database instead.
QUEUE_LIMIT = 1000
READY_TIMEOUT_SECONDS = 10.0
_BACKOFF_MAX_SECONDS = 5.0


class Subscription:
    """One open stream's mailbox: events the hub handed over, not yet written out."""

    __slots__ = ("_events", "_ready", "audience", "closed", "lagged")

    def __init__(self, audience: Audience) -> None:
        self.audience = audience
        self._events: deque[StreamEvent] = deque()
        self._ready = asyncio.Event()
        self.lagged = False
        self.closed = False

    def push(self, event: StreamEvent) -> None:
        if len(self._events) >= QUEUE_LIMIT:
            self._events.clear()
            self.lagged = True
        else:
            self._events.append(event)
        self._ready.set()

    def close(self) -> None:
        self.closed = True
        self._ready.set()

    def take(self) -> list[StreamEvent]:
        events = list(self._events)
        self._events.clear()
        return events

    async def wait(self, timeout: float) -> None:
        """Until there is something to do (events, a lag, the end) or `timeout` passed."""
        if self._events or self.lagged or self.closed:
            return
        self._ready.clear()
        try:
            async with asyncio.timeout(max(timeout, 0)):
                await self._ready.wait()
        except TimeoutError:
            pass


def _on_own_connection(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run `fn` on this thread's database connection, dropping it after a database error
    so the next call reconnects (after a restart or failover of the database)."""
    try:
        return fn(*args, **kwargs)
    except DatabaseError:
        connections.close_all()
        raise


def _next_events(position: int) -> tuple[int, list[StreamEvent]]:
    sequencer.assign()
    return selectors.events_after(after=position, limit=BATCH)


def _uvicorn_server() -> Any:
    """The uvicorn Server running this process, if any (found by its signal handler).

    uvicorn tells a streaming application nothing when it shuts down: it stops accepting,
    then waits for every response to finish (the lifespan shutdown comes only after). So
    the hub watches the server's `should_exit` and ends the streams itself.
    """
    if threading.current_thread() is not threading.main_thread():
        return None
    handler = signal.getsignal(signal.SIGTERM)
    server = getattr(handler, "__self__", None)
    if type(server).__module__.startswith("uvicorn") and hasattr(server, "should_exit"):
        return server
    return None


class Hub:
    def __init__(self, *, redis_url: str = "") -> None:
        self.loop = asyncio.get_running_loop()
        self.position = 0
        self.stopped = False
        self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="agora-live-hub")
        self._replayer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="agora-live-replay")
        self._wake = asyncio.Event()
        self._ready = asyncio.Event()
        self._fast_until = 0.0
        self._looks_left = 0
        self._by_user: dict[int, set[Subscription]] = defaultdict(set)
        self._by_vendor: dict[int, set[Subscription]] = defaultdict(set)
        self._operators: set[Subscription] = set()
        self._by_slots_vendor: dict[int, set[Subscription]] = defaultdict(set)
        self._all: set[Subscription] = set()
        self._server = _uvicorn_server()
        self._wakeups: Any = None
        if redis_url:
            from agora.notifications.live.redis_bus import Wakeups

            self._wakeups = Wakeups(redis_url, on_wake=self._woken)
        self._task = self.loop.create_task(self._run(), name="agora-live-hub")
        if self._server is not None:
            self.loop.create_task(self._watch_shutdown(), name="agora-live-shutdown")

    # --- for streams ----------------------------------------------------------------------

    async def ready(self) -> None:
        """Until the hub knows the stream position (its first read of the database)."""
        await asyncio.wait_for(self._ready.wait(), READY_TIMEOUT_SECONDS)

    async def read(self, fn: Callable[..., T], /, **kwargs: Any) -> T:
        """Run the read `fn(**kwargs)` on the replay thread (not a lane, not the hub's)."""
        return await self.loop.run_in_executor(
            self._replayer, partial(_on_own_connection, fn, **kwargs)
        )

    def subscribe(self, audience: Audience) -> Subscription:
        """A mailbox that gets every event concerning `audience` from now on.

        Subscribe *before* replaying from the database: an event committed during the
        replay is then in the mailbox (and skipped if the replay already sent it); the
        other way round it could fall between the replay's read and the subscription.
        """
        subscription = Subscription(audience)
        if self.stopped:
            subscription.close()
        else:
            self._index(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        audience = subscription.audience
        for index, key in self._keys(audience):
            members = index.get(key)
            if members is not None:
                members.discard(subscription)
                if not members:
                    del index[key]
        self._operators.discard(subscription)
        self._all.discard(subscription)

    def resubscribe(self, subscription: Subscription, audience: Audience) -> None:
        self.unsubscribe(subscription)
        subscription.audience = audience
        self._index(subscription)

    def _keys(self, audience: Audience) -> list[tuple[dict[int, set[Subscription]], int]]:
        keys = [(self._by_vendor, vendor_id) for vendor_id in audience.vendor_ids]
        if audience.user_id is not None:
            keys.append((self._by_user, audience.user_id))
        if audience.slots_of_vendor is not None:
            keys.append((self._by_slots_vendor, audience.slots_of_vendor))
        return keys

    def _index(self, subscription: Subscription) -> None:
        self._all.add(subscription)
        for index, key in self._keys(subscription.audience):
            index[key].add(subscription)
        if subscription.audience.operator:
            self._operators.add(subscription)

    @property
    def subscriber_count(self) -> int:
        return len(self._all)

    # --- waking ----------------------------------------------------------------------------

    def wake(self) -> None:
        """Look for new events now; safe from any thread (the on-commit hook's)."""
        with contextlib.suppress(RuntimeError):  # a closed loop has nothing left to wake
            self.loop.call_soon_threadsafe(self._woken)

    def _woken(self) -> None:
        self._fast_until = time.monotonic() + FAST_AFTER_ACTIVITY_SECONDS
        self._looks_left = LOOKS_AFTER_WAKE
        self._wake.set()

    def _interval(self) -> float:
        redis_awake = self._wakeups is not None and self._wakeups.healthy
        if redis_awake and time.monotonic() >= self._fast_until:
            return settings.AGORA_LIVE_REDIS_POLL_MS / 1000
        return settings.AGORA_LIVE_POLL_MS / 1000

    # --- the loop --------------------------------------------------------------------------

    async def _in_reader(self, fn: Callable[..., T], *args: Any) -> T:
        return await self.loop.run_in_executor(self._reader, partial(_on_own_connection, fn, *args))

    async def _run(self) -> None:
        delay = self._interval()
        failing = False
        while not self.stopped:
            self._wake.clear()
            try:
                if not self._ready.is_set():
                    self.position = await self._in_reader(selectors.stream_position)
                    self._ready.set()
                advanced = await self._tick()
            except DatabaseError as error:
                if not failing:
                    logger.warning("live events: database unavailable (%s); retrying", error)
                failing = True
                delay = min(delay * 2, _BACKOFF_MAX_SECONDS)
            except Exception:
                logger.exception("live events: the hub's tick failed")
                delay = min(delay * 2, _BACKOFF_MAX_SECONDS)
            else:
                if failing:
                    logger.info("live events: database is back")
                failing = False
                delay = self._interval()
                if advanced and not self._wake.is_set():  # (not woken again meanwhile)
                    self._looks_left = 0
                elif self._looks_left:
                    self._looks_left -= 1
                    delay = LOOK_AGAIN_SECONDS
            try:
                async with asyncio.timeout(delay):
                    await self._wake.wait()
            except TimeoutError:
                pass

    async def _watch_shutdown(self) -> None:
        while not self.stopped:
            if self._server.should_exit:
                self.close()
                return
            await asyncio.sleep(0.1)

    async def _tick(self) -> bool:
        """Hand every new event over; whether the stream position moved."""
        start = self.position
        while True:
            position, events = await self._in_reader(_next_events, self.position)
            self.position = max(self.position, position)
            for event in events:
                self._fan_out(event)
            if events:
                self._fast_until = time.monotonic() + FAST_AFTER_ACTIVITY_SECONDS
            if len(events) < BATCH:
                return self.position > start

    def _fan_out(self, event: StreamEvent) -> None:
        targets: set[Subscription] = set()
        if event.user_id is not None and event.user_id in self._by_user:
            targets |= self._by_user[event.user_id]
        if event.vendor_id is not None:
            if event.vendor_id in self._by_vendor:
                targets |= self._by_vendor[event.vendor_id]
            if event.stream_name == BOOKING_STREAM and event.vendor_id in self._by_slots_vendor:
                targets |= self._by_slots_vendor[event.vendor_id]
        if event.operators:
            targets |= self._operators
        for subscription in targets:
            subscription.push(event)

    # --- the end ---------------------------------------------------------------------------

    def close(self) -> None:
        """End every stream (cleanly: each finishes its response) and stop polling."""
        if self.stopped:
            return
        self.stopped = True
        for subscription in list(self._all):
            subscription.close()
        self._wake.set()

    async def aclose(self) -> None:
        """`close`, then wait for the loop and let go of the threads' connections."""
        self.close()
        if self._wakeups is not None:
            await self._wakeups.aclose()
        await asyncio.gather(self._task, return_exceptions=True)
        for executor in (self._reader, self._replayer):
            await self.loop.run_in_executor(executor, connections.close_all)
            executor.shutdown(wait=False)


_hub: Hub | None = None


def current_hub() -> Hub | None:
    """This process's hub, if a stream has started one (for the on-commit hook)."""
    return _hub


async def get_hub() -> Hub:
    """This process's hub, started on first use in the running event loop."""
    global _hub
    loop = asyncio.get_running_loop()
    if _hub is None or _hub.loop is not loop or _hub.stopped:
        _hub = Hub(redis_url=settings.REDIS_URL)
    await _hub.ready()
    return _hub


async def shutdown() -> None:
    """Close this process's hub (tests; a server ends its streams through `should_exit`)."""
    global _hub
    hub, _hub = _hub, None
    if hub is not None and hub.loop is asyncio.get_running_loop():
        await hub.aclose()
