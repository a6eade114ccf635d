"""The real thing: `agora serve` processes on the test database, real HTTP, real streams.

A status change made through the API reaches the streams held by every worker process
within a second; a client that reconnects to another server resumes with no gap and
nothing earlier; with Redis, servers wake each other, and a Redis that dies only slows
them to polling; a server stops promptly with streams open.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from agora.bookings.models import Booking
from agora.notifications import sequencer
from agora.notifications.live.selectors import stream_position
from tests.bookings.helpers import Shop, make_shop
from tests.conftest import token_for
from tests.notifications.live.conftest import booking_event, stream_seq
from tests.notifications.live.servers import Served, Servers, redis_server
from tests.notifications.live.sse import Stream

pytestmark = [pytest.mark.race, pytest.mark.django_db(transaction=True)]


def next_weekday_slot(days_ahead: int = 2, hour: int = 11) -> datetime:
    """`hour`:00 London time on a weekday at least `days_ahead` days from now."""
    london = ZoneInfo("Europe/London")
    day = datetime.now(london).date() + timedelta(days=days_ahead)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, tzinfo=london)


def streams_on_every_worker(served: Served, token: str, *, at_most: int = 40) -> list[Stream]:
    """Open streams until the server's every worker holds at least one."""
    workers = served.workers()
    streams: list[Stream] = []
    covered: set[int] = set()
    for _ in range(at_most):
        stream = Stream(served.url, token=token).wait_open()
        streams.append(stream)
        assert stream.client_port is not None
        pid = served.pid_serving(stream.client_port)
        assert pid in workers, (pid, workers)
        covered.add(pid)
        if covered == workers:
            return streams
    pytest.fail(f"{at_most} connections never reached every worker: {covered} of {workers}")


def warm_up(served: Served, token: str) -> None:
    """A worker's first API request imports and builds what later ones reuse (a second or
    more on a busy machine): make it on every worker before anything is timed. Each call
    is a new connection, which lands on any worker."""
    for _ in range(10 * len(served.workers())):
        response = httpx.get(
            f"{served.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        assert response.status_code == 200, response.text


def accept(served: Served, shop: Shop, booking: Booking) -> float:
    """The vendor's staff accept `booking` through the served API; when the call was made."""
    began = time.monotonic()
    response = httpx.post(
        f"{served.url}/api/v1/bookings/{booking.pk}/accept",
        headers={"Authorization": f"Bearer {token_for(shop.staff)}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return began


def test_a_status_change_reaches_the_streams_of_both_worker_processes_within_a_second(
    servers: Servers,
) -> None:
    # Given two worker processes and a booking paid, waiting for the vendor
    served = servers.start(workers=2)
    assert len(served.workers()) == 2
    shop = make_shop()
    booking = shop.paid(next_weekday_slot())
    assert booking.status == "pending"
    # and the customer's and the staff's streams on both workers, a stranger's and a rival's
    customer_streams = streams_on_every_worker(served, token_for(shop.customer))
    staff_streams = streams_on_every_worker(served, token_for(shop.staff))
    rival = make_shop()
    strangers = [
        Stream(served.url, token=token_for(shop.other_customer)).wait_open(),
        Stream(served.url, token=token_for(rival.owner)).wait_open(),
    ]

    warm_up(served, token_for(shop.staff))

    # When the staff accept it through the API
    began = accept(served, shop, booking)

    # Then every stream of the customer and of the staff has it within a second, with
    # each side's own link
    def accepted(frames: list[Any]) -> bool:
        return any(f.json.get("status") == "accepted" for f in frames)

    for stream in customer_streams + staff_streams:
        stream.wait_for(accepted, timeout=5)
    latencies = []
    for stream, url in [(s, f"/account/bookings/{booking.pk}/") for s in customer_streams] + [
        (s, f"/vendor/bookings/{booking.pk}/?vendor={shop.vendor.pk}") for s in staff_streams
    ]:
        (frame,) = [f for f in stream.events() if f.json.get("status") == "accepted"]
        assert frame.event == "booking.updated"
        assert frame.json == {
            "id": booking.pk,
            "name": "booking.accepted",
            "status": "accepted",
            "url": url,
        }
        latencies.append(frame.at - began)
    assert max(latencies) <= 1.0, latencies
    # and no one else hears of it
    time.sleep(0.3)
    assert [s.events() for s in strangers] == [[], []]
    for stream in customer_streams + staff_streams + strangers:
        stream.close()


def test_a_client_resumes_on_another_server_with_no_gap_and_nothing_earlier(
    servers: Servers, world: Any
) -> None:
    # Given two separate servers and Alice's stream on the first
    first, second = servers.start(), servers.start()
    token = token_for(world.alice)
    before = booking_event("booking.paid", 1, customer=world.alice, vendor=world.vendor)
    stream = Stream(first.url, token=token).wait_open()
    seen = booking_event("booking.accepted", 1, customer=world.alice, vendor=world.vendor)
    stream.wait_for(lambda frames: len(frames) == 1, timeout=3)
    assert [f.id for f in stream.events()] == [stream_seq(seen)]
    last = stream.last_id()
    stream.close()

    # When 20 events are written while she is away (half of them for Bob)
    missed = []
    for n in range(20):
        customer = world.alice if n % 2 else world.bob
        event = booking_event("booking.paid", 100 + n, customer=customer, vendor=world.vendor)
        if customer == world.alice:
            missed.append(stream_seq(event))

    # Then reconnecting to the other server with her Last-Event-ID replays exactly hers
    resumed = Stream(second.url, token=token, last_event_id=last).wait_open()
    resumed.wait_for(lambda frames: len(frames) >= len(missed), timeout=5)
    assert [f.id for f in resumed.events()] == missed
    assert stream_seq(before) not in [f.id for f in resumed.events()]
    # and the stream goes on live from there
    after = booking_event("booking.completed", 1, customer=world.alice, vendor=world.vendor)
    resumed.wait_for(lambda frames: frames[-1].id == stream_seq(after), timeout=3)
    assert [f.id for f in resumed.events()] == [*missed, stream_seq(after)]
    resumed.close()


def test_with_redis_servers_wake_each_other_and_fall_back_to_polling_without_it(
    servers: Servers, tmp_path: Any
) -> None:
    with redis_server(tmp_path) as (url, redis_process):
        # Polling so slow it cannot be what delivers: only a Redis wake-up is fast enough
        env = {"REDIS_URL": url, "AGORA_LIVE_REDIS_POLL_MS": "30000"}
        writer, reader = servers.start(env=env), servers.start(env=env)
        shop = make_shop()
        first = shop.paid(next_weekday_slot(hour=11))
        second = shop.paid(next_weekday_slot(hour=13))
        # Their events take their stream positions now, not after the stream opens (the
        # servers' own sequencing can lag under load), so the stream does not show them.
        sequencer.assign()
        stream = Stream(reader.url, token=token_for(shop.customer)).wait_open()
        warm_up(writer, token_for(shop.staff))
        time.sleep(2.5)  # past the hub's short polling after it subscribed

        began = accept(writer, shop, first)
        stream.wait_for(lambda frames: len(frames) == 1, timeout=5)
        (frame,) = stream.events()
        assert frame.json["id"] == first.pk
        assert frame.at - began <= 1.0, frame.at - began

        # When Redis dies, the servers poll: the next change still arrives
        redis_process.kill()
        redis_process.wait(5)
        time.sleep(0.5)
        began = accept(writer, shop, second)
        stream.wait_for(lambda frames: len(frames) == 2, timeout=5)
        assert stream.events()[-1].json["id"] == second.pk
        assert stream.events()[-1].at - began <= 2.0
        # and each said so once
        assert reader.log_text().count("Redis unavailable") == 1, reader.log_text()
        assert writer.log_text().count("cannot publish to Redis") == 1, writer.log_text()
        # and the server stops promptly, ending the stream it holds
        assert servers.stop(reader) < 5
        assert stream.ended.wait(5)


def test_a_server_stops_promptly_and_ends_its_open_streams_cleanly(
    servers: Servers, world: Any
) -> None:
    served = servers.start(workers=2)
    streams = streams_on_every_worker(served, token_for(world.alice))

    took = servers.stop(served)

    assert took < 5, took
    for stream in streams:
        assert stream.ended.wait(5)
    assert "Traceback" not in served.log_text(), served.log_text()


def test_a_new_stream_starts_at_the_current_position(servers: Servers, world: Any) -> None:
    served = servers.start()
    booking_event("booking.paid", 1, customer=world.alice, vendor=world.vendor)
    top = stream_position()

    stream = Stream(served.url, token=token_for(world.alice)).wait_open()

    assert stream.received[1].id == top
    time.sleep(0.4)
    assert stream.events() == []
    stream.close()
