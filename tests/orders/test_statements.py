"""How many SQL statements a multi-vendor checkout costs: 3 vendors, 5 lines, paid at once
with a card, sent as bench/checkout.py sends it (bearer token, Idempotency-Key). The test's
own transaction turns the request's BEGIN/COMMIT into a savepoint pair.

Before the set-based rewrite the same request, counted the same way, cost 87 statements
on SQLite and 84 on PostgreSQL: a look-up of expired reservations per line, a level
re-read after taking stock, an audit INSERT per order, a savepoint + UPDATE + INSERT per
order moved to paid, a re-read of the checkout, its orders, lines, listings and
categories before paying, and an INSERT per payment."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from django.db import connection

from agora.core.models import AuditLog
from agora.orders.models import Checkout, StockMovement, StockReservation, VendorOrder
from agora.payments.models import JournalTransaction, Payment
from tests.factories import ProductFactory, ProductVariantFactory, UserFactory, VendorFactory
from tests.orders.helpers import VISA, client_for, line, post_checkout

pytestmark = pytest.mark.django_db

# The three `order.paid` events cost one INSERT, and on SQLite one UPDATE giving them
# their stream positions (agora.notifications.outbox): 59 and 56 before them.
MAX_STATEMENTS = {"sqlite": 61, "postgresql": 57}


def statements(queries: Any, start: str, table: str = "") -> int:
    return sum(
        1
        for query in queries.captured_queries
        if query["sql"].lstrip().upper().startswith(start) and table in query["sql"]
    )


def test_a_3_vendor_5_line_paid_checkout_costs_a_bounded_number_of_statements(
    now: Any, django_assert_max_num_queries: Any
) -> None:
    vendors = [VendorFactory(owner=UserFactory()) for _ in range(3)]
    first = [
        ProductFactory(vendor=v, price_amount=1000 + i, stock=50) for i, v in enumerate(vendors)
    ]
    second = ProductFactory(vendor=vendors[0], price_amount=999, stock=50)
    tyre = ProductFactory(vendor=vendors[1], price_amount=3999, stock=0)
    size = ProductVariantFactory(listing=tyre, name='16"', price_amount=4500, stock=50)
    customer = client_for(UserFactory())
    items = [line(first[0], 2), line(second), line(first[1]), line(size, 2), line(first[2])]
    # a first checkout creates the ledger accounts of the three vendors
    assert post_checkout(customer, *items, pay=VISA, key="warm").status_code == 201

    with django_assert_max_num_queries(MAX_STATEMENTS[connection.vendor]) as queries:
        response = post_checkout(customer, *items, pay=VISA, key="counted")

    assert response.status_code == 201, response.content
    checkout = Checkout.objects.get(pk=response.json()["id"])
    assert checkout.status == "paid"
    orders = list(VendorOrder.objects.filter(checkout=checkout))
    assert sorted(o.vendor_id for o in orders) == sorted(v.pk for v in vendors)
    assert {o.status for o in orders} == {"paid"}
    assert set(
        StockReservation.objects.filter(checkout=checkout).values_list("status", flat=True)
    ) == {"consumed"}
    assert StockMovement.objects.filter(reference=checkout.reference).count() == 5
    assert Payment.objects.filter(charge_group=checkout.reference).count() == 3
    assert (
        JournalTransaction.objects.filter(
            reference__in=[o.reference for o in orders], kind="capture"
        ).count()
        == 3
    )
    assert (
        AuditLog.objects.filter(
            object_id__in=[str(o.pk) for o in orders], action__in=["order.reserved", "order.paid"]
        ).count()
        == 6
    )
    first[0].refresh_from_db()
    size.refresh_from_db()
    assert (first[0].stock, size.stock) == (50 - 4, 50 - 4)

    # set-based where it counts
    assert statements(queries, "SELECT", "orders_stockreservation") == 1  # expired ones
    assert statements(queries, "UPDATE", "catalog_") == 5  # one conditional UPDATE a line
    assert statements(queries, "SELECT", '"stock" AS "stock"') == 0  # no level re-read
    assert statements(queries, "UPDATE", "orders_vendororder") == 1  # all three → paid
    assert statements(queries, "INSERT", "core_auditlog") == 2  # reserved, paid
    assert statements(queries, "INSERT", "payments_payment") == 1
    assert statements(queries, "INSERT", "notifications_event") == 1  # order.paid × 3
    kinds = Counter(q["sql"].split(None, 1)[0].upper() for q in queries.captured_queries)
    assert kinds["SAVEPOINT"] <= 9, kinds
