"""Tenant isolation of goods (ARCHITECTURE.md invariant 5): another vendor's staff and
another customer get 404 on every order, checkout, stock and shipping endpoint of vendor A
and Alice — indistinguishable from a missing id — anonymous callers get 401, and none of
these requests changes a row."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from agora.orders.models import Checkout, VendorOrder
from agora.orders.services import fulfilment
from tests.conftest import ApiClient, assert_problem, without_request_id
from tests.orders.helpers import Market, buy, ok, order_of, rows

pytestmark = pytest.mark.django_db

SHIP = {"carrier": "DPD", "tracking_number": "15501234567890"}


@dataclass
class Targets:
    """Alice's paid two-vendor checkout (A's order accepted), her reserved checkout, and A's
    vendor, listing and variant."""

    paid: Checkout
    reserved: Checkout
    order_a: VendorOrder
    order_b: VendorOrder
    delivered: VendorOrder


@pytest.fixture
def targets(market: Market) -> Targets:
    paid = buy(market.alice, (market.widget, 2), (market.gadget, 1), key="paid")
    reserved = buy(market.alice, (market.tyre_16, 1), pay=None, key="reserved")
    order_a = order_of(paid, market.vendor_a)
    delivered = order_of(buy(market.alice, (market.widget, 1), key="other"), market.vendor_a)
    for move in (fulfilment.order_accept, fulfilment.order_deliver):
        if move is fulfilment.order_deliver:
            fulfilment.order_ship(actor=market.owner_a, order=delivered, **SHIP)
        move(actor=market.owner_a, order=delivered)
    return Targets(
        paid=paid,
        reserved=reserved,
        order_a=order_a,
        order_b=order_of(paid, market.vendor_b),
        delivered=delivered,
    )


def endpoints(market: Market, t: Targets) -> list[tuple[str, str, Any]]:
    """(method, path, body) of every goods endpoint that names something of A's or Alice's."""
    order = f"/orders/{t.order_a.pk}"
    return [
        ("get", order, None),
        ("post", f"{order}/accept", None),
        ("post", f"{order}/ship", SHIP),
        ("post", f"{order}/deliver", None),
        ("post", f"{order}/confirm", None),
        ("post", f"/orders/{t.delivered.pk}/confirm", None),
        ("post", f"{order}/cancel", {"reason": "mine now"}),
        ("get", f"/checkout/{t.paid.pk}", None),
        ("get", f"/checkout/{t.reserved.pk}", None),
        ("post", f"/checkout/{t.reserved.pk}/pay", {"payment_method": "pm_card_visa"}),
        ("post", f"/listings/{market.widget.pk}/restock", {"quantity": 5}),
        (
            "post",
            f"/listings/{market.tyre.pk}/restock",
            {"variant_id": market.tyre_16.pk, "quantity": 5},
        ),
        ("post", f"/listings/{market.widget.pk}/stock-count", {"level": 0}),
        ("get", f"/vendors/{market.vendor_a.pk}/low-stock", None),
        ("put", f"/vendors/{market.vendor_a.pk}/shipping-rules", {"rules": [{"kind": "flat"}]}),
    ]


def call(client: ApiClient, method: str, path: str, body: Any) -> Any:
    if method == "get":
        return client.get(path)
    return getattr(client, method)(path, body)


@pytest.mark.parametrize("who", ["vendor_b_owner", "other_customer"])
def test_another_tenant_gets_404_everywhere_and_changes_nothing(
    market: Market, targets: Targets, who: str
) -> None:
    client = market.as_owner_b if who == "vendor_b_owner" else market.as_bob
    before = rows()

    for method, path, body in endpoints(market, targets):
        response = call(client, method, path, body)
        assert response.status_code == 404, (method, path, response.content)
        assert_problem(response, 404, "not_found")

    assert rows() == before


def test_a_missing_id_looks_the_same_as_another_tenants(market: Market, targets: Targets) -> None:
    mine = market.as_bob.get(f"/orders/{targets.order_a.pk}").json()
    missing = market.as_bob.get("/orders/999999").json()
    # the same in every field but the request's own id
    assert without_request_id(mine) == without_request_id(missing)


def test_vendor_b_sees_its_own_part_of_alices_checkout_but_not_a_s(
    market: Market, targets: Targets
) -> None:
    own = ok(market.as_owner_b.get(f"/orders/{targets.order_b.pk}"))
    assert (own["vendor_id"], [i["title"] for i in own["items"]]) == (
        market.vendor_b.pk,
        ["Gadget"],
    )
    listed = ok(market.as_owner_b.get("/orders", **{"as": "vendor"}))["items"]
    assert [o["id"] for o in listed] == [targets.order_b.pk]
    assert_problem(market.as_owner_b.get(f"/orders/{targets.order_a.pk}"), 404, "not_found")


def test_anonymous_callers_get_401_and_change_nothing(
    market: Market, targets: Targets, anon: ApiClient
) -> None:
    before = rows()
    for method, path, body in [
        *endpoints(market, targets),
        ("get", "/orders", None),
        ("get", "/cart", None),
        ("put", "/cart/items", {"listing_id": market.widget.pk, "quantity": 1}),
    ]:
        assert_problem(call(anon, method, path, body), 401, "not_authenticated")
    assert rows() == before


@pytest.mark.parametrize("action", ["accept", "ship", "deliver"])
def test_a_customer_cannot_move_their_own_order_as_vendor(
    market: Market, targets: Targets, action: str
) -> None:
    before = rows()
    response = market.as_alice.post(
        f"/orders/{targets.order_a.pk}/{action}", SHIP if action == "ship" else None
    )
    assert_problem(response, 404, "not_found")
    assert rows() == before


@pytest.mark.parametrize("who", ["owner", "staff"])
def test_a_vendors_staff_cannot_confirm_delivery_as_if_customer(
    market: Market, targets: Targets, who: str
) -> None:
    client = market.as_owner_a if who == "owner" else market.as_staff_a
    before = rows()
    assert_problem(client.post(f"/orders/{targets.delivered.pk}/confirm"), 404, "not_found")
    assert rows() == before
    # ...nor pay or look at the customer's checkout.
    assert_problem(client.get(f"/checkout/{targets.paid.pk}"), 404, "not_found")
    assert_problem(
        client.post(f"/checkout/{targets.reserved.pk}/pay", {"payment_method": "pm_card_visa"}),
        404,
        "not_found",
    )
    assert rows() == before


def test_shipping_rules_need_a_manager_not_plain_staff(market: Market) -> None:
    before = rows()
    assert_problem(
        market.as_staff_a.put(
            f"/vendors/{market.vendor_a.pk}/shipping-rules", {"rules": [{"kind": "flat"}]}
        ),
        403,
        "forbidden",
    )
    assert rows() == before


def test_each_customer_lists_only_their_own_orders(market: Market, targets: Targets) -> None:
    buy(market.bob, (market.gadget, 1), key="bob")

    alice_ids = {o["id"] for o in ok(market.as_alice.get("/orders", limit=100))["items"]}
    bob_orders = ok(market.as_bob.get("/orders"))["items"]

    assert alice_ids == set(
        VendorOrder.objects.filter(customer=market.alice).values_list("id", flat=True)
    )
    assert [o["customer_id"] for o in bob_orders] == [market.bob.pk]
    assert not alice_ids & {o["id"] for o in bob_orders}
    assert ok(market.as_bob.get("/cart")) == {"items": []}
