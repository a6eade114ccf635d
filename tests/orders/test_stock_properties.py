"""Random sequences of checkouts, payments, restocks, expiries and cancellations never lose
or invent a unit of stock (ARCHITECTURE.md invariant 2).

A Hypothesis state machine drives the real services on the real database over three items
— a plain product and a variant of vendor A, a plain product of vendor B — and keeps its own
account of every reservation and order. It predicts each outcome (a checkout succeeds
exactly when every line's units are there once the expired reservations of its items are
released; paying after expiry is refused) and after every step checks, per item:

* stock ≥ 0;
* stock == the machine's own account;
* stock == initial + restocked − units of live reservations − units of sold orders, read
  from the database. Units leave stock when reserved (a live reservation, expired or not,
  still holds them until someone releases it); a payment consumes the reservation, so the
  units stay out as sold (paid, accepted, shipped, delivered, completed); a release (expiry,
  the next buyer, cancelling a reserved order) or a return (cancelling a sold order) puts
  them back;
* the sum of the item's StockMovement rows == stock (an 'adjustment' of the initial stock
  is written at the start).

Each example runs in a savepoint that is rolled back afterwards, with agora's clock frozen.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from agora.accounts.models import User
from agora.core import clock
from agora.core.errors import DomainError, InvalidTransition
from agora.orders.errors import OrderError
from agora.orders.models import (
    MovementKind,
    OrderLine,
    OrderStatus,
    ReservationStatus,
    StockMovement,
    StockReservation,
    VendorOrder,
)
from agora.orders.services import checkout as checkout_services
from agora.orders.services import fulfilment, inventory
from agora.orders.stock import ItemKey
from tests.orders.helpers import NOW, Item, Market, buy, key_of, level

ITEMS = ("widget", "tyre_16", "gadget")
SOLD = (
    OrderStatus.PAID,
    OrderStatus.ACCEPTED,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.COMPLETED,
)
HOLD = timedelta(minutes=django_settings.AGORA_STOCK_HOLD_MINUTES)


@dataclass
class Reservation:
    item: str
    quantity: int
    status: str = ReservationStatus.LIVE


@dataclass
class Order:
    pk: int
    vendor: str  # "a" or "b"
    lines: dict[str, int]
    status: str


@dataclass
class Purchase:
    """The machine's account of one checkout."""

    pk: int
    customer: User
    expires_at: datetime
    status: str
    reservations: list[Reservation] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)


def refused(call: Callable[[], Any]) -> DomainError:
    """The domain error `call` raises; an AssertionError (which Hypothesis shrinks, unlike
    pytest.raises' BaseException) when it goes through."""
    try:
        call()
    except DomainError as error:
        return error
    raise AssertionError("expected a refusal, but it went through")


def vendor_of(item: str) -> str:
    return "b" if item == "gadget" else "a"


class StockMachine(RuleBasedStateMachine):
    market: Market  # set by the test

    def __init__(self) -> None:
        super().__init__()
        self._clock = clock.frozen(NOW)
        self._clock.__enter__()
        self._savepoint = transaction.atomic()
        self._savepoint.__enter__()
        m = self.market
        self.items: dict[str, Item] = {"widget": m.widget, "tyre_16": m.tyre_16, "gadget": m.gadget}
        self.owners = {"a": m.owner_a, "b": m.owner_b}
        self.initial = {name: level(item) for name, item in self.items.items()}
        self.stock = dict(self.initial)
        self.restocked: dict[str, int] = defaultdict(int)
        self.purchases: list[Purchase] = []
        self.counter = 0
        StockMovement.objects.bulk_create(
            [
                StockMovement(
                    listing_id=key_of(item).listing_id,
                    variant_id=key_of(item).variant,
                    kind=MovementKind.ADJUSTMENT,
                    quantity=self.initial[name],
                    reference="initial stock",
                )
                for name, item in self.items.items()
            ]
        )

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._savepoint.__exit__(None, None, None)
        self._clock.__exit__(None, None, None)

    # --- the machine's own bookkeeping ----------------------------------------------------

    def _reserved(self) -> list[Purchase]:
        return [p for p in self.purchases if p.status == "reserved"]

    def _orders(self, *statuses: str) -> list[tuple[Purchase, Order]]:
        return [(p, o) for p in self.purchases for o in p.orders if o.status in statuses]

    def _release(self, purchase: Purchase, reservation: Reservation) -> None:
        reservation.status = ReservationStatus.RELEASED
        self.stock[reservation.item] += reservation.quantity

    # --- rules ----------------------------------------------------------------------------

    @rule(
        lines=st.dictionaries(st.sampled_from(ITEMS), st.integers(1, 4), min_size=1, max_size=3),
        pay=st.booleans(),
        customer=st.sampled_from(["alice", "bob"]),
    )
    def check_out(self, lines: dict[str, int], pay: bool, customer: str) -> None:
        now = clock.now()
        # The buyer first releases every expired reservation of the items it asks for.
        expired = [
            (p, r)
            for p in self.purchases
            for r in p.reservations
            if r.item in lines and r.status == ReservationStatus.LIVE and p.expires_at <= now
        ]
        available = dict(self.stock)
        for _, r in expired:
            available[r.item] += r.quantity
        fits = all(available[name] >= quantity for name, quantity in lines.items())
        user = getattr(self.market, customer)
        self.counter += 1
        items = [(self.items[name], quantity) for name, quantity in lines.items()]
        if not fits:
            before = {name: level(item) for name, item in self.items.items()}
            error = refused(
                lambda: buy(
                    user, *items, pay="pm_card_visa" if pay else None, key=f"c{self.counter}"
                )
            )
            assert isinstance(error, OrderError), error
            assert error.code == "out_of_stock", error
            assert {name: level(item) for name, item in self.items.items()} == before
            return
        created = buy(user, *items, pay="pm_card_visa" if pay else None, key=f"c{self.counter}")
        for purchase, reservation in expired:
            self._release(purchase, reservation)
        for name, quantity in lines.items():
            self.stock[name] -= quantity
        purchase = Purchase(
            pk=created.pk,
            customer=user,
            expires_at=now + HOLD,
            status="paid" if pay else "reserved",
            reservations=[
                Reservation(
                    name,
                    quantity,
                    ReservationStatus.CONSUMED if pay else ReservationStatus.LIVE,
                )
                for name, quantity in lines.items()
            ],
        )
        for vendor in sorted({vendor_of(name) for name in lines}):
            order = VendorOrder.objects.get(checkout_id=created.pk, vendor=self._vendor(vendor))
            purchase.orders.append(
                Order(
                    pk=order.pk,
                    vendor=vendor,
                    lines={n: q for n, q in lines.items() if vendor_of(n) == vendor},
                    status=OrderStatus.PAID if pay else OrderStatus.RESERVED,
                )
            )
            assert order.status == purchase.orders[-1].status
        assert created.status == purchase.status
        self.purchases.append(purchase)

    def _vendor(self, vendor: str) -> Any:
        return self.market.vendor_a if vendor == "a" else self.market.vendor_b

    @precondition(lambda self: bool(self._reserved()))
    @rule(data=st.data())
    def pay_a_reserved_checkout(self, data: st.DataObject) -> None:
        purchase = data.draw(st.sampled_from(self._reserved()))
        waiting = [o for o in purchase.orders if o.status == OrderStatus.RESERVED]
        checkout = checkout_services.Checkout.objects.get(pk=purchase.pk)
        self.counter += 1

        def pay() -> Any:
            return checkout_services.checkout_pay(
                customer=purchase.customer,
                checkout=checkout,
                payment_method="pm_card_visa",
                idempotency_key=f"p{self.counter}",
            )

        if clock.now() >= purchase.expires_at:
            error = refused(pay)
            assert error.code == "checkout_expired", error
            return
        if not waiting:  # every order of it was cancelled
            assert isinstance(refused(pay), InvalidTransition)
            return
        pay()
        purchase.status = "paid"
        for order in waiting:
            order.status = OrderStatus.PAID
        for reservation in purchase.reservations:
            if reservation.status == ReservationStatus.LIVE:
                reservation.status = ReservationStatus.CONSUMED

    @rule(item=st.sampled_from(ITEMS), quantity=st.integers(1, 5))
    def restock(self, item: str, quantity: int) -> None:
        target = self.items[item]
        key = key_of(target)
        listing = self.market.tyre if key.variant_id else target
        level_now = inventory.restock(
            actor=self.owners[vendor_of(item)],
            listing=listing,
            variant_id=key.variant,
            quantity=quantity,
        )
        self.stock[item] += quantity
        self.restocked[item] += quantity
        assert level_now == self.stock[item]

    @rule(minutes=st.sampled_from([1, 5, 14, 15, 20]))
    def time_passes(self, minutes: int) -> None:
        clock.advance(timedelta(minutes=minutes))

    @rule()
    def the_sweeper_runs(self) -> None:
        now = clock.now()
        due = [p for p in self._reserved() if p.expires_at <= now]
        assert checkout_services.expire_reservations() == len(due)
        for purchase in due:
            purchase.status = "expired"
            for reservation in purchase.reservations:
                if reservation.status == ReservationStatus.LIVE:
                    self._release(purchase, reservation)
            for order in purchase.orders:
                if order.status == OrderStatus.RESERVED:
                    order.status = OrderStatus.EXPIRED

    @precondition(lambda self: bool(self._orders(OrderStatus.PAID)))
    @rule(data=st.data())
    def the_vendor_accepts(self, data: st.DataObject) -> None:
        _, order = data.draw(st.sampled_from(self._orders(OrderStatus.PAID)))
        fulfilment.order_accept(
            actor=self.owners[order.vendor], order=VendorOrder.objects.get(pk=order.pk)
        )
        order.status = OrderStatus.ACCEPTED

    @precondition(lambda self: bool(self._orders(OrderStatus.PAID, OrderStatus.ACCEPTED)))
    @rule(data=st.data(), by_customer=st.booleans())
    def cancel_a_sold_order(self, data: st.DataObject, by_customer: bool) -> None:
        purchase, order = data.draw(
            st.sampled_from(self._orders(OrderStatus.PAID, OrderStatus.ACCEPTED))
        )
        actor = purchase.customer if by_customer else self.owners[order.vendor]
        row = VendorOrder.objects.get(pk=order.pk)
        if by_customer and order.status == OrderStatus.ACCEPTED:
            error = refused(
                lambda: fulfilment.order_cancel(actor=actor, order=row, by_customer=True)
            )
            assert isinstance(error, InvalidTransition), error
            return
        fulfilment.order_cancel(actor=actor, order=row, by_customer=by_customer)
        order.status = OrderStatus.CANCELLED
        for name, quantity in order.lines.items():
            self.stock[name] += quantity  # returned

    @precondition(lambda self: bool(self._orders(OrderStatus.RESERVED)))
    @rule(data=st.data())
    def the_customer_cancels_a_reserved_order(self, data: st.DataObject) -> None:
        purchase, order = data.draw(st.sampled_from(self._orders(OrderStatus.RESERVED)))
        fulfilment.order_cancel(
            actor=purchase.customer, order=VendorOrder.objects.get(pk=order.pk), by_customer=True
        )
        order.status = OrderStatus.CANCELLED
        for reservation in purchase.reservations:
            if (
                vendor_of(reservation.item) == order.vendor
                and reservation.status == ReservationStatus.LIVE
            ):
                self._release(purchase, reservation)

    # --- invariants -----------------------------------------------------------------------

    @invariant()
    def stock_is_never_negative_and_matches_the_account(self) -> None:
        levels = {name: level(item) for name, item in self.items.items()}
        assert all(value >= 0 for value in levels.values()), levels
        assert levels == self.stock

    @invariant()
    def stock_is_initial_plus_restocks_minus_live_reservations_minus_sold(self) -> None:
        for name, item in self.items.items():
            key = key_of(item)
            live = StockReservation.objects.filter(
                listing_id=key.listing_id, variant_id=key.variant, status=ReservationStatus.LIVE
            ).aggregate(units=Sum("quantity"))["units"]
            sold = OrderLine.objects.filter(
                listing_id=key.listing_id, variant_id=key.variant, order__status__in=SOLD
            ).aggregate(units=Sum("quantity"))["units"]
            expected = self.initial[name] + self.restocked[name] - (live or 0) - (sold or 0)
            assert level(item) == expected, (name, self.initial[name], live, sold)

    @invariant()
    def the_movements_explain_the_stock(self) -> None:
        for name, item in self.items.items():
            key = key_of(item)
            total = StockMovement.objects.filter(
                listing_id=key.listing_id, variant_id=key.variant
            ).aggregate(total=Sum("quantity"))["total"]
            assert total == level(item), name

    @invariant()
    def reservations_and_orders_are_as_accounted(self) -> None:
        expected = {(p.pk, r.item): r.status for p in self.purchases for r in p.reservations}
        names = {key_of(item): name for name, item in self.items.items()}
        found = {
            (checkout_id, names[ItemKey(listing_id, variant_id or 0)]): status
            for checkout_id, listing_id, variant_id, status in StockReservation.objects.values_list(
                "checkout_id", "listing_id", "variant_id", "status"
            )
        }
        assert found == expected
        orders = {o.pk: o.status for p in self.purchases for o in p.orders}
        assert dict(VendorOrder.objects.values_list("pk", "status")) == orders


@pytest.mark.django_db
def test_random_goods_sequences_never_lose_or_invent_stock(market: Market) -> None:
    StockMachine.market = market
    run_state_machine_as_test(
        StockMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
