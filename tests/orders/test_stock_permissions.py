"""Restocking and stock counts are for a vendor's owners and managers, through every door.

The rule lives in the inventory services, so the API and the vendor pages refuse the
`staff` role alike (403) and a refusal changes nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from agora.core.errors import Forbidden, NotFound
from agora.orders.services import inventory
from tests.conftest import assert_problem
from tests.orders.helpers import Market, level, ok, rows
from tests.vendors.helpers import client_for as api_client_for


def restock(client: Any, listing_id: int, **body: Any) -> Any:
    return client.post(f"/listings/{listing_id}/restock", {"quantity": 5, **body})


def count(client: Any, listing_id: int, **body: Any) -> Any:
    return client.post(f"/listings/{listing_id}/stock-count", {"level": 0, **body})


@pytest.mark.parametrize("change", [restock, count])
def test_the_api_refuses_the_staff_role(market: Market, change: Any) -> None:
    # Given a member of vendor A's staff with the `staff` role
    before = rows()

    # When they restock or count a product of their own vendor through the API
    response = change(market.as_staff_a, market.widget.pk)

    # Then they are refused for their role, and no stock moved
    problem = assert_problem(response, 403, "forbidden")
    assert "manager" in problem["detail"]
    assert "owner" in problem["detail"]
    assert rows() == before
    assert level(market.widget) == 10


@pytest.mark.parametrize("change", [restock, count])
def test_the_api_refuses_a_variant_too(market: Market, change: Any) -> None:
    before = rows()

    response = change(market.as_staff_a, market.tyre.pk, variant_id=market.tyre_16.pk)

    assert_problem(response, 403, "forbidden")
    assert rows() == before


def test_owners_and_managers_still_restock_and_count(market: Market) -> None:
    from tests.factories import UserFactory, VendorMembershipFactory

    manager = UserFactory()
    VendorMembershipFactory(vendor=market.vendor_a, user=manager, role="manager")
    as_manager = api_client_for(manager)

    assert ok(restock(as_manager, market.widget.pk))["stock"] == 15
    assert ok(count(market.as_owner_a, market.widget.pk, level=12))["stock"] == 12
    assert level(market.widget) == 12


def test_the_service_itself_refuses_the_staff_role(market: Market) -> None:
    # The pages and the API reach the same rule: here it is, called directly.
    before = rows()

    with pytest.raises(Forbidden):
        inventory.restock(actor=market.staff_a, listing=market.widget, variant_id=None, quantity=1)
    with pytest.raises(Forbidden):
        inventory.stock_count(actor=market.staff_a, listing=market.widget, variant_id=None, level=0)
    # Someone of another vendor: as if the listing did not exist.
    with pytest.raises(NotFound):
        inventory.restock(actor=market.owner_b, listing=market.widget, variant_id=None, quantity=1)

    assert rows() == before


def test_the_pages_refuse_the_staff_role_as_the_api_does(market: Market) -> None:
    page = Client()
    page.force_login(market.staff_a)
    before = rows()

    restocked = page.post(f"/vendor/listings/{market.widget.pk}/restock/", {"quantity": "5"})
    counted = page.post(f"/vendor/listings/{market.widget.pk}/stock-count/", {"count-level": "0"})

    assert (restocked.status_code, counted.status_code) == (403, 403)
    assert rows() == before
