"""Goods checkout: concurrent multi-vendor checkouts over HTTP (TARGETS.md "goods").

    env -u DATABASE_URL .venv/bin/python bench/checkout.py              # fresh SQLite
    scripts/with-postgres .venv/bin/python bench/checkout.py            # throwaway PostgreSQL
    .venv/bin/python bench/checkout.py --clients 32 --checkouts 2000 --workers 2 --runs 3

What it does:

1. Database: DATABASE_URL when set, else a fresh SQLite file; AGORA_VAR_DIR is a temporary
   directory for the setup and the server alike. `agora migrate`, then fixtures through the
   services: an operator approves three vendors; each sets shipping rules (£3.99 flat, free
   from £100) and lists --products products with plenty of stock, one product with three
   variants, and --scarce scarce products (--scarce-stock units each); customers get bearer
   tokens.
2. `agora serve --workers N` on a free 127.0.0.1 port (DEBUG=0), waited for on /healthz.
3. A warm-up of 100 checkouts (not counted), then --runs closed-loop runs of --checkouts
   each with --clients in flight: POST /api/v1/checkout with the client's token, a fresh
   Idempotency-Key, payment_method pm_card_visa and five lines across the three vendors
   (two, two and one, a variant among them); with probability --scarce-rate one line is a
   scarce product, so those run out and later checkouts get 409 out_of_stock.
4. After each run, a sweep of the database for every item the benchmark created: stock never
   below zero, units sold (lines of paid orders onward) plus units in live reservations never
   above the initial stock (`oversold` counts the excess), and initial − sold − reserved ==
   stock (`unexplained` counts items where not).
5. One summary line per run and the median of the runs; the server is always stopped and the
   scratch directory removed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    Customer,
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

WARMUP_CHECKOUTS = 100
PLENTY = 1_000_000
ADDRESS = {
    "name": "Bench Buyer",
    "line1": "1 Load Street",
    "city": "London",
    "postcode": "E1 6AN",
    "country": "GB",
}


@dataclass
class Item:
    listing_id: int
    variant_id: int | None
    initial: int

    def line(self, quantity: int = 1) -> dict[str, Any]:
        entry: dict[str, Any] = {"listing_id": self.listing_id, "quantity": quantity}
        if self.variant_id is not None:
            entry["variant_id"] = self.variant_id
        return entry


@dataclass
class Shop:
    vendor_id: int
    plenty: list[Item] = field(default_factory=list)
    scarce: list[Item] = field(default_factory=list)


@dataclass
class Setup:
    shops: list[Shop]
    customers: list[Customer]

    @property
    def items(self) -> list[Item]:
        return [item for shop in self.shops for item in (*shop.plenty, *shop.scarce)]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients (32)")
    parser.add_argument("--checkouts", type=int, default=2000, help="checkouts per run (2000)")
    parser.add_argument("--runs", type=int, default=3, help="measured runs (3)")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes (2)")
    parser.add_argument("--products", type=int, default=20, help="plentiful products a vendor")
    parser.add_argument("--scarce", type=int, default=2, help="scarce products a vendor (2)")
    parser.add_argument("--scarce-stock", type=int, default=40, help="units of each (40)")
    parser.add_argument(
        "--scarce-rate", type=float, default=0.1, help="share of checkouts with a scarce line"
    )
    parser.add_argument("--seed", type=int, default=None, help="random seed")
    parser.add_argument(
        "--client",
        choices=("httpx", "raw"),
        default="httpx",
        help="load generator: httpx, or the minimal keep-alive client of common.py (~0.1 ms "
        "of CPU a request instead of httpx's 2-5 ms, which a 2-core server feels)",
    )
    return parser.parse_args(argv)


# --- setup ---------------------------------------------------------------------------------


def make_fixtures(args: argparse.Namespace) -> Setup:
    from agora.catalog.services import listing_create, variant_create
    from agora.core.money import Money
    from agora.orders.services.inventory import shipping_rules_replace

    fx = Fixtures()
    operator = fx.operator()
    shops = []
    for index in range(3):
        owner, vendor = fx.active_vendor(operator=operator, name=f"Parts {index} {fx.tag}")
        shipping_rules_replace(
            actor=owner,
            vendor=vendor,
            rules=[
                {"kind": "flat", "amount": 399},
                {"kind": "free_over", "threshold_amount": 10000},
            ],
        )
        shop = Shop(vendor_id=vendor.pk)

        def product(title: str, stock: int, price: int) -> Any:
            return listing_create(
                actor=owner,  # noqa: B023 - used at once, inside this iteration
                vendor=vendor,  # noqa: B023
                kind="product",
                title=title,
                category="tools-supplies",
                price=Money(price, "GBP"),
                stock=stock,
                weight_grams=250,
            )

        for n in range(args.products):
            listing = product(f"Spanner {index}-{n}", PLENTY, 499 + 37 * n)
            shop.plenty.append(Item(listing.pk, None, PLENTY))
        sized = product(f"Socket set {index}", 0, 2999)
        for size in ("S", "M", "L"):
            variant = variant_create(actor=owner, listing=sized, name=size, stock=PLENTY)
            shop.plenty.append(Item(sized.pk, variant.pk, PLENTY))
        for n in range(args.scarce):
            listing = product(f"Rare gauge {index}-{n}", args.scarce_stock, 8999)
            shop.scarce.append(Item(listing.pk, None, args.scarce_stock))
        shops.append(shop)
    return Setup(shops=shops, customers=fx.customers(max(args.clients, 1)))


def basket(setup: Setup, rng: random.Random, scarce_rate: float) -> list[dict[str, Any]]:
    """Five lines over the three vendors (two, two, one); sometimes one scarce line."""
    counts = [2, 2, 1]
    rng.shuffle(counts)
    items: list[Item] = []
    for shop, count in zip(setup.shops, counts, strict=True):
        items.extend(rng.sample(shop.plenty, count))
    if rng.random() < scarce_rate:
        shop = rng.choice(setup.shops)
        items[rng.randrange(len(items))] = rng.choice(shop.scarce)
    rng.shuffle(items)
    return [item.line(rng.randint(1, 2)) for item in items]


# --- load ----------------------------------------------------------------------------------


async def checkout_run(
    *,
    base_url: str,
    setup: Setup,
    total: int,
    concurrency: int,
    rng: random.Random,
    scarce_rate: float,
    label: str,
    client_kind: str = "httpx",
) -> tuple[LoadResult, dict[int, str]]:
    url = f"{base_url}/api/v1/checkout"
    samples: dict[int, str] = {}
    headers = [{"Authorization": f"Bearer {c.token}"} for c in setup.customers]
    if client_kind == "raw":
        host, port = base_url.removeprefix("http://").split(":")
        connections = [RawHTTPConnection(host, int(port)) for _ in range(concurrency)]

        async def send_raw(i: int, k: int) -> int:
            body = {
                "items": basket(setup, rng, scarce_rate),
                "shipping_address": ADDRESS,
                "payment_method": "pm_card_visa",
            }
            status, data = await connections[k].request(
                "POST",
                "/api/v1/checkout",
                headers={**headers[k % len(headers)], "Idempotency-Key": uuid.uuid4().hex},
                body=json.dumps(body).encode(),
            )
            if status not in (201, 409):
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
    async with http_client(concurrency) as client:

        async def send(i: int, k: int) -> int:
            body = {
                "items": basket(setup, rng, scarce_rate),
                "shipping_address": ADDRESS,
                "payment_method": "pm_card_visa",
            }
            response = await client.post(
                url,
                json=body,
                headers={**headers[k % len(headers)], "Idempotency-Key": uuid.uuid4().hex},
            )
            if response.status_code not in (201, 409):
                samples.setdefault(response.status_code, response.text[:300])
            return response.status_code

        result = await closed_loop(label=label, total=total, concurrency=concurrency, send=send)
    return result, samples


# --- the sweep -----------------------------------------------------------------------------


def sweep(items: list[Item]) -> dict[str, int]:
    """Stock against units sold and reserved, per item the benchmark created."""
    from django.db.models import Sum

    from agora.catalog.models import Listing, ProductVariant
    from agora.orders.models import OrderLine, OrderStatus, ReservationStatus, StockReservation

    sold_statuses = [
        OrderStatus.PAID,
        OrderStatus.ACCEPTED,
        OrderStatus.SHIPPED,
        OrderStatus.DELIVERED,
        OrderStatus.COMPLETED,
    ]

    def per_item(queryset: Any) -> dict[tuple[int, int | None], int]:
        rows = queryset.values("listing_id", "variant_id").annotate(units=Sum("quantity"))
        return {(r["listing_id"], r["variant_id"]): int(r["units"]) for r in rows}

    sold = per_item(OrderLine.objects.filter(order__status__in=sold_statuses))
    reserved = per_item(StockReservation.objects.filter(status=ReservationStatus.LIVE))
    plain = dict(Listing.objects.values_list("pk", "stock"))
    variants = dict(ProductVariant.objects.values_list("pk", "stock"))
    found = {"negative": 0, "oversold": 0, "unexplained": 0, "sold": 0}
    for item in items:
        key = (item.listing_id, item.variant_id)
        level = variants[item.variant_id] if item.variant_id else plain[item.listing_id]
        out = sold.get(key, 0) + reserved.get(key, 0)
        found["sold"] += sold.get(key, 0)
        found["negative"] += level < 0
        found["oversold"] += max(0, out - item.initial)
        found["unexplained"] += item.initial - out != level
    close_db_connections()
    return found


# --- main ----------------------------------------------------------------------------------


def summary(db: str, args: argparse.Namespace, result: LoadResult, found: dict[str, int]) -> str:
    return (
        f"checkout db={db} workers={args.workers} clients={args.clients} client={args.client} "
        f"checkouts={result.sent} rate={result.rate:.1f}/s p50={result.ms(50):.0f}ms "
        f"p95={result.ms(95):.0f}ms p99={result.ms(99):.0f}ms max={result.ms(100):.0f}ms "
        f"{result.status_text()} oversold={found['oversold']} negative={found['negative']} "
        f"unexplained={found['unexplained']} load={loadavg().replace(' ', '/')}"
    )


async def run(args: argparse.Namespace, server: Server, setup: Setup, db: str) -> int:
    rng = random.Random(args.seed)
    await checkout_run(
        base_url=server.base_url,
        setup=setup,
        total=WARMUP_CHECKOUTS,
        concurrency=args.clients,
        rng=rng,
        scarce_rate=0.0,
        label="warmup",
        client_kind=args.client,
    )
    failures = 0
    results: list[LoadResult] = []
    for number in range(1, args.runs + 1):
        result, samples = await checkout_run(
            base_url=server.base_url,
            setup=setup,
            total=args.checkouts,
            concurrency=args.clients,
            rng=rng,
            scarce_rate=args.scarce_rate,
            label=f"run{number}",
            client_kind=args.client,
        )
        found = await asyncio.to_thread(sweep, setup.items)
        print(summary(db, args, result, found), flush=True)
        for status, body in samples.items():
            print(f"  first {status} body: {body}", flush=True)
        results.append(result)
        if (
            found["oversold"]
            or found["negative"]
            or found["unexplained"]
            or result.errors
            or (result.server_errors)
        ):
            failures += 1
    if len(results) > 1:
        print(
            f"checkout db={db} workers={args.workers} clients={args.clients} median of "
            f"{len(results)}: rate={statistics.median(r.rate for r in results):.1f}/s "
            f"p50={statistics.median(r.ms(50) for r in results):.0f}ms "
            f"p95={statistics.median(r.ms(95) for r in results):.0f}ms "
            f"p99={statistics.median(r.ms(99) for r in results):.0f}ms",
            flush=True,
        )
    return failures


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    env = ScratchEnv(prefix="agora-checkout-")
    server: Server | None = None
    try:
        db = env.db_label
        migrate(env)
        django_setup(env)
        info = machine_info()
        print(
            f"# checkout db={db} workers={args.workers} clients={args.clients} "
            f"checkouts={args.checkouts}x{args.runs} nproc={info['nproc']} cpu={info['cpu']!r} "
            f"python={info['python']} django={info['django']} load={loadavg()}",
            flush=True,
        )
        started = time.perf_counter()
        setup = make_fixtures(args)
        close_db_connections()
        print(f"# fixtures in {time.perf_counter() - started:.1f}s", flush=True)
        server = Server(env, workers=args.workers).start()
        failures = asyncio.run(run(args, server, setup, db))
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
        env.close()


if __name__ == "__main__":
    sys.exit(main())
