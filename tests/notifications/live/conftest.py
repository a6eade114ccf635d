"""Fixtures of the live-stream tests: two vendors with their people, events emitted the way
domain services emit them, the ASGI application driven in this process, real servers."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.db import connections, transaction

from agora.accounts.models import User
from agora.catalog.models import Listing
from agora.notifications import outbox
from agora.notifications.live import hub as live_hub
from agora.notifications.models import Event
from agora.vendors.models import Vendor
from tests.conftest import token_for
from tests.factories import ListingFactory, UserFactory, VendorFactory, VendorMembershipFactory
from tests.notifications.live.servers import Servers
from tests.notifications.live.sse import Frame, parse_frames


@dataclass
class World:
    """Vendor A (owner Ann, staff Sam) and its listing; vendor B (owner Rita); customers
    Alice and Bob; operator Olga. Tokens for each."""

    alice: User
    bob: User
    ann: User
    sam: User
    rita: User
    olga: User
    vendor: Vendor
    rival: Vendor
    listing: Listing
    rival_listing: Listing

    def token(self, user: User) -> str:
        return token_for(user)


def make_world() -> World:
    alice, bob, ann, sam, rita = UserFactory.create_batch(5)
    olga = UserFactory(is_operator=True, is_staff=True)
    vendor = VendorFactory(owner=ann, name="Camden Motors")
    VendorMembershipFactory(vendor=vendor, user=sam, role="staff")
    rival = VendorFactory(owner=rita, name="Rival Garage")
    return World(
        alice=alice,
        bob=bob,
        ann=ann,
        sam=sam,
        rita=rita,
        olga=olga,
        vendor=vendor,
        rival=rival,
        listing=ListingFactory(vendor=vendor, title="Full service"),
        rival_listing=ListingFactory(vendor=rival, title="Oil change"),
    )


@pytest.fixture
def world(db: Any) -> World:
    return make_world()


def placed(events: list[Event]) -> list[Event]:
    """`events` (committed) with their stream positions, once the sequencer gave them —
    at once on SQLite; on PostgreSQL a hub's sequencer may be at work or waiting for an
    older transaction."""
    from agora.notifications import sequencer

    deadline = time.monotonic() + 5
    while True:
        for event in events:
            event.refresh_from_db()
        if all(event.seq is not None for event in events):
            return events
        assert time.monotonic() < deadline, "never placed: does the test run in a transaction?"
        sequencer.assign()
        time.sleep(0.01)


def emit(name: str, **kwargs: Any) -> Event:
    """`outbox.emit` in a transaction of its own, committed and placed when this returns."""
    with transaction.atomic():
        event = outbox.emit(name, **kwargs)
    return placed([event])[0]


def booking_event(
    name: str,
    booking_id: int,
    *,
    customer: User,
    vendor: Vendor,
    status: str = "pending",
    **extra: Any,
) -> Event:
    """A booking event shaped as bookings/services/announce.py shapes them, committed."""
    return emit(
        name,
        subject=f"booking:{booking_id}",
        data={
            "id": booking_id,
            "status": status,
            "url": f"/account/bookings/{booking_id}/",
            "vendor_url": f"/vendor/bookings/{booking_id}/?vendor={vendor.pk}",
            "listing_title": "Full service",
            "customer_email": customer.email,
            **extra,
        },
        user_id=customer.pk,
        vendor_id=vendor.pk,
    )


def stream_seq(event: Event) -> int:
    assert event.seq is not None
    return event.seq


# --- the ASGI application in this process ---------------------------------------------------


class AsgiStream:
    """One GET to `agora.asgi.application`, its response read as it is written."""

    def __init__(self, path: str, headers: dict[str, str], query: str = "") -> None:
        self.path = path
        self.headers = headers
        self.query = query
        self.status: int | None = None
        self.response_headers: dict[str, str] = {}
        self.text = ""
        self.finished = False
        self._messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._disconnect = asyncio.Event()
        self._sent_request = False
        self.task: asyncio.Task[None] | None = None

    def start(self) -> AsgiStream:
        from agora.asgi import application

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": self.path,
            "raw_path": self.path.encode(),
            "query_string": self.query.encode(),
            "root_path": "",
            "headers": [
                (name.lower().encode(), value.encode())
                for name, value in {"host": "testserver", **self.headers}.items()
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
        }
        self.task = asyncio.get_running_loop().create_task(
            application(scope, self._receive, self._send)
        )
        return self

    async def _receive(self) -> dict[str, Any]:
        if not self._sent_request:
            self._sent_request = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self._disconnect.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.response_headers = {k.decode(): v.decode() for k, v in message["headers"]}
        else:
            self.text += message.get("body", b"").decode()
            if not message.get("more_body", False):
                self.finished = True
        await self._messages.put(message)

    def frames(self) -> list[Frame]:
        return parse_frames(self.text)[0]

    def events(self) -> list[Frame]:
        return [frame for frame in self.frames() if frame.event is not None]

    async def until(self, predicate: Callable[[AsgiStream], bool], timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            while not predicate(self):
                await self._messages.get()

    async def opened(self) -> AsgiStream:
        """Until the first frame came (the stream is subscribed by then)."""
        await self.until(lambda s: s.finished or "\n\n" in s.text)
        return self

    async def disconnect(self) -> None:
        self._disconnect.set()
        assert self.task is not None
        await asyncio.wait_for(self.task, 5)

    def json(self) -> dict[str, Any]:
        value = json.loads(self.text)
        assert isinstance(value, dict)
        return value


def in_thread(fn: Callable[[], Any]) -> Awaitable[Any]:
    """Run ORM code from an async test: on a thread, which lets go of its connection."""

    def run() -> Any:
        try:
            return fn()
        finally:
            connections.close_all()

    return asyncio.to_thread(run)


def run_async(scenario: Callable[[], Awaitable[None]]) -> None:
    """Run `scenario` in a fresh event loop on a thread of its own (Playwright's sync API
    may keep a loop running in this one), then close the hub and the lanes' connections
    (a test database with connections left open cannot be dropped)."""

    async def main() -> None:
        from agora.asgi import application

        try:
            await scenario()
        finally:
            await live_hub.shutdown()
            loop = asyncio.get_running_loop()
            for executor in application.executors:
                await loop.run_in_executor(executor, connections.close_all)

    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(main())
        except BaseException as error:
            failure.append(error)

    runner = threading.Thread(target=run)
    runner.start()
    runner.join()
    if failure:
        raise failure[0]


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Servers]:
    started = Servers(tmp_path)
    yield started
    started.stop_all()
