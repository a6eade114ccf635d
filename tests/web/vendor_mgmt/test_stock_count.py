"""The stock count form on a product's page: sets the counted level, records the difference."""

from __future__ import annotations

from agora.orders.models import StockMovement
from tests.factories import ProductVariantFactory
from tests.web.vendor_mgmt.conftest import Shop, html


def test_a_count_sets_the_stock_and_records_an_adjustment(shop: Shop) -> None:
    page = html(shop.as_owner.get(f"/vendor/listings/{shop.product.pk}/"))
    assert 'name="count-level"' in page  # the form is on the product's page
    before = shop.product.stock

    response = shop.as_owner.post(
        f"/vendor/listings/{shop.product.pk}/stock-count/", {"count-level": "3"}
    )

    assert response.status_code == 302
    shop.product.refresh_from_db()
    assert shop.product.stock == 3
    movement = StockMovement.objects.get(listing=shop.product, kind="adjustment")
    assert movement.quantity == 3 - before


def test_a_count_of_a_variant_and_a_bad_count(shop: Shop) -> None:
    large = ProductVariantFactory(listing=shop.product, name="Large", stock=8)
    url = f"/vendor/listings/{shop.product.pk}/stock-count/"

    shop.as_owner.post(url, {"count-variant": large.pk, "count-level": "6"})
    refused = shop.as_owner.post(url, {"count-variant": large.pk, "count-level": "-2"})

    large.refresh_from_db()
    assert large.stock == 6
    assert refused.status_code == 422
    assert "greater than or equal to 0" in html(refused)


def test_staff_and_other_vendors_cannot_count(shop: Shop) -> None:
    url = f"/vendor/listings/{shop.product.pk}/stock-count/"
    before = shop.product.stock

    assert shop.as_staff.post(url, {"count-level": "0"}).status_code == 403
    rival = f"/vendor/listings/{shop.rival_listing.pk}/stock-count/"
    assert shop.as_owner.post(rival, {"count-level": "0"}).status_code == 404

    shop.product.refresh_from_db()
    assert shop.product.stock == before
    assert not StockMovement.objects.filter(kind="adjustment").exists()
