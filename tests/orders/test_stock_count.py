"""A stock count sets the level a vendor counted; the difference is a recorded adjustment.

Stock is never overwritten by editing the listing: it moves under concurrent checkouts, and
every change must be a stock movement.
"""

from __future__ import annotations

from typing import Any

from agora.core.audit import audit_trail
from tests.conftest import assert_problem
from tests.orders.helpers import Market, buy, level, movements, ok


def count(market: Market, client: Any, listing_id: int, **body: Any) -> Any:
    return client.post(f"/listings/{listing_id}/stock-count", body)


def test_a_count_sets_the_level_and_records_the_difference(market: Market) -> None:
    buy(market.alice, (market.widget, 2))  # 10 → 8
    before = movements(market.widget)

    counted = ok(count(market, market.as_owner_a, market.widget.pk, level=5))

    assert counted == {"listing_id": market.widget.pk, "variant_id": None, "stock": 5}
    assert level(market.widget) == 5
    assert movements(market.widget) == [*before, ("adjustment", -3, f"user:{market.owner_a.pk}")]
    entry = list(audit_trail(market.widget))[-1]
    assert (entry.action, entry.data["before"], entry.data["level"]) == (
        "listing.stock_counted",
        8,
        5,
    )


def test_a_count_that_matches_records_no_movement(market: Market) -> None:
    before = movements(market.widget)

    ok(count(market, market.as_owner_a, market.widget.pk, level=10))

    assert level(market.widget) == 10
    assert movements(market.widget) == before


def test_a_count_of_a_variant_moves_only_that_variant(market: Market) -> None:
    ok(count(market, market.as_owner_a, market.tyre.pk, variant_id=market.tyre_16.pk, level=9))

    assert (level(market.tyre_16), level(market.tyre_17), level(market.tyre)) == (9, 3, 0)
    assert movements(market.tyre_16)[-1] == ("adjustment", 5, f"user:{market.owner_a.pk}")


def test_a_count_refuses_what_it_cannot_mean(market: Market) -> None:
    url_owner = market.as_owner_a
    assert_problem(count(market, url_owner, market.widget.pk, level=-1), 422, "validation_error")
    # A listing with variants is counted per variant.
    assert_problem(count(market, url_owner, market.tyre.pk, level=3), 422, "validation_error")
    # Another vendor's listing, or a customer: as if it did not exist.
    assert_problem(count(market, market.as_owner_b, market.widget.pk, level=0), 404, "not_found")
    assert_problem(count(market, market.as_alice, market.widget.pk, level=0), 404, "not_found")
    assert level(market.widget) == 10
    assert level(market.tyre_16) == 4


def test_editing_the_listing_cannot_overwrite_its_stock(market: Market) -> None:
    response = market.as_owner_a.patch(f"/listings/{market.widget.pk}", {"stock": 99})

    problem = assert_problem(response, 422, "validation_error")
    assert problem["errors"][0]["loc"] == ["body", "stock"]
    assert "stock-count" in problem["errors"][0]["msg"]
    assert level(market.widget) == 10
