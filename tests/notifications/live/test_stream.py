"""The long-lived stream as `agora.asgi.application` serves it, driven in this process: live
delivery, the replay/live boundary under concurrent writers, slow clients, heartbeats,
re-checked credentials, shutdown, and that a stream holds no lane."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from django.conf import settings
from django.db import connections
from django.test import Client

from agora.accounts.services import tokens_revoke_all
from agora.notifications.live import hub as live_hub
from agora.notifications.live import stream as live_stream
from agora.notifications.live.selectors import stream_position
from agora.vendors.models import VendorMembership
from tests.notifications.live.conftest import (
    AsgiStream,
    World,
    booking_event,
    emit,
    in_thread,
    placed,
    run_async,
    stream_seq,
)

pytestmark = pytest.mark.django_db(transaction=True)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_an_open_stream_gets_the_callers_new_events_at_once_and_no_one_elses(
    world: World,
) -> None:
    alice = world.token(world.alice)
    top = stream_position()

    async def scenario() -> None:
        stream = await AsgiStream("/api/v1/events", bearer(alice)).start().opened()
        assert stream.status == 200
        assert stream.response_headers["content-type"] == "text/event-stream; charset=utf-8"

        bobs = await in_thread(
            lambda: booking_event("booking.paid", 12, customer=world.bob, vendor=world.rival)
        )
        alices = await in_thread(
            lambda: booking_event("booking.paid", 11, customer=world.alice, vendor=world.vendor)
        )
        await stream.until(lambda s: len(s.events()) == 1, timeout=2)
        await asyncio.sleep(0.3)  # a tick or two more: still nothing of Bob's

        assert [(f.id, f.event, f.json) for f in stream.events()] == [
            (
                stream_seq(alices),
                "booking.updated",
                {
                    "id": 11,
                    "name": "booking.paid",
                    "status": "pending",
                    "url": "/account/bookings/11/",
                },
            )
        ]
        assert stream_seq(bobs) < stream_seq(alices)
        # it began with retry and its position, before any event
        first, second = stream.frames()[:2]
        assert (first.retry, second.id, second.event) == (2000, top, None)

        await stream.disconnect()
        assert stream.task is not None
        assert stream.task.done()

    run_async(scenario)


def test_streams_resuming_while_events_are_written_get_each_event_once_in_order(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The replay/live boundary under a real concurrent writer: every stream opened with
    Last-Event-ID during a burst of commits has every later event exactly once, in order
    (subscribe first, replay in pages, then the mailbox minus what the replay sent)."""
    monkeypatch.setattr(live_stream, "REPLAY_PAGE", 7)
    alice = world.token(world.alice)
    start = stream_position()
    written: list[int] = []

    def writer() -> None:
        try:
            for booking_id in range(120):
                event = booking_event(
                    "booking.paid", booking_id, customer=world.alice, vendor=world.vendor
                )
                written.append(stream_seq(event))
                if booking_id % 3 == 0:
                    # the rival's events interleave and must be skipped
                    booking_event("booking.paid", 999, customer=world.bob, vendor=world.rival)
        finally:
            connections.close_all()

    async def scenario() -> None:
        thread = threading.Thread(target=writer)
        thread.start()
        streams = []
        for _ in range(6):
            streams.append(
                await AsgiStream("/api/v1/events", {**bearer(alice), "Last-Event-ID": str(start)})
                .start()
                .opened()
            )
            await asyncio.sleep(0.05)
        await asyncio.to_thread(thread.join)
        for stream in streams:
            await stream.until(
                lambda s: bool(s.events()) and s.events()[-1].id == written[-1], timeout=10
            )
            await stream.disconnect()
        for stream in streams:
            assert [f.id for f in stream.events()] == written

    run_async(scenario)


def test_a_stream_that_falls_behind_reads_what_it_missed_from_the_database(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A mailbox of 3: ten events handed over in one tick overflow it
    monkeypatch.setattr(live_hub, "QUEUE_LIMIT", 3)
    alice = world.token(world.alice)

    def ten_at_once() -> list[int]:
        from django.db import transaction

        from agora.notifications import outbox

        with transaction.atomic():
            events = outbox.emit_many(
                [
                    (
                        "booking.paid",
                        f"booking:{n}",
                        {"id": n, "status": "pending", "url": f"/account/bookings/{n}/"},
                        world.alice.pk,
                        world.vendor.pk,
                        False,
                    )
                    for n in range(10)
                ]
            )
        return [stream_seq(event) for event in placed(events)]

    async def scenario() -> None:
        stream = await AsgiStream("/api/v1/events", bearer(alice)).start().opened()
        seqs = await in_thread(ten_at_once)
        await stream.until(lambda s: len(s.events()) == 10, timeout=3)
        assert [f.id for f in stream.events()] == seqs
        assert [f.json["id"] for f in stream.events()] == list(range(10))
        await stream.disconnect()

    run_async(scenario)


def test_fan_out_gives_each_audience_exactly_its_events(world: World) -> None:
    tokens = {
        name: world.token(getattr(world, name)) for name in ("alice", "bob", "sam", "rita", "olga")
    }

    async def scenario() -> None:
        streams = {
            name: await AsgiStream("/api/v1/events", bearer(token)).start().opened()
            for name, token in tokens.items()
        }
        public = (
            await AsgiStream(f"/api/v1/listings/{world.listing.pk}/events", {}).start().opened()
        )
        rival_public = (
            await AsgiStream(f"/api/v1/listings/{world.rival_listing.pk}/events", {})
            .start()
            .opened()
        )

        def write() -> dict[str, int]:
            return {
                "a": stream_seq(
                    booking_event("booking.paid", 1, customer=world.alice, vendor=world.vendor)
                ),
                "b": stream_seq(
                    booking_event("booking.paid", 2, customer=world.bob, vendor=world.rival)
                ),
                "ops": stream_seq(
                    emit(
                        "order.escalated",
                        subject="vendororder:3",
                        data={"id": 3, "status": "paid", "url": "/account/orders/3/"},
                        user_id=world.bob.pk,
                        vendor_id=world.rival.pk,
                        operators=True,
                    )
                ),
                "note": stream_seq(
                    emit(
                        "notification.created",
                        subject="notification:4",
                        data={"id": 4, "url": "/account/"},
                        user_id=world.sam.pk,
                    )
                ),
            }

        seq = await in_thread(write)
        await asyncio.sleep(0.6)
        seen = {name: [f.id for f in s.events()] for name, s in streams.items()}
        assert seen == {
            "alice": [seq["a"]],
            "bob": [seq["b"], seq["ops"]],
            "sam": [seq["a"], seq["note"]],
            "rita": [seq["b"], seq["ops"]],
            "olga": [seq["ops"]],
        }
        assert [(f.id, f.event, f.json) for f in public.events()] == [
            (seq["a"], "slots.changed", {"listing_id": world.listing.pk})
        ]
        assert [f.id for f in rival_public.events()] == [seq["b"]]
        for each in [*streams.values(), public, rival_public]:
            await each.disconnect()

    run_async(scenario)


def test_a_stream_holds_no_lane(world: World) -> None:
    """With one lane per process, open streams must leave it free for requests."""
    tokens = [world.token(world.alice) for _ in range(3)]

    async def scenario() -> None:
        from agora.asgi import application

        assert application.lane_count == 1
        streams = [
            await AsgiStream("/api/v1/events", bearer(token)).start().opened() for token in tokens
        ]
        health = AsgiStream("/healthz", {}).start()
        await health.until(lambda s: s.finished, timeout=5)
        assert health.status == 200
        assert health.json()["status"] == "ok"
        for stream in streams:
            await stream.disconnect()

    run_async(scenario)


def test_refusals_are_problem_documents(world: World) -> None:
    alice = world.token(world.alice)

    async def scenario() -> None:
        anonymous = await AsgiStream("/api/v1/events", {}).start().opened()
        bad_token = await AsgiStream("/api/v1/events", bearer("nonsense")).start().opened()
        bad_id = (
            await AsgiStream("/api/v1/events", {**bearer(alice), "Last-Event-ID": "x1"})
            .start()
            .opened()
        )
        missing = await AsgiStream("/api/v1/listings/987654/events", {}).start().opened()
        foreign_host = await AsgiStream("/api/v1/events", {"host": "evil.example"}).start().opened()
        for stream, status, code in (
            (anonymous, 401, "not_authenticated"),
            (bad_token, 401, "not_authenticated"),
            (bad_id, 422, "validation_error"),
            (missing, 404, "not_found"),
            (foreign_host, 400, "validation_error"),
        ):
            assert stream.finished
            assert stream.status == status
            assert stream.response_headers["content-type"] == "application/problem+json"
            assert stream.json()["code"] == code

    run_async(scenario)


def test_a_signed_in_session_cookie_opens_the_stream(world: World) -> None:
    page = Client()
    page.force_login(world.alice)
    cookie = f"{settings.SESSION_COOKIE_NAME}={page.cookies[settings.SESSION_COOKIE_NAME].value}"

    async def scenario() -> None:
        stream = await AsgiStream("/api/v1/events", {"cookie": cookie}).start().opened()
        assert stream.status == 200
        event = await in_thread(
            lambda: booking_event("booking.paid", 11, customer=world.alice, vendor=world.vendor)
        )
        await stream.until(lambda s: [f.id for f in s.events()] == [stream_seq(event)], 2)
        await stream.disconnect()

        stale = await AsgiStream("/api/v1/events", {"cookie": "sessionid=gone"}).start().opened()
        assert stale.status == 401

    run_async(scenario)


def test_heartbeats_and_rechecks_end_a_stream_whose_token_was_revoked(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live_stream, "HEARTBEAT_SECONDS", 0.1)
    monkeypatch.setattr(live_stream, "RECHECK_SECONDS", 0.3)
    alice = world.token(world.alice)

    async def scenario() -> None:
        stream = await AsgiStream("/api/v1/events", bearer(alice)).start().opened()
        await stream.until(lambda s: s.text.count(": keep-alive") >= 2, timeout=2)
        assert not stream.finished

        await in_thread(lambda: tokens_revoke_all(user=world.alice))

        await stream.until(lambda s: s.finished, timeout=3)
        assert stream.task is not None
        await asyncio.wait_for(stream.task, 2)

    run_async(scenario)


def test_a_staff_member_removed_from_the_vendor_stops_hearing_of_it(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live_stream, "RECHECK_SECONDS", 0.2)
    sam = world.token(world.sam)

    async def scenario() -> None:
        stream = await AsgiStream("/api/v1/events", bearer(sam)).start().opened()
        first = await in_thread(
            lambda: booking_event("booking.paid", 1, customer=world.alice, vendor=world.vendor)
        )
        await stream.until(lambda s: len(s.events()) == 1, timeout=2)

        await in_thread(lambda: VendorMembership.objects.filter(user=world.sam).delete())
        await asyncio.sleep(0.6)  # past a re-check
        await in_thread(
            lambda: booking_event("booking.paid", 2, customer=world.alice, vendor=world.vendor)
        )
        await asyncio.sleep(0.5)

        assert [f.id for f in stream.events()] == [stream_seq(first)]
        assert not stream.finished  # still signed in: the stream goes on, narrower
        await stream.disconnect()

    run_async(scenario)


def test_closing_the_hub_ends_every_stream_cleanly(world: World) -> None:
    alice = world.token(world.alice)

    async def scenario() -> None:
        streams = [await AsgiStream("/api/v1/events", bearer(alice)).start().opened() for _ in "ab"]
        hub = await live_hub.get_hub()
        assert hub.subscriber_count == 2

        hub.close()

        for stream in streams:
            await stream.until(lambda s: s.finished, timeout=2)
            assert stream.task is not None
            await asyncio.wait_for(stream.task, 2)
        assert hub.subscriber_count == 0

    run_async(scenario)


def test_the_hub_reads_a_fixed_number_of_statements_per_tick(
    world: World, django_assert_max_num_queries: Any
) -> None:
    """One tick's reads whatever the number of new events: the sequencer's check, the top
    of the stream and the events past the hub's position."""
    from agora.notifications.live.hub import _next_events

    start = stream_position()
    for n in range(25):
        booking_event("booking.paid", n, customer=world.alice, vendor=world.vendor)

    with django_assert_max_num_queries(3):
        position, events = _next_events(start)

    assert len(events) == 25
    assert position == stream_position()
