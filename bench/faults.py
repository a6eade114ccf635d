"""Faults as a benchmark: kill and restart the moving parts under load, then prove nothing
was lost or doubled.

    .venv/bin/python bench/faults.py                          # its own PostgreSQL cluster
    .venv/bin/python bench/faults.py --clients 16 --duration 60 --workers 2 --seed 7

What it does:

1. A throwaway PostgreSQL cluster of its own (tests/pgcluster.py: initdb, a free
   127.0.0.1 port, database "agora"), because it restarts the server — it never uses
   DATABASE_URL. AGORA_VAR_DIR is a temporary directory; holds and stock reservations last
   one minute (AGORA_HOLD_MINUTES=1, AGORA_STOCK_HOLD_MINUTES=1) so that the expiry timers
   fire during the campaign. `agora migrate`, then a small marketplace through the
   services: two vendors open every day 08:00-20:00, three one-seat services and a
   three-seat workshop, three scarce products, and --clients customers with bearer tokens.
2. `agora serve --workers N` and `agora worker`, each in its own process group.
3. --clients closed-loop clients for --duration seconds, each as its own customer: hold a
   slot and pay for it, hold and walk away, check out and pay at once, or reserve and pay
   later (or never). Every write carries an Idempotency-Key; a request that gets no answer
   (a connection reset) or 502/503/504 is sent again with the same key, backing off up to
   --retry-for seconds, as a careful client would.
4. While they run: at 20 % of the duration `kill -9` one server worker (uvicorn starts a
   new one), at 40 % `pg_ctl restart -m fast`, at 60 % `kill -9` the task worker and start
   it again five seconds later.
5. Then it waits until the last hold and reservation made is past its expiry by
   SWEEP_GRACE (one periodic sweep and a timer bucket), and sweeps the database:
   * no bookings beyond capacity: per capacity unit, the peak of seats taken at once by
     live bookings (blocked spans, held ones only while unexpired) against its capacity;
   * no oversold stock: per product, stock never below zero and initial = stock + units
     sold + units in live reservations;
   * every confirmed payment captured exactly once: each paid booking and paid order has
     one payment row and one capture posting, each paid checkout one gateway charge
     captured once for its total; nothing unpaid has a payment; no gateway charge without
     a sale;
   * the ledger sums to zero: no unbalanced journal transaction, a zero trial balance;
   * reconciliation balanced: gateway, ledger and sales agree on every charge
     (payments.selectors.reconciliation);
   * no holds stuck past expiry after the worker came back: no held booking, reserved
     checkout or live stock reservation past its expiry by more than SWEEP_GRACE;
   * acknowledged writes kept: every hold, payment and checkout a client was told
     succeeded is in the database as told;
   * no internal errors: no 500 answer at any point.
6. A report with counts and PASS/FAIL per invariant; exit status 1 if any failed. The
   server, the worker and the cluster are always stopped and the directories removed.

Not part of `make test`; its figures are in bench/RESULTS.md ("Fault campaign").
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

from common import (
    REPO,
    Fixtures,
    ScratchEnv,
    Server,
    agora_command,
    close_db_connections,
    django_setup,
    http_client,
    loadavg,
    machine_info,
    migrate,
)

from tests import pgcluster

# A hold past its expiry is expired by a timer (a bucket of HOLD_BUCKET_SECONDS) or, as the
# safety net, by the minutely sweep: this long after its expiry it is stuck.
SWEEP_GRACE = timedelta(seconds=75)
SCARCE_STOCK = 150
ADDRESS = {
    "name": "Fault Tester",
    "line1": "1 Crash Street",
    "city": "London",
    "postcode": "E1 6AN",
    "country": "GB",
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (16)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (60)")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes (2)")
    parser.add_argument("--days", type=int, default=14, help="days of slots to book (14)")
    parser.add_argument(
        "--retry-for", type=float, default=30.0, help="seconds a client keeps retrying (30)"
    )
    parser.add_argument("--seed", type=int, default=None, help="random seed")
    return parser.parse_args(argv)


# --- the moving parts ------------------------------------------------------------------------


def _as_postgres() -> list[str]:
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def pg_restart(cluster: pgcluster.PostgresCluster) -> float:
    """`pg_ctl restart -m fast` (clients disconnected, as a routine restart does); seconds."""
    started = time.monotonic()
    subprocess.run(
        [
            *_as_postgres(),
            str(cluster.bindir / "pg_ctl"),
            "-D",
            str(cluster.datadir),
            "-l",
            str(cluster.logfile),
            "-m",
            "fast",
            "-w",
            "-t",
            "60",
            "restart",
        ],
        check=True,
        capture_output=True,
        timeout=90,
    )
    return time.monotonic() - started


class TaskWorker:
    """`agora worker` in its own process group, its output in a log file."""

    def __init__(self, env: ScratchEnv) -> None:
        self.env = env
        self.log_path = env.dir / "worker.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                agora_command("worker", "--interval", "0.2", "--schedule-every", "1"),
                env={**self.env.env, "LOG_LEVEL": "INFO"},  # its outage and recovery lines
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.starts += 1

    def kill(self) -> int:
        assert self.proc is not None
        pid = self.proc.pid
        os.killpg(pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        return pid

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


# --- the marketplace -------------------------------------------------------------------------


@dataclass
class Product:
    listing_id: int
    initial: int


@dataclass
class Campaign:
    services: list[int]
    products: list[Product]
    tokens: list[str]
    slots: dict[int, list[str]] = field(default_factory=dict)


def make_fixtures(clients: int) -> Campaign:
    from agora.catalog.services import listing_create
    from agora.core.money import Money

    fx = Fixtures()
    operator = fx.operator()
    services: list[int] = []
    products: list[Product] = []
    plan = [
        ("Camden Motors", [("Full service", 1), ("MOT", 1)], ["Brake pads", "Wiper set"]),
        ("Bow Garage", [("Brake check", 1), ("Workshop class", 3)], ["Oil 5W-30"]),
    ]
    for name, offered, goods in plan:
        owner, vendor = fx.active_vendor(operator=operator, name=f"{name} {fx.tag}")
        fx.schedule(owner=owner, vendor=vendor)
        for title, capacity in offered:
            services.append(
                fx.service(owner=owner, vendor=vendor, title=title, capacity=capacity).pk
            )
        for title in goods:
            listing = listing_create(
                actor=owner,
                vendor=vendor,
                kind="product",
                title=title,
                category="tools-supplies",
                price=Money(1999, "GBP"),
                stock=SCARCE_STOCK,
                weight_grams=300,
            )
            products.append(Product(listing.pk, SCARCE_STOCK))
    tokens = [customer.token for customer in fx.customers(clients)]
    return Campaign(services=services, products=products, tokens=tokens)


async def fetch_slots(base_url: str, campaign: Campaign, days: int) -> None:
    start = datetime.now(UTC) + timedelta(hours=2)
    async with http_client(4) as client:
        for listing_id in campaign.services:
            response = await client.get(
                f"{base_url}/api/v1/listings/{listing_id}/slots",
                params={
                    "from": start.isoformat(),
                    "to": (start + timedelta(days=days)).isoformat(),
                },
            )
            response.raise_for_status()
            campaign.slots[listing_id] = [slot["start"] for slot in response.json()["slots"]]


# --- the load --------------------------------------------------------------------------------


@dataclass
class Tally:
    """What the clients did and were told."""

    statuses: Counter[str] = field(default_factory=Counter)  # "hold 201", "pay 200", ...
    resent: Counter[str] = field(default_factory=Counter)  # why a request was sent again
    gave_up: int = 0
    internal_errors: list[str] = field(default_factory=list)
    held: set[int] = field(default_factory=set)  # bookings a client was told it holds
    paid: set[int] = field(default_factory=set)  # bookings a client was told are paid
    checkouts_paid: set[int] = field(default_factory=set)
    checkouts_reserved: set[int] = field(default_factory=set)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())


RESEND_STATUSES = {502, 503, 504}


async def call(
    client: Any,
    tally: Tally,
    action: str,
    method: str,
    url: str,
    *,
    token: str,
    body: dict[str, Any] | None,
    retry_for: float,
) -> tuple[int, Any]:
    """Send a write with one Idempotency-Key until it is answered (not 502/503/504), or
    `retry_for` seconds have passed; (0, None) when it never was."""
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex}
    deadline = time.monotonic() + retry_for
    pause = 0.2
    while True:
        try:
            response = await client.request(method, url, json=body, headers=headers)
        except Exception as error:  # every failure to get an answer is counted and resent
            reason = type(error).__name__
        else:
            if response.status_code not in RESEND_STATUSES:
                code = f" {_code(response)}" if response.status_code >= 400 else ""
                tally.statuses[f"{action} {response.status_code}{code}"] += 1
                if response.status_code >= 500:
                    tally.internal_errors.append(f"{action}: {response.text[:200]}")
                try:
                    return response.status_code, response.json()
                except ValueError:
                    return response.status_code, None
            reason = f"{response.status_code} {_code(response)}"
        tally.resent[f"{action}: {reason}"] += 1
        if time.monotonic() + pause > deadline:
            tally.gave_up += 1
            return 0, None
        await asyncio.sleep(pause)
        pause = min(pause * 2, 2.0)


def _code(response: Any) -> str:
    try:
        return str(response.json().get("code", ""))
    except ValueError:
        return ""


async def customer(
    index: int,
    *,
    base_url: str,
    campaign: Campaign,
    tally: Tally,
    stop_at: float,
    rng: random.Random,
    retry_for: float,
) -> None:
    token = campaign.tokens[index]
    api = f"{base_url}/api/v1"

    async def send(action: str, method: str, path: str, body: dict[str, Any] | None) -> Any:
        return await call(
            client,
            tally,
            action,
            method,
            f"{api}{path}",
            token=token,
            body=body,
            retry_for=retry_for,
        )

    async with http_client(1, timeout=30) as client:
        while time.monotonic() < stop_at:
            roll = rng.random()
            if roll < 0.6:  # a booking: hold, then (mostly) pay
                listing_id = rng.choice(campaign.services)
                start = rng.choice(campaign.slots[listing_id])
                status, body = await send(
                    "hold", "POST", "/bookings", {"listing_id": listing_id, "start": start}
                )
                if status == 201:
                    tally.held.add(body["id"])
                    if roll < 0.48:
                        status, paid = await send(
                            "pay",
                            "POST",
                            f"/bookings/{body['id']}/pay",
                            {"payment_method": "pm_card_visa"},
                        )
                        if status == 200:
                            tally.paid.add(paid["id"])
            else:  # goods: check out and pay, or reserve and pay later (or never)
                lines = [
                    {"listing_id": product.listing_id, "quantity": rng.randint(1, 2)}
                    for product in rng.sample(campaign.products, rng.randint(1, 2))
                ]
                pay_now = roll < 0.85
                order: dict[str, Any] = {"items": lines, "shipping_address": ADDRESS}
                if pay_now:
                    order["payment_method"] = "pm_card_visa"
                status, body = await send("checkout", "POST", "/checkout", order)
                if status == 201 and body["status"] == "paid":
                    tally.checkouts_paid.add(body["id"])
                elif status == 201:
                    tally.checkouts_reserved.add(body["id"])
                    if rng.random() < 0.5:
                        await asyncio.sleep(rng.uniform(0.1, 1.0))
                        status, paid = await send(
                            "checkout-pay",
                            "POST",
                            f"/checkout/{body['id']}/pay",
                            {"payment_method": "pm_card_visa"},
                        )
                        if status == 200:
                            tally.checkouts_paid.add(paid["id"])
                            tally.checkouts_reserved.discard(paid["id"])
            await asyncio.sleep(rng.uniform(0, 0.05))


# --- the faults ------------------------------------------------------------------------------


@dataclass
class FaultLog:
    lines: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def note(self, at: float, text: str) -> None:
        line = f"fault  t={at:5.1f}s  {text}"
        self.lines.append(line)
        print(line, flush=True)


async def inflict(
    *,
    started: float,
    duration: float,
    server: Server,
    worker: TaskWorker,
    cluster: pgcluster.PostgresCluster,
    log: FaultLog,
) -> None:
    def now() -> float:
        return time.monotonic() - started

    async def at(fraction: float) -> None:
        await asyncio.sleep(max(0.0, started + duration * fraction - time.monotonic()))

    # 1. a server worker dies without warning; uvicorn's supervisor starts another
    await at(0.2)
    before = server.worker_pids()
    victim = random.choice(before)
    os.kill(victim, signal.SIGKILL)
    killed_at = now()
    respawned = None
    while now() - killed_at < 30:
        pids = server.worker_pids()
        if len(pids) >= len(before) and victim not in pids:
            respawned = now() - killed_at
            break
        await asyncio.sleep(0.1)
    if respawned is None:
        log.failures.append("the killed server worker was not replaced within 30 s")
        log.note(killed_at, f"kill -9 server worker {victim} -> NOT replaced within 30 s")
    else:
        log.note(killed_at, f"kill -9 server worker {victim} -> replaced in {respawned:.1f} s")

    # 2. PostgreSQL restarts under everyone's connections
    await at(0.4)
    restart_at = now()
    took = await asyncio.to_thread(pg_restart, cluster)
    log.note(restart_at, f"pg_ctl restart -m fast -> accepting connections in {took:.1f} s")

    # 3. the task worker dies without warning, and is started again
    await at(0.6)
    pid = worker.kill()
    log.note(now(), f"kill -9 task worker {pid}")
    await asyncio.sleep(5)
    worker.start()
    assert worker.proc is not None
    log.note(now(), f"agora worker started again (pid {worker.proc.pid})")


async def campaign_run(
    args: argparse.Namespace,
    *,
    server: Server,
    worker: TaskWorker,
    cluster: pgcluster.PostgresCluster,
    campaign: Campaign,
) -> tuple[Tally, FaultLog, float]:
    rng = random.Random(args.seed)
    tally, log = Tally(), FaultLog()
    started = time.monotonic()
    stop_at = started + args.duration
    faults = asyncio.create_task(
        inflict(
            started=started,
            duration=args.duration,
            server=server,
            worker=worker,
            cluster=cluster,
            log=log,
        )
    )
    await asyncio.gather(
        *(
            customer(
                k,
                base_url=server.base_url,
                campaign=campaign,
                tally=tally,
                stop_at=stop_at,
                rng=random.Random(rng.random()),
                retry_for=args.retry_for,
            )
            for k in range(args.clients)
        )
    )
    await faults
    return tally, log, time.monotonic() - started


# --- the sweep -------------------------------------------------------------------------------


@dataclass
class Verdict:
    name: str
    passed: bool
    detail: str


def wait_for_expiries(worker: TaskWorker) -> float:
    """Until the last hold and reservation is past its expiry by SWEEP_GRACE; seconds."""
    from django.db.models import Max

    from agora.bookings.models import Booking
    from agora.orders.models import Checkout

    last = max(
        filter(
            None,
            [
                Booking.objects.aggregate(at=Max("hold_expires_at"))["at"],
                Checkout.objects.aggregate(at=Max("expires_at"))["at"],
            ],
        ),
        default=datetime.now(UTC),
    )
    close_db_connections()
    started = time.monotonic()
    wait = (last + SWEEP_GRACE - datetime.now(UTC)).total_seconds()
    print(
        f"sweep  waiting {max(wait, 0):.0f} s for the last expiry + {SWEEP_GRACE.seconds} s",
        flush=True,
    )
    while time.monotonic() - started < wait:
        time.sleep(min(5.0, max(0.1, wait - (time.monotonic() - started))))
        if not worker.alive:
            print("sweep  the task worker is not running!", flush=True)
    return time.monotonic() - started


def capacity_verdict() -> Verdict:
    from agora.bookings.models import OCCUPYING_STATUSES, Booking, BookingStatus, CapacityUnit

    now = datetime.now(UTC)
    capacity = {
        unit.pk: (unit.resource.capacity if unit.resource else unit.listing.capacity)
        for unit in CapacityUnit.objects.select_related("listing", "resource")
    }
    events: dict[int, list[tuple[datetime, int]]] = {}
    live = 0
    for unit_id, status, expires, start, end, seats in Booking.objects.filter(
        status__in=OCCUPYING_STATUSES
    ).values_list("unit_id", "status", "hold_expires_at", "blocked_from", "blocked_until", "seats"):
        if status == BookingStatus.HELD and (expires is None or expires <= now):
            continue
        live += 1
        events.setdefault(unit_id, []).extend([(start, seats), (end, -seats)])
    over = 0
    peaks = []
    for unit_id, changes in events.items():
        taken = peak = 0
        for _, change in sorted(changes, key=lambda e: (e[0], e[1])):  # ends before starts
            taken += change
            peak = max(peak, taken)
        peaks.append(f"{peak}/{capacity[unit_id]}")
        over += peak > capacity[unit_id]
    return Verdict(
        "no bookings beyond capacity",
        over == 0,
        f"units={len(capacity)} live bookings={live} peak/capacity per unit="
        f"{' '.join(peaks) or '-'} over capacity={over}",
    )


def stock_verdict(products: list[Product]) -> Verdict:
    from django.db.models import Sum

    from agora.catalog.models import Listing
    from agora.orders.models import OrderLine, OrderStatus, ReservationStatus, StockReservation

    sold_statuses = [
        OrderStatus.PAID,
        OrderStatus.ACCEPTED,
        OrderStatus.SHIPPED,
        OrderStatus.DELIVERED,
        OrderStatus.COMPLETED,
    ]

    def units(queryset: Any) -> dict[int, int]:
        rows = queryset.values("listing_id").annotate(units=Sum("quantity")).order_by()
        return {row["listing_id"]: int(row["units"]) for row in rows}

    sold = units(OrderLine.objects.filter(order__status__in=sold_statuses))
    reserved = units(StockReservation.objects.filter(status=ReservationStatus.LIVE))
    levels = dict(Listing.objects.values_list("pk", "stock"))
    negative = oversold = unexplained = 0
    for product in products:
        level, out = levels[product.listing_id], sold.get(product.listing_id, 0)
        out += reserved.get(product.listing_id, 0)
        negative += level < 0
        oversold += max(0, out - product.initial)
        unexplained += product.initial - out != level
    total_sold = sum(sold.get(p.listing_id, 0) for p in products)
    return Verdict(
        "no oversold stock",
        negative == oversold == unexplained == 0,
        f"products={len(products)} initial={sum(p.initial for p in products)} sold={total_sold} "
        f"left={sum(levels[p.listing_id] for p in products)} negative={negative} "
        f"oversold={oversold} unexplained={unexplained}",
    )


def payments_verdict() -> Verdict:
    from agora.bookings.models import Booking
    from agora.orders.models import Checkout, CheckoutStatus, VendorOrder
    from agora.payments.models import (
        JournalTransaction,
        Payment,
        SandboxCharge,
        SandboxOperation,
        TransactionKind,
    )

    payments = {p.reference: p for p in Payment.objects.all()}
    captures = Counter(
        JournalTransaction.objects.filter(kind=TransactionKind.CAPTURE).values_list(
            "reference", flat=True
        )
    )
    charges = {c.charge_id: c for c in SandboxCharge.objects.all()}
    capture_ops = Counter(
        SandboxOperation.objects.filter(kind="capture").values_list("charge__charge_id", flat=True)
    )
    problems: list[str] = []

    def sale(reference: str, paid: bool) -> None:
        if not paid:
            if reference in payments or captures[reference]:
                problems.append(f"{reference}: not paid, yet has a payment")
            return
        if reference not in payments:
            problems.append(f"{reference}: paid, no payment row")
        if captures[reference] != 1:
            problems.append(f"{reference}: {captures[reference]} capture postings")

    bookings = list(Booking.objects.values_list("pk", "paid_at"))
    for pk, paid_at in bookings:
        sale(f"booking:{pk}", paid_at is not None)
    orders = list(VendorOrder.objects.values_list("pk", "paid_at"))
    for pk, paid_at in orders:
        sale(f"order:{pk}", paid_at is not None)
    paid_checkouts = 0
    for checkout in Checkout.objects.filter(status=CheckoutStatus.PAID):
        paid_checkouts += 1
        parts = [p for p in payments.values() if p.charge_group == checkout.reference]
        ids = {p.charge_id for p in parts}
        if len(ids) != 1:
            problems.append(f"{checkout.reference}: {len(ids)} gateway charges")
            continue
        charge = charges.get(ids.pop())
        total = sum(p.gross_amount for p in parts)
        if charge is None or charge.captured_amount != total or checkout.total_amount != total:
            problems.append(f"{checkout.reference}: charge does not match the sale")
        elif capture_ops[charge.charge_id] != 1:
            problems.append(f"{checkout.reference}: {capture_ops[charge.charge_id]} captures")
    sold_charges = {p.charge_id for p in payments.values()}
    for charge_id, charge in charges.items():
        if charge.captured_amount and charge_id not in sold_charges:
            problems.append(f"gateway charge {charge_id}: captured with no sale")
    paid_bookings = sum(1 for _, paid_at in bookings if paid_at is not None)
    paid_orders = sum(1 for _, paid_at in orders if paid_at is not None)
    return Verdict(
        "every confirmed payment captured exactly once",
        not problems,
        f"paid bookings={paid_bookings}/{len(bookings)} paid orders={paid_orders}/{len(orders)} "
        f"paid checkouts={paid_checkouts} payments={len(payments)} gateway charges="
        f"{len(charges)} problems={len(problems)}"
        + (f" first: {problems[:3]}" if problems else ""),
    )


def ledger_verdict() -> Verdict:
    from agora.payments import ledger
    from agora.payments.models import JournalTransaction

    unbalanced = ledger.unbalanced_transactions()
    trial = ledger.trial_balance()
    return Verdict(
        "ledger sums to zero",
        not unbalanced and all(total == 0 for total in trial.values()),
        f"journal transactions={JournalTransaction.objects.count()} unbalanced={len(unbalanced)} "
        f"trial balance={trial}",
    )


def reconciliation_verdict() -> Verdict:
    from agora.payments.gateway import get_gateway
    from agora.payments.selectors import reconciliation

    report = reconciliation(gateway=get_gateway())
    balanced = all(currency.balanced for currency in report.currencies)
    sums = " ".join(
        f"{c.currency}: gateway={c.gateway.net} ledger={c.ledger.net} sales={c.payments.net}"
        for c in report.currencies
    )
    return Verdict(
        "reconciliation balanced",
        balanced and not report.differences,
        f"{sums} differences={len(report.differences)}",
    )


def stuck_verdict(waited: float, worker: TaskWorker) -> Verdict:
    from agora.bookings.models import Booking, BookingStatus
    from agora.orders.models import Checkout, CheckoutStatus, ReservationStatus, StockReservation

    cutoff = datetime.now(UTC) - SWEEP_GRACE
    held = Booking.objects.filter(status=BookingStatus.HELD, hold_expires_at__lte=cutoff).count()
    reserved = Checkout.objects.filter(
        status=CheckoutStatus.RESERVED, expires_at__lte=cutoff
    ).count()
    live = StockReservation.objects.filter(
        status=ReservationStatus.LIVE, expires_at__lte=cutoff
    ).count()
    expired = Booking.objects.filter(status=BookingStatus.EXPIRED).count()
    expired_checkouts = Checkout.objects.filter(status=CheckoutStatus.EXPIRED).count()
    return Verdict(
        "no holds stuck past expiry after the worker came back",
        held == reserved == live == 0 and worker.alive,
        f"waited {waited:.0f} s; stuck: held bookings={held} reserved checkouts={reserved} "
        f"live reservations={live}; expired by the worker: holds={expired} "
        f"checkouts={expired_checkouts}; worker running={worker.alive} (started "
        f"{worker.starts}x)",
    )


def acknowledged_verdict(tally: Tally) -> Verdict:
    from agora.bookings.models import Booking
    from agora.orders.models import Checkout, CheckoutStatus

    bookings = dict(Booking.objects.filter(pk__in=tally.held).values_list("pk", "paid_at"))
    lost_holds = len(tally.held - bookings.keys())
    lost_payments = sum(1 for pk in tally.paid if bookings.get(pk) is None)
    statuses = dict(
        Checkout.objects.filter(pk__in=tally.checkouts_paid | tally.checkouts_reserved).values_list(
            "pk", "status"
        )
    )
    lost_checkouts = sum(
        1 for pk in tally.checkouts_paid if statuses.get(pk) != CheckoutStatus.PAID
    ) + len(tally.checkouts_reserved - statuses.keys())
    return Verdict(
        "acknowledged writes kept",
        lost_holds == lost_payments == lost_checkouts == 0,
        f"holds={len(tally.held)} payments={len(tally.paid)} checkouts paid="
        f"{len(tally.checkouts_paid)} reserved={len(tally.checkouts_reserved)}; lost: "
        f"holds={lost_holds} payments={lost_payments} checkouts={lost_checkouts}",
    )


def sweep(
    campaign: Campaign, tally: Tally, worker: TaskWorker, waited: float, faults: FaultLog
) -> list[Verdict]:
    checks: list[Callable[[], Verdict]] = [
        capacity_verdict,
        lambda: stock_verdict(campaign.products),
        payments_verdict,
        ledger_verdict,
        reconciliation_verdict,
        lambda: stuck_verdict(waited, worker),
        lambda: acknowledged_verdict(tally),
    ]
    verdicts = [check() for check in checks]
    verdicts.append(
        Verdict(
            "no internal errors (500)",
            not tally.internal_errors,
            f"500 answers={len(tally.internal_errors)}"
            + (f" first: {tally.internal_errors[0]}" if tally.internal_errors else ""),
        )
    )
    if faults.failures:
        verdicts.append(Verdict("every fault recovered", False, "; ".join(faults.failures)))
    close_db_connections()
    return verdicts


# --- main ------------------------------------------------------------------------------------


def report(tally: Tally, elapsed: float, verdicts: list[Verdict]) -> None:
    answered = ", ".join(f"{key}={n}" for key, n in sorted(tally.statuses.items()))
    resent = ", ".join(f"{key}={n}" for key, n in tally.resent.most_common())
    print(f"load   {tally.requests} answered in {elapsed:.0f} s: {answered}", flush=True)
    print(
        f"load   sent again: {sum(tally.resent.values())} ({resent or '-'}); "
        f"gave up: {tally.gave_up}",
        flush=True,
    )
    width = max(len(v.name) for v in verdicts)
    for verdict in verdicts:
        mark = "PASS" if verdict.passed else "FAIL"
        print(f"{mark}   {verdict.name:<{width}}  {verdict.detail}", flush=True)
    passed = sum(v.passed for v in verdicts)
    print(
        f"RESULT {'PASS' if passed == len(verdicts) else 'FAIL'} "
        f"({passed}/{len(verdicts)} invariants hold)",
        flush=True,
    )


def error_kinds(log_path: Path) -> str:
    """How many tracebacks a log holds, by the exception that ended each (the last of a
    chain: "During handling ..." and "The above exception ..." continue one)."""
    kinds: Counter[str] = Counter()
    lines = log_path.read_text(errors="replace").splitlines() if log_path.exists() else []
    pending: str | None = None
    in_traceback = False
    for line in lines:
        if not line.strip():
            continue
        if line.startswith(("During handling", "The above exception")):
            pending = None
            continue
        if pending is not None:
            kinds[pending] += 1
            pending = None
        if line.startswith("Traceback"):
            in_traceback = True
        elif in_traceback and not line.startswith((" ", "\t")):
            pending, in_traceback = line.split(":", 1)[0], False
    if pending is not None:
        kinds[pending] += 1
    if not kinds:
        return "0 tracebacks"
    listed = ", ".join(f"{kind} x{n}" for kind, n in kinds.most_common())
    return f"{sum(kinds.values())} tracebacks ({listed})"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    bindir = pgcluster.find_bindir()
    if bindir is None:
        print("faults: PostgreSQL's server binaries (initdb, pg_ctl) were not found", flush=True)
        return 2
    with pgcluster.running_cluster(bindir) as cluster:
        env = ScratchEnv(
            prefix="agora-faults-",
            extra={
                "DATABASE_URL": cluster.url,
                "AGORA_HOLD_MINUTES": "1",
                "AGORA_STOCK_HOLD_MINUTES": "1",
                "LOG_LEVEL": "WARNING",
            },
        )
        server: Server | None = None
        worker = TaskWorker(env)
        try:
            migrate(env)
            django_setup(env)
            info = machine_info()
            print(
                f"# faults db=postgresql workers={args.workers} clients={args.clients} "
                f"duration={args.duration:.0f}s nproc={info['nproc']} cpu={info['cpu']!r} "
                f"python={info['python']} django={info['django']} load={loadavg()} "
                f"date={datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
                flush=True,
            )
            campaign = make_fixtures(args.clients)
            close_db_connections()
            worker.start()
            server = Server(env, workers=args.workers).start()
            asyncio.run(fetch_slots(server.base_url, campaign, args.days))
            print(
                f"# marketplace: {len(campaign.services)} services "
                f"({sum(len(s) for s in campaign.slots.values())} slots over {args.days} days), "
                f"{len(campaign.products)} products of {SCARCE_STOCK} units, "
                f"{len(campaign.tokens)} customers",
                flush=True,
            )
            tally, faults, elapsed = asyncio.run(
                campaign_run(args, server=server, worker=worker, cluster=cluster, campaign=campaign)
            )
            waited = wait_for_expiries(worker)
            verdicts = sweep(campaign, tally, worker, waited, faults)
            report(tally, elapsed, verdicts)
            worker_log = worker.log_path.read_text(errors="replace")
            print(
                f"# server log: {error_kinds(server.log_path)}; worker log: "
                f"{worker_log.count('database unavailable')} 'database unavailable', "
                f"{worker_log.count('database is back')} 'database is back', "
                f"{error_kinds(worker.log_path)}; load={loadavg()}",
                flush=True,
            )
            return 0 if all(v.passed for v in verdicts) else 1
        finally:
            if server is not None:
                server.stop()
            worker.stop()
            close_db_connections()
            env.close()


if __name__ == "__main__":
    sys.exit(main())
