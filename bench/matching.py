"""Matching and assignment benchmark (TARGETS.md: one request over 25,000 vendors p95 ≤ 50
ms; a batch of 1,000 requests × 5,000 vendors ≤ 1 s; optimal beats greedy).

Three parts, each printing its figures:

1. engine — `agora.quotes.matching.rank` (hard filters, score, top 5 with breakdowns) for
   one request against 25,000 vendors held as a `CandidateTable`, repeated for requests
   at random places; latency percentiles.
2. service — the same through the database: 25,000 vendors (each with a listing in the
   category) bulk-inserted into a scratch database, then `candidates.matches_for` for
   requests at random places: the candidate query (category subtree, bounding box,
   ratings, counters, lowest price) plus scoring. `--skip-db` leaves it out.
3. batch — 1,000 requests × 5,000 vendors: the score matrix (every request against every
   vendor, NaN where a hard filter fails), then `assign_optimal` (linear_sum_assignment)
   and `assign_greedy` (first come, best free vendor) on the same matrix: time, requests
   served, total score and mean distance.

    .venv/bin/python bench/matching.py [--vendors 25000] [--requests 300] [--skip-db]
    scripts/with-postgres .venv/bin/python bench/matching.py   # the service on PostgreSQL
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agora.quotes.assignment import assign_greedy, assign_optimal, total_score
from agora.quotes.matching import (
    CandidateTable,
    MatchParams,
    MatchRequest,
    rank,
    score_matrix,
)
from bench.common import ScratchEnv, django_setup, loadavg, machine_info, migrate

# Great Britain, roughly: where vendors and requests are placed.
LAT = (50.4, 55.8)
LNG = (-4.5, 1.4)


def synthetic_table(size: int, rng: np.random.Generator) -> CandidateTable:
    """Vendors clustered around a few cities, as real ones are."""
    centres = np.array(
        [[51.51, -0.13], [53.48, -2.24], [53.80, -1.55], [52.49, -1.89], [55.86, -4.25]]
    )
    which = rng.integers(0, len(centres), size)
    lat = centres[which, 0] + rng.normal(0, 0.25, size)
    lng = centres[which, 1] + rng.normal(0, 0.35, size)
    return CandidateTable(
        vendor_id=np.arange(1, size + 1),
        lat=lat,
        lng=lng,
        radius_km=rng.choice([0, 10, 20, 40], size),
        active=rng.random(size) > 0.03,
        in_category=np.ones(size, dtype=bool),
        capacity=np.full(size, -1),
        rating_sum=rng.integers(0, 400, size),
        rating_count=rng.integers(0, 90, size),
        invitations=rng.integers(0, 60, size),
        quotes=rng.integers(0, 40, size),
        responses=rng.integers(0, 50, size),
        response_seconds=rng.integers(0, 50 * 4 * 3600, size),
        open_invitations=rng.integers(0, 8, size),
        typical_price=rng.integers(2_000, 30_000, size).astype(float),
    )


def request_at(rng: np.random.Generator, table: CandidateTable) -> MatchRequest:
    """A request near a random vendor (customers live where vendors work)."""
    row = int(rng.integers(0, len(table)))
    return MatchRequest(
        lat=float(table.lat[row] + rng.normal(0, 0.05)),
        lng=float(table.lng[row] + rng.normal(0, 0.05)),
        budget=int(rng.integers(5_000, 20_000)),
        urgency=str(rng.choice(["standard", "urgent", "emergency"])),
    )


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def report(label: str, seconds: list[float]) -> None:
    ms = [s * 1000 for s in seconds]
    print(
        f"{label}: n={len(ms)} p50={pct(ms, 50):.2f} ms p95={pct(ms, 95):.2f} ms "
        f"p99={pct(ms, 99):.2f} ms max={max(ms):.2f} ms"
    )


def engine(vendors: int, requests: int, rng: np.random.Generator) -> None:
    table = synthetic_table(vendors, rng)
    params = MatchParams()
    for _ in range(20):  # warm up numpy's code paths
        rank(table, request_at(rng, table), params, limit=5)
    times = []
    for _ in range(requests):
        wanted = request_at(rng, table)
        started = time.perf_counter()
        rank(table, wanted, params, limit=5)
        times.append(time.perf_counter() - started)
    report(f"engine, one request over {vendors:,} vendors (top 5 with breakdowns)", times)


def service(vendors: int, requests: int, rng: np.random.Generator) -> None:
    with ScratchEnv(prefix="agora-bench-matching-") as env:
        print(f"service: database {env.db_label}; migrating and inserting {vendors:,} vendors")
        migrate(env)
        django_setup(env)
        from decimal import Decimal

        from agora.catalog.models import Category, Listing
        from agora.quotes import candidates
        from agora.quotes.models import QuoteRequest, VendorQuoteStats
        from agora.vendors.models import Vendor

        table = synthetic_table(vendors, rng)
        category = Category.objects.get(slug="plumbers")
        started = time.perf_counter()
        Vendor.objects.bulk_create(
            [
                Vendor(
                    name=f"Bench plumber {i}",
                    slug=f"bench-plumber-{i}",
                    status="active",
                    lat=Decimal(f"{table.lat[i]:.6f}"),
                    lng=Decimal(f"{table.lng[i]:.6f}"),
                    service_radius_km=int(table.radius_km[i]),
                    rating_count=int(table.rating_count[i]),
                    rating_sum=int(table.rating_sum[i]),
                )
                for i in range(vendors)
            ],
            batch_size=2000,
        )
        ids = list(Vendor.objects.order_by("id").values_list("id", flat=True))
        Listing.objects.bulk_create(
            [
                Listing(
                    vendor_id=vendor_id,
                    category=category,
                    kind="quote",
                    title="Call-out",
                    price_amount=int(table.typical_price[i]),
                    currency="GBP",
                )
                for i, vendor_id in enumerate(ids)
            ],
            batch_size=2000,
        )
        VendorQuoteStats.objects.bulk_create(
            [
                VendorQuoteStats(
                    vendor_id=vendor_id,
                    invitations=int(table.invitations[i]),
                    quotes=int(table.quotes[i]),
                    responses=int(table.responses[i]),
                    response_seconds=int(table.response_seconds[i]),
                    open_invitations=int(table.open_invitations[i]),
                )
                for i, vendor_id in enumerate(ids)
            ],
            batch_size=2000,
        )
        print(f"service: inserted in {time.perf_counter() - started:.1f} s")
        times, found = [], []
        for index in range(requests + 10):
            wanted = request_at(rng, table)
            request = QuoteRequest(
                category=category,
                lat=Decimal(f"{wanted.lat:.6f}"),
                lng=Decimal(f"{wanted.lng:.6f}"),
                budget_amount=wanted.budget,
                currency="GBP",
                urgency=wanted.urgency,
            )
            started = time.perf_counter()
            matches = candidates.matches_for(request=request, default_radius_km=25, limit=5)
            if index >= 10:  # the first few warm the connection and caches
                times.append(time.perf_counter() - started)
                found.append(len(matches))
        report(f"service, one request over {vendors:,} vendors in the database", times)
        print(f"service: invited per request, mean {sum(found) / len(found):.2f}")


def batch(requests: int, vendors: int, rng: np.random.Generator, runs: int = 3) -> None:
    """`runs` batches of fresh requests over the same vendors; each run's figures, then
    the medians."""
    table = synthetic_table(vendors, rng)
    params = MatchParams()
    totals: list[float] = []
    matrices: list[float] = []
    solves: list[float] = []
    for run in range(1, runs + 1):
        wanted = [request_at(rng, table) for _ in range(requests)]
        started = time.perf_counter()
        scores, distance = score_matrix(table, wanted, params)
        scoring = time.perf_counter() - started
        started = time.perf_counter()
        optimal = assign_optimal(scores)
        optimal_time = time.perf_counter() - started
        started = time.perf_counter()
        greedy = assign_greedy(scores)
        greedy_time = time.perf_counter() - started
        eligible = np.isfinite(scores).sum(axis=1)
        print(
            f"batch run {run}, {requests:,} × {vendors:,}: score matrix {scoring * 1000:.0f} ms "
            f"(eligible vendors per request: median {int(np.median(eligible))})"
        )
        for name, pairs, seconds in (
            ("optimal", optimal, optimal_time),
            ("greedy", greedy, greedy_time),
        ):
            mean_km = float(np.mean([distance[r, c] for r, c in pairs])) if pairs else math.nan
            print(
                f"  {name}: {seconds * 1000:.0f} ms, served {len(pairs)}/{requests} "
                f"({100 * len(pairs) / requests:.1f} %), total score "
                f"{total_score(scores, pairs):.2f}, mean distance {mean_km:.2f} km"
            )
        print(
            f"  optimal vs greedy: +{len(optimal) - len(greedy)} served, "
            f"+{total_score(scores, optimal) - total_score(scores, greedy):.2f} score"
        )
        matrices.append(scoring)
        solves.append(optimal_time)
        totals.append(scoring + optimal_time)
    print(
        f"batch medians: matrix {np.median(matrices) * 1000:.0f} ms, optimal assignment "
        f"{np.median(solves) * 1000:.0f} ms, both {np.median(totals) * 1000:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vendors", type=int, default=25_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--batch-requests", type=int, default=1_000)
    parser.add_argument("--batch-vendors", type=int, default=5_000)
    parser.add_argument("--skip-db", action="store_true")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    info = machine_info()
    print("machine:", ", ".join(f"{k}={v}" for k, v in info.items()), "| load", loadavg())
    engine(args.vendors, args.requests, rng)
    batch(args.batch_requests, args.batch_vendors, rng)
    print("scarce vendors (as many requests as vendors, clustered apart):")
    batch(args.batch_requests, args.batch_requests, rng, runs=1)
    if not args.skip_db:
        service(args.vendors, min(args.requests, 200), rng)
    print("load after:", loadavg())


if __name__ == "__main__":
    main()
