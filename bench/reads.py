"""Reads: listing detail and vendor page over HTTP (TARGETS.md "reads": ≥ 1,000 req/s,
p95 ≤ 50 ms).

    env -u DATABASE_URL .venv/bin/python bench/reads.py                 # fresh SQLite
    scripts/with-postgres .venv/bin/python bench/reads.py               # throwaway PostgreSQL
    .venv/bin/python bench/reads.py --workers 2 --requests 4000 --runs 3
    .venv/bin/python bench/reads.py --rate 400 --duration 10           # open model

What it does:

1. Database: DATABASE_URL when set, else a fresh SQLite file; AGORA_VAR_DIR is a temporary
   directory for the setup and the server alike. `agora migrate`, then fixtures through the
   services: an operator approves --vendors vendors (opening hours set), each lists
   --listings listings (services and products, one product with variants).
2. `agora serve --workers N` on a free 127.0.0.1 port (DEBUG=0), waited for on /healthz.
3. Per endpoint (`--endpoints`, default all four), anonymous GETs of random ids/slugs:
   * `api-listing`  GET /api/v1/listings/{id}
   * `api-vendor`   GET /api/v1/vendors/{id}
   * `page-listing` GET /l/{id}/   (the public HTML page)
   * `page-vendor`  GET /v/{slug}/ (the public HTML page)
   a warm-up, then --runs runs. Closed model by default: --clients clients each send the
   next request when the previous is answered (--requests per run). With --rate R: an open
   model — requests are *scheduled* at R per second for --duration seconds whatever the
   answers, and latency is measured from each request's scheduled time, so a server that
   falls behind shows it in the latency (no coordinated omission).
4. One line per run (req/s, p50/p95/p99, statuses, client CPU, load) and the median of the
   runs per endpoint. Any status but 200 is counted and its first body printed.

`--client raw` (default) is the minimal keep-alive HTTP/1.1 client of bench/common.py
(~0.1 ms of CPU per request); `--client httpx` uses httpx, which costs the client ~2–5 ms
per request — on a 2-core machine that is CPU taken from the server.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    Fixtures,
    LoadResult,
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

ENDPOINTS = ("api-listing", "api-vendor", "page-listing", "page-vendor")
WARMUP = 200


@dataclass
class Setup:
    listing_ids: list[int] = field(default_factory=list)
    vendor_ids: list[int] = field(default_factory=list)
    vendor_slugs: list[str] = field(default_factory=list)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients (32)")
    parser.add_argument("--requests", type=int, default=3000, help="requests per run (3000)")
    parser.add_argument("--runs", type=int, default=3, help="measured runs per endpoint (3)")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes (2)")
    parser.add_argument("--vendors", type=int, default=12, help="vendors (12)")
    parser.add_argument("--listings", type=int, default=8, help="listings a vendor (8)")
    parser.add_argument(
        "--endpoints", default=",".join(ENDPOINTS), help=f"comma-separated of {ENDPOINTS}"
    )
    parser.add_argument("--client", choices=("raw", "httpx"), default="raw")
    parser.add_argument(
        "--rate", type=float, default=0.0, help="open model: requests per second (off: closed)"
    )
    parser.add_argument("--duration", type=float, default=10.0, help="open model: seconds (10)")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    args.endpoints = [e.strip() for e in args.endpoints.split(",") if e.strip()]
    unknown = set(args.endpoints) - set(ENDPOINTS)
    if unknown:
        parser.error(f"unknown endpoints {sorted(unknown)}; choose from {ENDPOINTS}")
    return args


# --- setup ---------------------------------------------------------------------------------


def make_fixtures(args: argparse.Namespace) -> Setup:
    from agora.catalog.services import listing_create, variant_create
    from agora.core.money import Money

    fx = Fixtures()
    operator = fx.operator()
    setup = Setup()
    for v in range(args.vendors):
        owner, vendor = fx.active_vendor(operator=operator, name=f"Reads {v} {fx.tag}")
        fx.schedule(owner=owner, vendor=vendor)
        setup.vendor_ids.append(vendor.pk)
        setup.vendor_slugs.append(vendor.slug)
        for n in range(args.listings):
            if n % 2 == 0:
                listing = fx.service(
                    owner=owner, vendor=vendor, title=f"Service {v}-{n}", price=4000 + 35 * n
                )
            else:
                listing = listing_create(
                    actor=owner,
                    vendor=vendor,
                    kind="product",
                    title=f"Part {v}-{n}",
                    category="tools-supplies",
                    price=Money(999 + 41 * n, "GBP"),
                    stock=100,
                    weight_grams=300,
                )
                if n == 1:
                    for size in ("S", "M", "L"):
                        variant_create(actor=owner, listing=listing, name=size, stock=20)
            setup.listing_ids.append(listing.pk)
    return setup


def path_for(endpoint: str, setup: Setup, rng: random.Random) -> str:
    if endpoint == "api-listing":
        return f"/api/v1/listings/{rng.choice(setup.listing_ids)}"
    if endpoint == "api-vendor":
        return f"/api/v1/vendors/{rng.choice(setup.vendor_ids)}"
    if endpoint == "page-listing":
        return f"/l/{rng.choice(setup.listing_ids)}/"
    return f"/v/{rng.choice(setup.vendor_slugs)}/"


# --- load ----------------------------------------------------------------------------------


class Getter:
    """GET over `concurrency` connections: raw keep-alive connections, or one httpx pool."""

    def __init__(self, base_url: str, kind: str, concurrency: int) -> None:
        self.base_url, self.kind = base_url, kind
        host, port = base_url.removeprefix("http://").split(":")
        self.raw = [RawHTTPConnection(host, int(port)) for _ in range(concurrency)]
        self.free: asyncio.Queue[RawHTTPConnection] | None = None
        self.client: Any = http_client(concurrency) if kind == "httpx" else None
        self.samples: dict[int, str] = {}

    async def get(self, path: str, k: int | None = None) -> int:
        if self.client is not None:
            response = await self.client.get(self.base_url + path)
            status, body = response.status_code, response.content
        else:
            if k is not None:  # closed model: client k owns connection k
                status, body = await self.raw[k].request("GET", path, headers={})
            else:  # open model: borrow any idle connection
                if self.free is None:
                    self.free = asyncio.Queue()
                    for connection in self.raw:
                        self.free.put_nowait(connection)
                connection = await self.free.get()
                try:
                    status, body = await connection.request("GET", path, headers={})
                finally:
                    self.free.put_nowait(connection)
        if status != 200:
            self.samples.setdefault(status, body[:300].decode(errors="replace"))
        return status

    async def close(self) -> None:
        for connection in self.raw:
            connection.close()
        if self.client is not None:
            await self.client.aclose()


async def open_loop(
    *, label: str, rate: float, duration: float, send: Any, max_in_flight: int
) -> LoadResult:
    """Requests scheduled at `rate`/s for `duration` s; latency from the scheduled time.

    At most `max_in_flight` requests are outstanding (the connections available); a request
    whose turn comes while all are busy waits, and that wait counts in its latency."""
    result = LoadResult(label=label)
    total = int(rate * duration)
    cpu_before = time.process_time()
    started = time.perf_counter()
    gate = asyncio.Semaphore(max_in_flight)

    async def one(i: int, scheduled: float) -> None:
        async with gate:
            try:
                status = await send(i)
            except Exception as error:  # every failure is counted, none hidden
                result.errors[type(error).__name__] += 1
                return
        result.latencies.append(time.perf_counter() - scheduled)
        result.statuses[status] += 1

    tasks = []
    for i in range(total):
        scheduled = started + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, scheduled)))
    await asyncio.gather(*tasks)
    result.elapsed = max(time.perf_counter() - started, duration)
    result.client_cpu = time.process_time() - cpu_before
    result.sent = total
    return result


async def measure(
    args: argparse.Namespace, server: Server, setup: Setup, endpoint: str, label: str, total: int
) -> tuple[LoadResult, dict[int, str]]:
    rng = random.Random(args.seed)
    getter = Getter(server.base_url, args.client, args.clients)
    try:
        if args.rate and label != "warmup":
            result = await open_loop(
                label=label,
                rate=args.rate,
                duration=args.duration,
                send=lambda i: getter.get(path_for(endpoint, setup, rng)),
                max_in_flight=args.clients,
            )
        else:
            result = await closed_loop(
                label=label,
                total=total,
                concurrency=args.clients,
                send=lambda i, k: getter.get(path_for(endpoint, setup, rng), k),
            )
    finally:
        await getter.close()
    return result, getter.samples


def line(db: str, args: argparse.Namespace, endpoint: str, result: LoadResult) -> str:
    model = f"open rate={args.rate:g}/s" if args.rate else f"clients={args.clients}"
    return (
        f"reads db={db} workers={args.workers} endpoint={endpoint} {model} "
        f"client={args.client} requests={result.sent} rate={result.rate:.0f}/s "
        f"p50={result.ms(50):.1f}ms p95={result.ms(95):.1f}ms p99={result.ms(99):.1f}ms "
        f"max={result.ms(100):.0f}ms {result.status_text()} "
        f"client_cpu={100 * result.client_cpu / result.elapsed:.0f}% "
        f"load={loadavg().replace(' ', '/')}"
    )


async def run(args: argparse.Namespace, server: Server, setup: Setup, db: str) -> int:
    failures = 0
    for endpoint in args.endpoints:
        await measure(args, server, setup, endpoint, "warmup", WARMUP)
        results = []
        for number in range(1, args.runs + 1):
            result, samples = await measure(
                args, server, setup, endpoint, f"run{number}", args.requests
            )
            print(line(db, args, endpoint, result), flush=True)
            for status, body in samples.items():
                print(f"  first {status} body: {body}", flush=True)
            if result.errors or set(result.statuses) != {200}:
                failures += 1
            results.append(result)
        if len(results) > 1:
            print(
                f"reads db={db} workers={args.workers} endpoint={endpoint} median of "
                f"{len(results)}: rate={statistics.median(r.rate for r in results):.0f}/s "
                f"p50={statistics.median(r.ms(50) for r in results):.1f}ms "
                f"p95={statistics.median(r.ms(95) for r in results):.1f}ms "
                f"p99={statistics.median(r.ms(99) for r in results):.1f}ms",
                flush=True,
            )
    return failures


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    env = ScratchEnv(prefix="agora-reads-")
    server: Server | None = None
    try:
        db = env.db_label
        migrate(env)
        django_setup(env)
        info = machine_info()
        print(
            f"# reads db={db} workers={args.workers} clients={args.clients} "
            f"requests={args.requests}x{args.runs} client={args.client} nproc={info['nproc']} "
            f"cpu={info['cpu']!r} python={info['python']} django={info['django']} "
            f"load={loadavg()}",
            flush=True,
        )
        started = time.perf_counter()
        setup = make_fixtures(args)
        close_db_connections()
        print(
            f"# fixtures in {time.perf_counter() - started:.1f}s: {len(setup.vendor_ids)} "
            f"vendors, {len(setup.listing_ids)} listings",
            flush=True,
        )
        server = Server(env, workers=args.workers).start()
        failures = asyncio.run(run(args, server, setup, db))
        tracebacks = server.log_count("Traceback")
        if tracebacks:
            print(f"# server log: {tracebacks} tracebacks", flush=True)
            print(server.log_tail(30), flush=True)
        return 1 if failures else 0
    finally:
        if server is not None:
            server.stop()
        env.close()


if __name__ == "__main__":
    sys.exit(main())
