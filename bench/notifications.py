"""SSE fan-out: one booking status change to the event on 1,000 open streams (TARGETS.md
"notifications": p99 ≤ 1 s on `agora serve --workers 2`).

    env -u DATABASE_URL .venv/bin/python bench/notifications.py          # fresh SQLite
    scripts/with-postgres .venv/bin/python bench/notifications.py        # throwaway PostgreSQL
    .venv/bin/python bench/notifications.py --streams 2000 --changes 10 --bystanders 500

What it does:

1. Database: DATABASE_URL when set, else a fresh SQLite file; AGORA_VAR_DIR a temporary
   directory. `agora migrate`, then through the services: an operator approves a vendor,
   its opening hours, a service; --streams staff members of that vendor (each its own
   user and bearer token, made in bulk), --bystanders customers the changes do not
   concern, and --changes + 1 bookings paid for and waiting for the vendor.
2. `agora serve --workers N` (default 2) on a free 127.0.0.1 port.
3. Opens every stream (`GET /api/v1/events`, one connection each, a minimal asyncio
   HTTP/1.1 reader — no httpx per stream) and waits until each has its first frame, i.e.
   is subscribed. Bystanders' streams are open too: fan-out must skip them cheaply.
4. A few API reads to warm every worker up, one warm-up change, then --changes rounds:
   the owner accepts one booking through the API (`POST /api/v1/bookings/{id}/accept`);
   the latency of a stream is from the moment that request was sent to the moment the
   `booking.updated` frame of that booking arrived on it. Per round and overall: p50,
   p99, max, the streams that never got it (timeout 10 s), and whether any bystander got
   anything.

The client shares the machine's cores with the server, so the figures include the
client's own reading of 1,000 sockets.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    HOST,
    Fixtures,
    RawHTTPConnection,
    ScratchEnv,
    Server,
    close_db_connections,
    django_setup,
    loadavg,
    machine_info,
    migrate,
    percentile,
)

TIMEOUT_SECONDS = 10.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=1000, help="concerned streams (1000)")
    parser.add_argument("--bystanders", type=int, default=100, help="unconcerned streams (100)")
    parser.add_argument("--changes", type=int, default=5, help="measured status changes (5)")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes (2)")
    return parser.parse_args(argv)


@dataclass
class Setup:
    owner_token: str
    staff_tokens: list[str]
    bystander_tokens: list[str]
    booking_ids: list[int]


def make_fixtures(args: argparse.Namespace) -> Setup:
    import secrets

    from agora.accounts.models import User
    from agora.accounts.services import token_issue
    from agora.bookings.services.holds import booking_hold
    from agora.bookings.services.lifecycle import booking_pay
    from agora.vendors.models import VendorMembership

    fixtures = Fixtures()
    operator = fixtures.operator()
    owner, vendor = fixtures.active_vendor(operator=operator, name="Fan-out Motors")
    fixtures.schedule(owner=owner, vendor=vendor)
    service = fixtures.service(owner=owner, vendor=vendor, title="Full service")
    # Each group its own tag: `customers` names its users by it.
    staff = Fixtures().customers(args.streams)
    VendorMembership.objects.bulk_create(
        [VendorMembership(vendor=vendor, user_id=member.user_id, role="staff") for member in staff],
        batch_size=500,
    )
    bystanders = Fixtures().customers(args.bystanders) if args.bystanders else []
    buyer = User.objects.get(pk=Fixtures().customers(1)[0].user_id)
    london = ZoneInfo("Europe/London")
    tomorrow = (datetime.now(london) + timedelta(days=1)).date()
    booking_ids = []
    for n in range(args.changes + 1):
        day = tomorrow + timedelta(days=n // 10)
        start = datetime(day.year, day.month, day.day, 9 + n % 10, tzinfo=london)
        held = booking_hold(customer=buyer, listing=service, start=start)
        paid = booking_pay(
            customer=buyer,
            booking=held,
            payment_method="pm_card_visa",
            idempotency_key=f"bench-{secrets.token_hex(8)}",
        )
        assert paid.status == "pending", paid.status
        booking_ids.append(paid.pk)
    with fixtures.fast_passwords():  # the owner's password was hashed with them
        owner_token = token_issue(
            email=owner.email, password="bench-Owner-pw-1", ip="127.0.0.1"
        ).token
    return Setup(
        owner_token=owner_token,
        staff_tokens=[member.token for member in staff],
        bystander_tokens=[member.token for member in bystanders],
        booking_ids=booking_ids,
    )


@dataclass
class Stream:
    """One open SSE connection: when each booking's `booking.updated` arrived on it."""

    token: str
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    subscribed: asyncio.Event = field(default_factory=asyncio.Event)
    arrivals: dict[int, float] = field(default_factory=dict)
    frames: int = 0
    error: str = ""

    async def open(self, port: int) -> None:
        self.reader, self.writer = await asyncio.open_connection(HOST, port)
        self.writer.write(
            (
                f"GET /api/v1/events HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
                f"Authorization: Bearer {self.token}\r\nAccept: text/event-stream\r\n\r\n"
            ).encode()
        )
        status = await self.reader.readline()
        if b" 200 " not in status:
            raise RuntimeError(f"stream refused: {status!r}")
        while (await self.reader.readline()) not in (b"\r\n", b""):
            pass

    async def read(self) -> None:
        """Chunked frames until the server closes; note each booking.updated's arrival."""
        assert self.reader is not None
        buffer = ""
        try:
            while True:
                size = int((await self.reader.readline()).split(b";")[0], 16)
                if size == 0:
                    return
                chunk = await self.reader.readexactly(size)
                now = time.monotonic()
                await self.reader.readline()
                buffer += chunk.decode()
                *frames, buffer = buffer.split("\n\n")
                for frame in frames:
                    self.subscribed.set()
                    if "event: booking.updated" in frame:
                        self.frames += 1
                        data = frame.split("data: ", 1)[1]
                        self.arrivals.setdefault(int(json.loads(data)["id"]), now)
        except (ConnectionError, asyncio.IncompleteReadError, ValueError) as error:
            self.error = repr(error)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def workers_holding(server: Server, port: int) -> dict[int, int]:
    """How many established connections each worker process holds on `port`."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            for line in Path(table).read_text().splitlines()[1:]:
                parts = line.split()
                if int(parts[1].rsplit(":", 1)[1], 16) == port and parts[3] == "01":
                    inodes.add(parts[9])
        except OSError:
            continue
    held = {}
    for pid in server.worker_pids():
        count = 0
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    count += 1
        except OSError:
            continue
        held[pid] = count
    return held


async def open_all(port: int, tokens: list[str]) -> list[Stream]:
    streams = [Stream(token) for token in tokens]
    opening = asyncio.Semaphore(100)  # a connection storm the listen backlog can take

    async def open_one(stream: Stream) -> None:
        async with opening:
            await stream.open(port)
            asyncio.get_running_loop().create_task(stream.read())
            await asyncio.wait_for(stream.subscribed.wait(), TIMEOUT_SECONDS)

    await asyncio.gather(*(open_one(stream) for stream in streams))
    return streams


async def accept(server: Server, token: str, booking_id: int) -> tuple[float, float]:
    """The owner accepts the booking; (when the request was sent, how long it took)."""
    connection = RawHTTPConnection(HOST, server.port)
    try:
        began = time.monotonic()
        status, body = await connection.request(
            "POST",
            f"/api/v1/bookings/{booking_id}/accept",
            headers={"Authorization": f"Bearer {token}"},
        )
        took = time.monotonic() - began
    finally:
        connection.close()
    if status != 200:
        raise RuntimeError(f"accept answered {status}: {body[:300]!r}")
    return began, took


async def run(args: argparse.Namespace, server: Server, setup: Setup, db: str) -> int:
    opened = time.perf_counter()
    streams = await open_all(server.port, setup.staff_tokens)
    bystanders = await open_all(server.port, setup.bystander_tokens)
    print(
        f"# {len(streams)} streams + {len(bystanders)} bystanders open and subscribed in "
        f"{time.perf_counter() - opened:.1f}s; connections per worker: "
        f"{workers_holding(server, server.port)}",
        flush=True,
    )
    # Each worker's first API request imports and builds what the rest reuse: make those
    # (new connections land on either worker) before anything is measured.
    for _ in range(4 * args.workers):
        connection = RawHTTPConnection(HOST, server.port)
        try:
            await connection.request(
                "GET",
                f"/api/v1/bookings/{setup.booking_ids[0]}",
                headers={"Authorization": f"Bearer {setup.owner_token}"},
            )
        finally:
            connection.close()
    failures = 0
    every: list[float] = []
    for round_no, booking_id in enumerate(setup.booking_ids):
        began, took = await accept(server, setup.owner_token, booking_id)
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if all(booking_id in stream.arrivals for stream in streams):
                break
            await asyncio.sleep(0.005)
        latencies = [s.arrivals[booking_id] - began for s in streams if booking_id in s.arrivals]
        missing = len(streams) - len(latencies)
        label = "warm-up" if round_no == 0 else f"change {round_no}"
        print(
            f"notifications db={db} workers={args.workers} streams={len(streams)} {label}: "
            f"p50={percentile(latencies, 50) * 1000:.0f}ms "
            f"p99={percentile(latencies, 99) * 1000:.0f}ms "
            f"max={max(latencies, default=float('nan')) * 1000:.0f}ms "
            f"missing={missing} accept_request={took * 1000:.0f}ms load={loadavg()}",
            flush=True,
        )
        if round_no:
            every.extend(latencies)
            failures += missing > 0
    leaked = sum(stream.frames for stream in bystanders)
    p99 = percentile(every, 99)
    print(
        f"notifications db={db} workers={args.workers} streams={len(streams)} "
        f"changes={args.changes} ALL: p50={percentile(every, 50) * 1000:.0f}ms "
        f"p99={p99 * 1000:.0f}ms max={max(every, default=float('nan')) * 1000:.0f}ms "
        f"bystander_frames={leaked} target_p99<=1000ms "
        f"{'MET' if p99 <= 1.0 and not failures else 'MISSED'}",
        flush=True,
    )
    for stream in streams + bystanders:
        stream.close()
    return failures + (leaked > 0)


def _stop(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through the finally blocks: server stopped


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    # One descriptor per stream here, and about half of them in each worker.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, 2 * (args.streams + args.bystanders) + 256))
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    env = ScratchEnv(prefix="agora-notifications-")
    server: Server | None = None
    try:
        db = env.db_label
        migrate(env)
        django_setup(env)
        info = machine_info()
        print(
            f"# notifications db={db} workers={args.workers} streams={args.streams} "
            f"bystanders={args.bystanders} changes={args.changes} nproc={info['nproc']} "
            f"cpu={info['cpu']!r} python={info['python']} django={info['django']} "
            f"load={loadavg()}",
            flush=True,
        )
        started = time.perf_counter()
        setup = make_fixtures(args)
        close_db_connections()
        print(f"# fixtures in {time.perf_counter() - started:.1f}s", flush=True)
        server = Server(env, workers=args.workers).start()
        failures = asyncio.run(run(args, server, setup, db))
        tracebacks = server.log_count("Traceback")
        if tracebacks:
            print(f"# server log: {tracebacks} tracebacks", flush=True)
            print(server.log_tail(30), flush=True)
        return 1 if failures or tracebacks else 0
    finally:
        if server is not None:
            server.stop()
        env.close()


if __name__ == "__main__":
    sys.exit(main())
