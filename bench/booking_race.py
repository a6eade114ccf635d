"""Booking race: many concurrent clients holding a few hot slots over HTTP.

    env -u DATABASE_URL .venv/bin/python bench/booking_race.py            # fresh SQLite
    scripts/with-postgres .venv/bin/python bench/booking_race.py          # throwaway PostgreSQL
    .venv/bin/python bench/booking_race.py --clients 32 --requests 4000 --slots 4 \
        --workers 2 --burst 10000 [--burst-concurrency 1000] [--phases hot,hot3,spread,burst]

What it does:

1. Database: DATABASE_URL when set, else a fresh SQLite file; AGORA_VAR_DIR is a temporary
   directory for the setup and the server alike. `agora migrate`, then fixtures through the
   services (an operator approves a vendor; opening hours every day 08:00-20:00; service
   listings in "mot-servicing", 60 minutes, capacity 1 — and 3 for the `hot3` phase) and
   customers with bearer tokens.
2. `agora serve --workers N` on a free 127.0.0.1 port (DEBUG=0), waited for on /healthz.
3. Phases, each closed-loop (every client sends its next request when the last one is
   answered), POST /api/v1/bookings with the client's own token and a fresh Idempotency-Key:
   * warm-up  100 requests on the hot slots, not counted;
   * hot      --requests on --slots consecutive slots of a capacity-1 listing (the slots
              overlap each other: with a 30-minute grid, 09:00 and 09:30 share half an hour),
              so after the first few holds nearly every answer is 409 slot_unavailable;
   * hot3     the same on a capacity-3 listing;
   * spread   --requests on as many distinct, non-overlapping slots over several listings:
              nearly every answer is 201 (the uncontended write path);
   * burst    --burst attempts with --burst-concurrency in flight at once, on fresh hot
              slots: every one must be answered, no 5xx.
4. After each phase, a sweep of the database: for capacity-1 units, pairs of occupying
   bookings (held and not expired, pending, accepted, in progress) whose blocked spans
   overlap, counted in SQL; for every unit, the peak of seats taken at once against its
   capacity, by sweeping start/end events in Python. `overlaps` must be 0.
5. One summary line per phase; the server is always stopped and the scratch directory removed.

--json PATH appends one JSON object per phase (for bench/RESULTS.md); --py-spy DIR records
the server's workers with py-spy during the `hot` phase.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import signal
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    Customer,
    Fixtures,
    LoadResult,
    PySpy,
    RawHTTPConnection,
    ScratchEnv,
    Server,
    close_db_connections,
    closed_loop,
    django_setup,
    http_client,
    loadavg,
    machine_info,
    migrate,
)

ALL_PHASES = ("hot", "hot3", "spread", "burst")
WARMUP_REQUESTS = 100
SLOTS_PER_SPREAD_LISTING = 700  # a 62-day window on a 60-minute grid, 12 slots a day


@dataclass
class Setup:
    listings: dict[str, int]  # role -> listing id
    spread_listings: list[int]
    customers: list[Customer]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients (32)")
    parser.add_argument("--requests", type=int, default=4000, help="attempts per phase (4000)")
    parser.add_argument("--slots", type=int, default=4, help="hot slots (4)")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes (2)")
    parser.add_argument("--burst", type=int, default=10000, help="burst attempts (10000; 0: none)")
    parser.add_argument(
        "--burst-concurrency", type=int, default=1000, help="burst requests in flight (1000)"
    )
    parser.add_argument(
        "--phases", default=",".join(ALL_PHASES), help=f"subset of {','.join(ALL_PHASES)}"
    )
    parser.add_argument(
        "--client",
        choices=("httpx", "raw"),
        default="httpx",
        help="load generator: httpx.AsyncClient (default) or a minimal HTTP/1.1 client that "
        "costs ~20x less CPU per request (see RESULTS.md: on 2 cores httpx competes with the "
        "server)",
    )
    parser.add_argument("--seed", type=int, default=None, help="random seed for slot choice")
    parser.add_argument("--json", type=Path, default=None, help="append results as JSON lines")
    parser.add_argument("--py-spy", type=Path, default=None, help="py-spy the hot phase to DIR")
    parser.add_argument(
        "--server-log", type=Path, default=None, help="keep a copy of the server's log"
    )
    parser.add_argument("--tag", default="", help="free text stored with --json results")
    args = parser.parse_args(argv)
    args.phases = [p for p in args.phases.split(",") if p]
    unknown = set(args.phases) - set(ALL_PHASES)
    if unknown:
        parser.error(f"unknown phases: {', '.join(sorted(unknown))}")
    if args.burst <= 0 and "burst" in args.phases:
        args.phases.remove("burst")
    return args


# --- setup ---------------------------------------------------------------------------------


def make_fixtures(args: argparse.Namespace) -> Setup:
    fx = Fixtures()
    operator = fx.operator()
    owner, vendor = fx.active_vendor(operator=operator, name=f"Race Garage {fx.tag}")
    fx.schedule(owner=owner, vendor=vendor)
    listings = {
        "warmup": fx.service(owner=owner, vendor=vendor, title="Warm-up MOT").pk,
        "hot": fx.service(owner=owner, vendor=vendor, title="MOT (class 4)").pk,
        "hot3": fx.service(owner=owner, vendor=vendor, title="Interim service", capacity=3).pk,
        "burst": fx.service(owner=owner, vendor=vendor, title="Full service").pk,
    }
    spread_count = max(1, -(-int(args.requests * 1.05) // SLOTS_PER_SPREAD_LISTING))
    spread = [
        fx.service(owner=owner, vendor=vendor, title=f"Tyre check {i}", step=60).pk
        for i in range(spread_count if "spread" in args.phases else 0)
    ]
    customer_count = max(args.clients, args.burst_concurrency if "burst" in args.phases else 0)
    customers = fx.customers(customer_count)
    return Setup(listings=listings, spread_listings=spread, customers=customers)


async def fetch_slots(base_url: str, listing_id: int, start: datetime, days: int) -> list[str]:
    async with http_client(4) as client:
        response = await client.get(
            f"{base_url}/api/v1/listings/{listing_id}/slots",
            params={"from": start.isoformat(), "to": (start + timedelta(days=days)).isoformat()},
        )
        response.raise_for_status()
        return [slot["start"] for slot in response.json()["slots"]]


def day_after_tomorrow() -> datetime:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today + timedelta(days=2)


async def pick_slots(base_url: str, setup: Setup, args: argparse.Namespace) -> dict[str, list[str]]:
    day = day_after_tomorrow()
    picked: dict[str, list[str]] = {}
    for role in ("warmup", "hot", "hot3", "burst"):
        slots = await fetch_slots(base_url, setup.listings[role], day, 1)
        if len(slots) < args.slots:
            raise SystemExit(f"listing {role} offers {len(slots)} slots, fewer than --slots")
        picked[role] = slots[: args.slots]  # consecutive: neighbours overlap by 30 minutes
    spread: list[tuple[int, str]] = []
    for listing_id in setup.spread_listings:
        starts = await fetch_slots(base_url, listing_id, day, 62)
        spread.extend((listing_id, start) for start in starts)
    random.shuffle(spread)
    picked["spread"] = [json.dumps([lid, start]) for lid, start in spread]
    return picked


# --- load ----------------------------------------------------------------------------------


async def hold_phase(
    *,
    base_url: str,
    label: str,
    customers: list[Customer],
    total: int,
    concurrency: int,
    choose: Any,
    client_kind: str = "httpx",
    timeout: float = 120.0,
) -> tuple[LoadResult, dict[int, str]]:
    """`total` POST /bookings, `concurrency` in flight; `choose(i)` gives (listing, start)."""
    path = "/api/v1/bookings"
    samples: dict[int, str] = {}
    tokens = [f"Bearer {c.token}" for c in customers]
    if client_kind == "raw":
        host, port = base_url.removeprefix("http://").rsplit(":", 1)
        connections = [RawHTTPConnection(host, int(port)) for _ in range(concurrency)]

        async def send_raw(i: int, k: int) -> int:
            listing_id, start = choose(i)
            body = json.dumps({"listing_id": listing_id, "start": start}).encode()
            status, data = await asyncio.wait_for(
                connections[k].request(
                    "POST",
                    path,
                    headers={
                        "Authorization": tokens[k % len(tokens)],
                        "Idempotency-Key": str(uuid.uuid4()),
                    },
                    body=body,
                ),
                timeout,
            )
            if status >= 500:
                samples.setdefault(status, data[:300].decode(errors="replace"))
            return status

        try:
            result = await closed_loop(
                label=label, total=total, concurrency=concurrency, send=send_raw
            )
        finally:
            for connection in connections:
                connection.close()
        return result, samples

    async with http_client(concurrency, timeout=timeout) as client:

        async def send(i: int, k: int) -> int:
            listing_id, start = choose(i)
            headers = {
                "Authorization": tokens[k % len(tokens)],
                "Idempotency-Key": str(uuid.uuid4()),
            }
            response = await client.post(
                base_url + path, json={"listing_id": listing_id, "start": start}, headers=headers
            )
            if response.status_code >= 500:
                samples.setdefault(response.status_code, response.text[:300])
            return response.status_code

        result = await closed_loop(label=label, total=total, concurrency=concurrency, send=send)
    return result, samples


# --- the sweep -----------------------------------------------------------------------------


def sweep(listing_ids: list[int]) -> dict[str, int]:
    """Overlaps among the occupying bookings of these listings' capacity units."""
    from django.db import connection

    from agora.bookings.models import OCCUPYING_STATUSES, Booking, BookingStatus, CapacityUnit
    from agora.core import clock

    now = clock.now()
    units = {
        unit.pk: (unit.resource.capacity if unit.resource_id else unit.listing.capacity)
        for unit in CapacityUnit.objects.select_related("listing", "resource").filter(
            listing_id__in=listing_ids
        )
    }
    single = [pk for pk, capacity in units.items() if capacity == 1]
    table = Booking._meta.db_table
    occupying = [str(s) for s in OCCUPYING_STATUSES]
    placeholders = ", ".join(["%s"] * len(occupying))
    pairs = 0
    if single:
        unit_marks = ", ".join(["%s"] * len(single))
        live = (
            f"{{t}}.status IN ({placeholders}) AND NOT ({{t}}.status = %s AND "
            f"{{t}}.hold_expires_at <= %s)"
        )
        sql = (
            f"SELECT COUNT(*) FROM {table} a JOIN {table} b ON a.unit_id = b.unit_id "
            f"AND a.id < b.id AND a.blocked_from < b.blocked_until "
            f"AND b.blocked_from < a.blocked_until "
            f"WHERE a.unit_id IN ({unit_marks}) AND {live.format(t='a')} AND {live.format(t='b')}"
        )
        params = [
            *single,
            *occupying,
            str(BookingStatus.HELD),
            now,
            *occupying,
            str(BookingStatus.HELD),
            now,
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            pairs = int(cursor.fetchone()[0])

    # Peak seats per unit, any capacity: +seats at blocked_from, -seats at blocked_until
    # (an end sorts before a start at the same instant: half-open spans touch, not overlap).
    rows = (
        Booking.objects.filter(unit_id__in=list(units), status__in=OCCUPYING_STATUSES)
        .exclude(status=BookingStatus.HELD, hold_expires_at__lte=now)
        .values_list("unit_id", "blocked_from", "blocked_until", "seats")
    )
    events: dict[int, list[tuple[datetime, int]]] = {}
    bookings = 0
    for unit_id, start, end, seats in rows:
        bookings += 1
        events.setdefault(unit_id, []).extend([(start, seats), (end, -seats)])
    excess = 0
    for unit_id, unit_events in events.items():
        taken = 0
        for _, delta in sorted(unit_events, key=lambda e: (e[0], e[1])):
            taken += delta
            if delta > 0 and taken > units[unit_id]:
                excess += 1
    close_db_connections()
    return {"pairs": pairs, "excess": excess, "occupying": bookings}


# --- main ----------------------------------------------------------------------------------


def summary(
    args: argparse.Namespace,
    db: str,
    phase: str,
    result: LoadResult,
    *,
    clients: int,
    slots: int | str,
    capacity: int,
    found: dict[str, int],
) -> str:
    overlaps = found["pairs"] + found["excess"]
    return (
        f"booking_race phase={phase} db={db} workers={args.workers} client={args.client} "
        f"clients={clients} "
        f"slots={slots} capacity={capacity} attempts={result.sent} "
        f"rate={result.rate:.1f}/s p50={result.ms(50):.0f}ms p95={result.ms(95):.0f}ms "
        f"p99={result.ms(99):.0f}ms max={result.ms(100):.0f}ms {result.status_text()} "
        f"overlaps={overlaps} client_cpu={result.client_cpu / result.elapsed * 100:.0f}% "
        f"load={loadavg().replace(' ', '/')}"
    )


def record(
    args: argparse.Namespace,
    db: str,
    phase: str,
    result: LoadResult,
    line: str,
    found: dict[str, int],
    samples: dict[int, str],
    extra: dict[str, Any],
) -> None:
    print(line, flush=True)
    for status, body in samples.items():
        print(f"  first {status} body: {body}", flush=True)
    if args.json is None:
        return
    entry = {
        "bench": "booking_race",
        "phase": phase,
        "db": db,
        "workers": args.workers,
        "client": args.client,
        "requests": result.sent,
        "rate": round(result.rate, 1),
        "p50_ms": round(result.ms(50), 1),
        "p95_ms": round(result.ms(95), 1),
        "p99_ms": round(result.ms(99), 1),
        "max_ms": round(result.ms(100), 1),
        "statuses": {str(k): v for k, v in sorted(result.statuses.items())},
        "server_errors": result.server_errors,
        "unanswered": sum(result.errors.values()),
        "overlaps": found["pairs"] + found["excess"],
        "client_cpu_pct": round(result.client_cpu / result.elapsed * 100, 1),
        "loadavg": loadavg(),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "tag": args.tag,
        **extra,
    }
    with args.json.open("a") as out:
        out.write(json.dumps(entry) + "\n")


async def run_phases(args: argparse.Namespace, server: Server, setup: Setup, db: str) -> int:
    rng = random.Random(args.seed)
    random.seed(args.seed)
    picked = await pick_slots(server.base_url, setup, args)
    failures = 0

    def spread_chooser(pool: list[list[Any]]) -> Any:
        return lambda i: (pool[i][0], pool[i][1])  # each slot once

    def hot_chooser(role: str) -> Any:
        listing_id, slots = setup.listings[role], picked[role]
        return lambda i: (listing_id, rng.choice(slots))

    # Warm-up: not counted (connections, imports, caches in every worker).
    await hold_phase(
        base_url=server.base_url,
        label="warmup",
        customers=setup.customers,
        total=WARMUP_REQUESTS,
        concurrency=args.clients,
        choose=hot_chooser("warmup"),
        client_kind=args.client,
    )

    for phase in args.phases:
        load_before = loadavg()
        clients = args.clients
        slots: int | str = args.slots
        if phase in ("hot", "hot3"):
            capacity = 3 if phase == "hot3" else 1
            total, choose, listings = args.requests, hot_chooser(phase), [setup.listings[phase]]
        elif phase == "spread":
            pool = [json.loads(item) for item in picked["spread"]]
            total = min(args.requests, len(pool))
            capacity, slots, listings = 1, len(pool), setup.spread_listings
            choose = spread_chooser(pool)
        else:  # burst
            capacity, total, choose = 1, args.burst, hot_chooser("burst")
            clients, listings = args.burst_concurrency, [setup.listings["burst"]]
        spy = PySpy(server.worker_pids(), args.py_spy) if args.py_spy and phase == "hot" else None
        if spy is not None:
            spy.__enter__()
        try:
            result, samples = await hold_phase(
                base_url=server.base_url,
                label=phase,
                customers=setup.customers,
                total=total,
                concurrency=clients,
                choose=choose,
                client_kind=args.client,
                timeout=300.0 if phase == "burst" else 120.0,
            )
        finally:
            if spy is not None:
                spy.__exit__(None, None, None)
                print(f"  py-spy: {', '.join(str(p) for p in spy.outputs)}", flush=True)
        found = await asyncio.to_thread(sweep, listings)
        line = summary(
            args, db, phase, result, clients=clients, slots=slots, capacity=capacity, found=found
        )
        record(
            args,
            db,
            phase,
            result,
            line,
            found,
            samples,
            {
                "clients": clients,
                "slots": slots,
                "capacity": capacity,
                "loadavg_before": load_before,
                "busy_warnings": server.log_count("busy in"),
            },
        )
        if (
            found["pairs"] + found["excess"]
            or result.errors
            or (phase == "burst" and result.server_errors)
        ):
            failures += 1
    return failures


def _stop(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through the finally blocks: server stopped


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    env = ScratchEnv(prefix="agora-booking-race-", extra={"AGORA_HOLD_MINUTES": "30"})
    server: Server | None = None
    try:
        db = env.db_label
        migrate(env)
        django_setup(env)
        info = machine_info()
        print(
            f"# booking_race db={db} workers={args.workers} clients={args.clients} "
            f"requests={args.requests} slots={args.slots} client={args.client} burst={args.burst}x"
            f"{args.burst_concurrency} nproc={info['nproc']} cpu={info['cpu']!r} "
            f"python={info['python']} django={info['django']} load={loadavg()}",
            flush=True,
        )
        started = time.perf_counter()
        setup = make_fixtures(args)
        close_db_connections()
        print(f"# fixtures in {time.perf_counter() - started:.1f}s", flush=True)
        server = Server(env, workers=args.workers).start()
        failures = asyncio.run(run_phases(args, server, setup, db))
        busy = server.log_count("busy in")
        tracebacks = server.log_count("Traceback")
        if busy or tracebacks:
            print(f"# server log: {busy} 'busy' retries, {tracebacks} tracebacks", flush=True)
            if tracebacks:
                print(server.log_tail(30), flush=True)
        return 1 if failures else 0
    finally:
        if server is not None:
            server.stop()
            if args.server_log is not None:
                shutil.copyfile(server.log_path, args.server_log)
        env.close()


if __name__ == "__main__":
    sys.exit(main())
