"""Search at scale: GET /api/v1/listings and /search/suggest over N synthetic listings.

    env -u DATABASE_URL .venv/bin/python bench/search.py --listings 1000000
    scripts/with-postgres .venv/bin/python bench/search.py --listings 1000000
    .venv/bin/python bench/search.py --listings 20000 --rate 20 --seconds 10   # a quick look

What it does:

1. Migrates a scratch database, loads the demo, then `agora demo --listings N` and reports
   how long the bulk load with its search documents took, and the size of the search
   tables and indexes.
2. Serves the marketplace (`agora serve --workers 2`) and sends an open-model load: requests
   arrive at --rate per second (Poisson arrivals, whatever the server's pace), for
   --seconds, a mix of
   - `faceted`: text + category + kind + price range + rating, within a radius, by relevance;
   - `distance`: text sorted by distance from a point;
   - `broad`: one common word over everything (the facet sample overflows: estimated total);
   - `available`: category + city, free tomorrow (availability-aware, paginated);
   - `typo`: a misspelt word (corrected);
   - `suggest`: type-ahead on a prefix.
   Latency is measured from each request's scheduled arrival, so a server that falls
   behind shows it. Prints p50 / p95 / p99 per kind; targets are p95 <= 50 ms and
   p99 <= 150 ms for searches, p95 <= 20 ms for suggest.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    REPO,
    ScratchEnv,
    Server,
    agora_command,
    django_setup,
    loadavg,
    machine_info,
    migrate,
    percentile,
)

WORDS = ("brake", "service", "boiler", "clean", "tyre", "electrical", "leak", "clutch", "mot")
TYPOS = ("servcie", "boilr", "elecrtical", "tyers", "pluming", "clutc")
PREFIXES = ("bra", "ser", "boi", "ele", "plu", "tyr", "mo", "cle")
CITIES = {
    "london": (51.5074, -0.1278),
    "manchester": (53.4808, -2.2426),
    "leeds": (53.8008, -1.5491),
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=25.0, help="requests per second")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--loaded",
        metavar="VAR_DIR",
        help="an AGORA_VAR_DIR whose SQLite database already holds the listings (from "
        "`agora demo --listings N`): skip the load and measure that",
    )
    return parser.parse_args(argv)


def request_for(kind: str, rng: random.Random) -> tuple[str, dict[str, Any]]:
    city, (lat, lng) = rng.choice(list(CITIES.items()))
    if kind == "faceted":
        return "/api/v1/listings", {
            "q": rng.choice(WORDS),
            "category": rng.choice(("automotive", "home-services")),
            "kind": "service",
            "min_price": 2_000,
            "max_price": 60_000,
            "min_rating": 3,
            "lat": lat,
            "lng": lng,
            "radius_km": 25,
        }
    if kind == "distance":
        return "/api/v1/listings", {
            "q": rng.choice(WORDS),
            "lat": lat,
            "lng": lng,
            "sort": "distance",
        }
    if kind == "broad":
        return "/api/v1/listings", {"q": "service"}
    if kind == "available":
        tomorrow = (datetime.now(UTC) + timedelta(days=1)).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        return "/api/v1/listings", {
            "category": rng.choice(("automotive", "home-services")),
            "city": city,
            "available_from": tomorrow.isoformat(),
            "available_to": (tomorrow + timedelta(days=1)).isoformat(),
        }
    if kind == "typo":
        return "/api/v1/listings", {"q": rng.choice(TYPOS)}
    return "/api/v1/search/suggest", {"q": rng.choice(PREFIXES)}


KINDS = ("faceted", "distance", "broad", "available", "typo", "suggest")
WEIGHTS = (30, 15, 5, 15, 10, 25)


async def open_model(base_url: str, rate: float, seconds: float) -> dict[str, list[float]]:
    import httpx

    rng = random.Random(42)
    latencies: dict[str, list[float]] = {kind: [] for kind in KINDS}
    errors: dict[str, int] = dict.fromkeys(KINDS, 0)
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as client:
        tasks = []
        start = time.perf_counter()
        at = 0.0
        while at < seconds:
            kind = rng.choices(KINDS, weights=WEIGHTS)[0]
            path, params = request_for(kind, rng)

            async def one(
                kind: str = kind, path: str = path, params: dict[str, Any] = params, at: float = at
            ) -> None:
                delay = start + at - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                scheduled = start + at
                response = await client.get(path, params=params)
                if response.status_code != 200:
                    errors[kind] += 1
                    return
                latencies[kind].append(time.perf_counter() - scheduled)

            tasks.append(asyncio.create_task(one()))
            at += rng.expovariate(rate)
        await asyncio.gather(*tasks)
    for kind, count in errors.items():
        if count:
            print(f"  {kind}: {count} non-200 answers", flush=True)
    return latencies


def index_size(env: ScratchEnv) -> str:
    django_setup(env)
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT pg_size_pretty(pg_total_relation_size('search_searchdocument')),"
                " pg_size_pretty(pg_indexes_size('search_searchdocument')),"
                " pg_size_pretty(pg_total_relation_size('search_searchterm'))"
            )
            table, indexes, terms = cursor.fetchone()
            return f"documents {table} (of which indexes {indexes}), vocabulary {terms}"
        cursor.execute(
            "SELECT name, SUM(pgsize) FROM dbstat WHERE name LIKE 'search%' OR name LIKE"
            " 'sqlite_autoindex_search%' GROUP BY name"
        )
        sizes = dict(cursor.fetchall())
    fts = sum(v for k, v in sizes.items() if k.startswith("search_fts"))
    geo = sum(v for k, v in sizes.items() if k.startswith("search_geo"))
    total = sum(sizes.values())
    return (
        f"all search objects {total / 2**20:.0f} MiB (FTS5 {fts / 2**20:.0f} MiB, "
        f"R*Tree {geo / 2**20:.0f} MiB)"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    env = ScratchEnv(prefix="agora-search-")
    if args.loaded:
        env.env["AGORA_VAR_DIR"] = args.loaded
    server: Server | None = None
    try:
        info = machine_info()
        print(
            f"# search db={env.db_label} listings={args.listings:,} nproc={info['nproc']} "
            f"cpu={info['cpu']!r} python={info['python']} load={loadavg()}",
            flush=True,
        )
        if not args.loaded:
            migrate(env)
            subprocess.run(
                agora_command("demo"), env=env.env, cwd=REPO, check=True, capture_output=True
            )
            started = time.monotonic()
            subprocess.run(
                agora_command("demo", "--listings", str(args.listings)),
                env=env.env,
                cwd=REPO,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            took = time.monotonic() - started
            print(f"bulk load with search documents: {took:.0f} s", flush=True)
        if env.db_label == "postgresql":
            subprocess.run(
                agora_command("dbshell", "--", "-c", "VACUUM ANALYZE"),
                env=env.env,
                cwd=REPO,
                check=True,
                capture_output=True,
            )
        else:
            subprocess.run(
                agora_command("dbshell"),
                input=b"ANALYZE;\n",
                env=env.env,
                cwd=REPO,
                check=True,
                capture_output=True,
            )
        print(f"index size: {index_size(env)}", flush=True)
        server = Server(env, workers=args.workers).start()
        # Warm each worker (vocabulary pages, query plans) before measuring.
        asyncio.run(open_model(server.base_url, 10, 3))
        print(
            f"open model: {args.rate:g} requests/s for {args.seconds:g} s, {args.workers} workers",
            flush=True,
        )
        latencies = asyncio.run(open_model(server.base_url, args.rate, args.seconds))
        for kind in KINDS:
            series = latencies[kind]
            if not series:
                continue
            p50, p95, p99 = (percentile(series, p) * 1000 for p in (50, 95, 99))
            print(
                f"  {kind:10} n={len(series):5}  p50 {p50:7.1f} ms  p95 {p95:7.1f} ms"
                f"  p99 {p99:7.1f} ms",
                flush=True,
            )
        return 0
    finally:
        if server is not None:
            server.stop()
        env.close()


if __name__ == "__main__":
    sys.exit(main())
