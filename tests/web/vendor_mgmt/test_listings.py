"""/vendor/listings/: the list, creating and editing with attribute forms generated from the
category's JSON Schema, publishing, images, variants, restocking and resources."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from agora.bookings.models import Resource, ResourceAssignment
from agora.catalog.models import Listing, ListingImage, ProductVariant
from agora.core.models import AuditLog
from agora.orders.models import StockMovement
from tests.factories import ListingFactory, ListingImageFactory, ProductVariantFactory
from tests.vendors.helpers import png_bytes
from tests.web.vendor_mgmt.conftest import Shop, html

pytestmark = pytest.mark.django_db


def field_errors(page: str, name: str) -> list[str]:
    """The error messages Django renders for field `name` (its errorlist)."""
    match = re.search(rf'<ul class="errorlist" id="id_{name}_error">(.*?)</ul>', page, re.S)
    if match is None:
        return []
    return [
        unescape(re.sub(r"<[^>]+>", "", item)).strip()
        for item in re.findall(r"<li>(.*?)</li>", match[1], re.S)
    ]


def service_form(**overrides: Any) -> dict[str, Any]:
    data = {
        "kind": "service",
        "title": "MOT class 4",
        "description": "Includes a free re-test.",
        "category": "mot-servicing",
        "price": "54.85",
        "status": "active",
        "duration_minutes": "60",
        "capacity": "2",
        "attr__mot_class": '"4"',
        "attr__includes_mot": "true",
        "attr__vehicle_types": ['"car"', '"van"'],
    }
    data.update(overrides)
    return data


# --- list ---------------------------------------------------------------------------------------


def test_list_shows_only_this_vendors_listings(shop: Shop) -> None:
    response = shop.as_owner.get("/vendor/listings/")

    assert response.status_code == 200
    page = html(response)
    assert "<h1>Listings</h1>" in page
    assert "Full service" in page
    assert "120.00 GBP" in page
    assert "Wiper blades" in page
    assert "Rival MOT" not in page
    assert 'href="/vendor/listings/new/"' in page


def test_list_filters_by_status(shop: Shop) -> None:
    ListingFactory(vendor=shop.vendor, title="Hidden draft", status="draft")

    page = html(shop.as_owner.get("/vendor/listings/?status=draft"))

    assert "Hidden draft" in page
    assert "Full service" not in page


def test_unknown_status_filter_is_a_clear_error(shop: Shop) -> None:
    response = shop.as_owner.get("/vendor/listings/?status=deleted")

    assert response.status_code == 422
    assert "status must be active, draft or archived" in html(response)


def test_list_query_count_does_not_grow(shop: Shop, django_assert_max_num_queries: Any) -> None:
    for n in range(15):
        listing = ListingFactory(vendor=shop.vendor, title=f"Extra {n}")
        ListingImageFactory(listing=listing)
        ProductVariantFactory(listing=ProductVariantFactory().listing)
    ProductVariantFactory(listing=shop.product, name="Large")

    # + 1: the header's notification bell (one COUNT of unread notifications)
    with django_assert_max_num_queries(14 + 1):
        response = shop.as_owner.get("/vendor/listings/")

    assert response.status_code == 200
    assert len(re.findall(r">Extra \d+</a>", html(response))) == 15


def test_list_pages_with_a_cursor(shop: Shop) -> None:
    for n in range(30):
        ListingFactory(vendor=shop.vendor, title=f"Item {n:02d}")

    first = html(shop.as_owner.get("/vendor/listings/"))
    cursor = re.search(r'cursor=([^"&]+)"', first)
    assert cursor is not None
    second = html(shop.as_owner.get(f"/vendor/listings/?cursor={cursor[1]}"))

    titles = set(re.findall(r">(Item \d\d)<", first)) | set(re.findall(r">(Item \d\d)<", second))
    assert len(titles) == 30


# --- create -------------------------------------------------------------------------------------


def test_new_listing_form_has_inputs_generated_from_the_schema(shop: Shop) -> None:
    page = html(shop.as_owner.get("/vendor/listings/new/?category=mot-servicing"))

    # mot-servicing's own properties and the inherited automotive one, each labelled
    assert '<label for="id_attr__mot_class">Mot class:</label>' in page
    assert '<select name="attr__mot_class"' in page
    assert '<option value="&quot;7&quot;">7</option>' in page
    assert '<label for="id_attr__includes_mot">Includes mot:</label>' in page
    assert 'value="true">Yes</option>' in page
    assert 'name="attr__vehicle_types" value="&quot;ev&quot;"' in page
    assert 'type="checkbox"' in page
    assert 'hx-get="/vendor/listings/attributes/"' in page


def test_integer_and_string_properties_get_matching_inputs(shop: Shop) -> None:
    page = html(shop.as_owner.get("/vendor/listings/new/?category=auto-parts"))

    assert '<input type="text" name="attr__part_number"' in page
    assert "Up to 64 characters." in page
    assert "Condition (required)" in page
    repairs = html(shop.as_owner.get("/vendor/listings/new/?category=car-repairs"))
    assert '<input type="number" name="attr__warranty_months"' in repairs
    assert "From 0 to 60." in repairs


def test_attribute_fields_partial_for_htmx(shop: Shop) -> None:
    response = shop.as_owner.get("/vendor/listings/attributes/?category=tyres")

    assert response.status_code == 200
    page = html(response)
    assert "attr__rim_size_inches" in page
    assert "<html" not in page


def test_create_a_service_with_attributes(shop: Shop) -> None:
    response = shop.as_manager.post("/vendor/listings/new/", service_form())

    listing = Listing.objects.get(title="MOT class 4")
    assert response.status_code == 302
    assert response["Location"] == f"/vendor/listings/{listing.pk}/"
    assert listing.vendor == shop.vendor
    assert (listing.kind, listing.status, listing.price_amount, listing.currency) == (
        "service",
        "active",
        5485,
        "GBP",
    )
    assert (listing.duration_minutes, listing.capacity) == (60, 2)
    assert listing.attributes == {
        "mot_class": "4",
        "includes_mot": True,
        "vehicle_types": ["car", "van"],
    }
    assert AuditLog.objects.filter(action="listing.created", actor=shop.manager).count() == 1


def test_create_goods_with_stock(shop: Shop) -> None:
    shop.as_owner.post(
        "/vendor/listings/new/",
        {
            "kind": "product",
            "title": "Brake pads",
            "category": "auto-parts",
            "price": "39",
            "status": "draft",
            "stock": "12",
            "sku": "BP-1",
            "weight_grams": "900",
            "attr__condition": '"new"',
            "attr__part_number": "  BP-1  ",
        },
    )

    listing = Listing.objects.get(title="Brake pads")
    assert (listing.kind, listing.status, listing.stock, listing.sku, listing.weight_grams) == (
        "product",
        "draft",
        12,
        "BP-1",
        900,
    )
    assert listing.price_amount == 3900
    assert listing.duration_minutes is None
    assert listing.attributes == {"condition": "new", "part_number": "BP-1"}


def test_create_a_quote_job(shop: Shop) -> None:
    shop.as_owner.post(
        "/vendor/listings/new/",
        {
            "kind": "quote",
            "title": "Rewire a house",
            "category": "electricians",
            "price": "800",
            "status": "active",
            "attr__emergency_callout": "false",
            "attr__certifications": "NICEIC, Part P",
        },
    )

    listing = Listing.objects.get(title="Rewire a house")
    assert listing.kind == "quote"
    assert listing.attributes == {
        "emergency_callout": False,
        "certifications": ["NICEIC", "Part P"],
    }


def test_missing_required_attribute_is_refused_next_to_its_field(shop: Shop) -> None:
    before = Listing.objects.count()

    response = shop.as_owner.post(
        "/vendor/listings/new/",
        {
            "kind": "product",
            "title": "Clutch",
            "category": "auto-parts",
            "price": "120",
            "status": "active",
            "stock": "1",
        },
    )

    assert response.status_code == 422
    page = html(response)
    assert field_errors(page, "attr__condition") == ["'condition' is a required property"]
    assert Listing.objects.count() == before


def test_schema_bounds_are_refused_with_the_schemas_message(shop: Shop) -> None:
    response = shop.as_owner.post(
        "/vendor/listings/new/",
        service_form(category="car-repairs", attr__warranty_months="99", title="Brakes"),
    )

    assert response.status_code == 422
    assert field_errors(html(response), "attr__warranty_months") == [
        "99 is greater than the maximum of 60"
    ]
    assert not Listing.objects.filter(title="Brakes").exists()


def test_too_long_string_attribute_is_refused(shop: Shop) -> None:
    response = shop.as_owner.post(
        "/vendor/listings/new/",
        {
            "kind": "product",
            "title": "Part",
            "category": "auto-parts",
            "price": "1",
            "status": "active",
            "attr__condition": '"new"',
            "attr__part_number": "X" * 65,
        },
    )

    assert response.status_code == 422
    assert field_errors(html(response), "attr__part_number") == [f"'{'X' * 65}' is too long"]


def test_form_level_errors_are_shown_too(shop: Shop) -> None:
    response = shop.as_owner.post(
        "/vendor/listings/new/", service_form(duration_minutes="", title="No duration", price="-1")
    )

    assert response.status_code == 422
    page = html(response)
    assert field_errors(page, "price") == ["Ensure this value is greater than or equal to 0."]
    assert not Listing.objects.filter(title="No duration").exists()


def test_a_service_without_duration_gets_the_services_message(shop: Shop) -> None:
    response = shop.as_owner.post("/vendor/listings/new/", service_form(duration_minutes=""))

    assert response.status_code == 422
    assert field_errors(html(response), "duration_minutes") == [
        "a service needs a duration in minutes"
    ]


def test_enum_value_outside_the_choices_is_refused(shop: Shop) -> None:
    response = shop.as_owner.post("/vendor/listings/new/", service_form(attr__mot_class='"9"'))

    assert response.status_code == 422
    assert field_errors(html(response), "attr__mot_class") == [
        'Select a valid choice. "9" is not one of the available choices.'
    ]


def test_refresh_redraws_for_another_category_without_saving(shop: Shop) -> None:
    response = shop.as_owner.post(
        "/vendor/listings/new/", {**service_form(category="tyres"), "refresh": "1"}
    )

    assert response.status_code == 200
    page = html(response)
    assert "attr__rim_size_inches" in page
    assert "attr__mot_class" not in page
    assert 'value="MOT class 4"' in page
    assert 'class="errorlist"' not in page
    assert not Listing.objects.filter(title="MOT class 4").exists()


# --- edit -----------------------------------------------------------------------------------------


def test_edit_page_shows_the_listing_with_its_attributes(shop: Shop) -> None:
    shop.service.attributes = {"mot_class": "5", "includes_mot": False}
    shop.service.save()

    page = html(shop.as_owner.get(f"/vendor/listings/{shop.service.pk}/"))

    assert "<h1>Full service" in page
    assert '<option value="&quot;5&quot;" selected>5</option>' in page
    assert '<option value="false" selected>No</option>' in page
    assert 'value="120.00"' in page
    assert "Save changes" in page


def test_edit_saves_changes_through_the_catalogue_service(shop: Shop) -> None:
    data = service_form(title="Full service plus", price="130.50", status="draft", capacity="3")

    response = shop.as_owner.post(f"/vendor/listings/{shop.service.pk}/", data)

    assert response.status_code == 302
    shop.service.refresh_from_db()
    assert (shop.service.title, shop.service.price_amount, shop.service.status) == (
        "Full service plus",
        13_050,
        "draft",
    )
    assert shop.service.capacity == 3
    assert shop.service.attributes == {
        "mot_class": "4",
        "includes_mot": True,
        "vehicle_types": ["car", "van"],
    }
    assert AuditLog.objects.filter(
        action="listing.updated", object_id=str(shop.service.pk)
    ).exists()


def test_edit_with_an_invalid_attribute_changes_nothing(shop: Shop) -> None:
    data = service_form(category="car-repairs", attr__warranty_months="-2", title="Changed")

    response = shop.as_owner.post(f"/vendor/listings/{shop.service.pk}/", data)

    assert response.status_code == 422
    assert field_errors(html(response), "attr__warranty_months") == [
        "-2 is less than the minimum of 0"
    ]
    shop.service.refresh_from_db()
    assert shop.service.title == "Full service"
    assert shop.service.category.slug == "mot-servicing"


def test_editing_goods_does_not_overwrite_stock(shop: Shop) -> None:
    response = shop.as_owner.post(
        f"/vendor/listings/{shop.product.pk}/",
        {
            "title": "Wiper blades (pair)",
            "category": "tools-supplies",
            "price": "15",
            "status": "active",
            "stock": "999",
            "sku": "WB",
        },
    )

    assert response.status_code == 302
    shop.product.refresh_from_db()
    assert (shop.product.title, shop.product.sku, shop.product.stock) == (
        "Wiper blades (pair)",
        "WB",
        4,
    )


def test_publish_unpublish_and_archive(shop: Shop) -> None:
    url = f"/vendor/listings/{shop.service.pk}/status/"

    shop.as_owner.post(url, {"status": "draft"})
    shop.service.refresh_from_db()
    assert shop.service.status == "draft"
    response = shop.as_owner.post(url, {"status": "active", "next": "list"})
    assert response["Location"] == "/vendor/listings/"
    shop.service.refresh_from_db()
    assert shop.service.status == "active"
    shop.as_owner.post(url, {"status": "archived"})
    shop.service.refresh_from_db()
    assert shop.service.status == "archived"
    assert shop.as_owner.post(url, {"status": "gone"}).status_code == 422


# --- images, variants, stock, resource ------------------------------------------------------


def test_upload_and_remove_an_image(shop: Shop) -> None:
    upload = SimpleUploadedFile("front.png", png_bytes((800, 600)), content_type="image/png")

    response = shop.as_owner.post(
        f"/vendor/listings/{shop.service.pk}/images/", {"file": upload, "alt": "The workshop"}
    )

    assert response.status_code == 302
    image = ListingImage.objects.get(listing=shop.service)
    assert (image.alt, image.width, image.height) == ("The workshop", 800, 600)
    page = html(shop.as_owner.get(f"/vendor/listings/{shop.service.pk}/"))
    assert 'alt="The workshop"' in page

    shop.as_owner.post(f"/vendor/listings/{shop.service.pk}/images/{image.pk}/delete/")
    assert not ListingImage.objects.filter(listing=shop.service).exists()


def test_a_file_that_is_not_an_image_is_refused(shop: Shop) -> None:
    upload = SimpleUploadedFile("notes.png", b"not an image at all", content_type="image/png")

    response = shop.as_owner.post(f"/vendor/listings/{shop.service.pk}/images/", {"file": upload})

    assert response.status_code == 422
    assert "Upload a valid image" in html(response)
    assert not ListingImage.objects.exists()


def test_another_listings_image_id_is_not_found(shop: Shop) -> None:
    other = ListingImageFactory(listing=shop.rival_listing)

    response = shop.as_owner.post(f"/vendor/listings/{shop.service.pk}/images/{other.pk}/delete/")

    assert response.status_code == 404
    assert ListingImage.objects.filter(pk=other.pk).exists()


def test_add_a_variant_and_restock_it(shop: Shop) -> None:
    response = shop.as_owner.post(
        f"/vendor/listings/{shop.product.pk}/variants/",
        {"name": "Large", "sku": "WB-L", "price": "18.00", "stock": "2"},
    )
    assert response.status_code == 302
    variant = ProductVariant.objects.get(listing=shop.product)
    assert (variant.name, variant.price_amount, variant.stock) == ("Large", 1800, 2)

    shop.as_owner.post(
        f"/vendor/listings/{shop.product.pk}/restock/", {"variant": variant.pk, "quantity": "5"}
    )

    variant.refresh_from_db()
    assert variant.stock == 7
    movement = StockMovement.objects.get(listing=shop.product, kind="restock")
    assert (movement.variant_id, movement.quantity) == (variant.pk, 5)
    assert "18.00 GBP" in html(shop.as_owner.get(f"/vendor/listings/{shop.product.pk}/"))


def test_restock_without_variants_and_bad_quantity(shop: Shop) -> None:
    shop.as_owner.post(f"/vendor/listings/{shop.product.pk}/restock/", {"quantity": "6"})
    shop.product.refresh_from_db()
    assert shop.product.stock == 10

    response = shop.as_owner.post(f"/vendor/listings/{shop.product.pk}/restock/", {"quantity": "0"})

    assert response.status_code == 422
    assert field_errors(html(response), "quantity") == [
        "Ensure this value is greater than or equal to 1."
    ]
    shop.product.refresh_from_db()
    assert shop.product.stock == 10


def test_variants_belong_to_goods_only(shop: Shop) -> None:
    response = shop.as_owner.post(
        f"/vendor/listings/{shop.service.pk}/variants/", {"name": "X", "stock": "1"}
    )

    assert response.status_code == 422
    assert "only products have variants" in html(response)
    assert not ProductVariant.objects.exists()


def test_assign_a_shared_resource(shop: Shop) -> None:
    bay = Resource.objects.create(vendor=shop.vendor, name="Bay 1", capacity=2)
    rival_bay = Resource.objects.create(vendor=shop.rival, name="Rival bay", capacity=1)
    url = f"/vendor/listings/{shop.service.pk}/resource/"

    shop.as_owner.post(url, {"resource": bay.pk})
    assert ResourceAssignment.objects.get(listing=shop.service).resource == bay

    refused = shop.as_owner.post(url, {"resource": rival_bay.pk})
    assert refused.status_code == 422
    assert ResourceAssignment.objects.get(listing=shop.service).resource == bay

    shop.as_owner.post(url, {"resource": ""})
    assert not ResourceAssignment.objects.filter(listing=shop.service).exists()


def test_edit_page_query_count(shop: Shop, django_assert_max_num_queries: Any) -> None:
    for _ in range(5):
        ListingImageFactory(listing=shop.product)
        ProductVariantFactory(listing=shop.product)

    # + 1: the header's notification bell (one COUNT of unread notifications)
    with django_assert_max_num_queries(16 + 1):
        response = shop.as_owner.get(f"/vendor/listings/{shop.product.pk}/")

    assert response.status_code == 200
