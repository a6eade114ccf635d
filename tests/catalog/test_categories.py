"""The category tree with inherited attribute schemas, and cities. API.md "Catalog"."""

from __future__ import annotations

from typing import Any

import pytest

from agora.catalog.models import Category
from agora.catalog.seed.tree import CATEGORIES, CITIES
from agora.core.audit import audit_trail
from tests.conftest import ApiClient, assert_problem
from tests.factories import UserFactory, VendorFactory
from tests.vendors.helpers import client_for, error_locs, snapshot

pytestmark = pytest.mark.django_db

VEHICLE_TYPES = {
    "type": "array",
    "items": {"enum": ["car", "van", "motorbike", "ev"]},
    "uniqueItems": True,
}


def by_slug(categories: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {category["slug"]: category for category in categories}


def test_the_seeded_tree_is_listed_root_first_with_effective_schemas(anon: ApiClient) -> None:
    response = anon.get("/categories")

    assert response.status_code == 200
    categories = response.json()
    # every seeded category, each after its parent (ordered by path)
    assert sorted(c["slug"] for c in categories) == sorted(c["slug"] for c in CATEGORIES)
    paths = [c["path"] for c in categories]
    assert paths == sorted(paths)
    tree = by_slug(categories)
    assert {slug: c["parent"] for slug, c in tree.items()} == {
        spec["slug"]: spec["parent"] for spec in CATEGORIES
    }

    # auto-parts has its own required `condition` and inherits `vehicle_types`
    auto_parts = tree["auto-parts"]
    assert auto_parts["path"] == "automotive/auto-parts"
    assert auto_parts["attribute_schema"] == {
        "type": "object",
        "properties": {
            "vehicle_types": VEHICLE_TYPES,
            "part_number": {"type": "string", "maxLength": 64},
            "condition": {"enum": ["new", "refurbished", "used"]},
        },
        "required": ["condition"],
    }
    assert auto_parts["own_attribute_schema"] == {
        "properties": {
            "part_number": {"type": "string", "maxLength": 64},
            "condition": {"enum": ["new", "refurbished", "used"]},
        },
        "required": ["condition"],
    }
    # a root's effective schema is its own
    assert tree["automotive"]["attribute_schema"] == {
        "type": "object",
        "properties": {"vehicle_types": VEHICLE_TYPES},
    }
    assert tree["automotive"]["parent"] is None
    # siblings do not see each other's properties
    assert set(tree["mot-servicing"]["attribute_schema"]["properties"]) == {
        "vehicle_types",
        "mot_class",
        "includes_mot",
    }
    assert set(tree["plumbers"]["attribute_schema"]["properties"]) == {
        "insured",
        "gas_safe_registered",
        "emergency_callout",
    }


def test_the_category_list_takes_a_fixed_number_of_queries(
    anon: ApiClient, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(1):
        assert len(anon.get("/categories").json()) == len(CATEGORIES)


def test_an_operator_adds_a_subcategory_whose_schema_inherits(
    as_operator: ApiClient, anon: ApiClient, operator_user: Any
) -> None:
    # When an operator adds a grandchild under automotive/auto-parts
    response = as_operator.post(
        "/operator/categories",
        {
            "slug": "ev-batteries",
            "name": "EV batteries",
            "parent": "auto-parts",
            "attribute_schema": {
                "properties": {"capacity_kwh": {"type": "number", "minimum": 0}},
                "required": ["capacity_kwh"],
            },
        },
    )

    # Then it is created with its path, and its effective schema merges all three levels
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["slug"], body["parent"], body["path"]) == (
        "ev-batteries",
        "auto-parts",
        "automotive/auto-parts/ev-batteries",
    )
    assert body["attribute_schema"]["required"] == ["capacity_kwh", "condition"]
    assert set(body["attribute_schema"]["properties"]) == {
        "vehicle_types",
        "part_number",
        "condition",
        "capacity_kwh",
    }
    # and the public tree shows it the same way
    assert by_slug(anon.get("/categories").json())["ev-batteries"] == body
    category = Category.objects.get(slug="ev-batteries")
    [entry] = audit_trail(category)
    assert (entry.action, entry.actor_id) == ("category.created", operator_user.pk)


def test_a_listing_in_the_new_subcategory_obeys_the_inherited_schema(
    as_operator: ApiClient,
) -> None:
    as_operator.post(
        "/operator/categories",
        {"slug": "ev-batteries", "name": "EV batteries", "parent": "auto-parts"},
    )
    owner = UserFactory()
    vendor = VendorFactory(owner=owner)
    listing = {
        "kind": "product",
        "title": "Leaf battery",
        "category": "ev-batteries",
        "price": {"amount": 250000, "currency": "GBP"},
        "stock": 1,
    }

    missing = client_for(owner).post(f"/vendors/{vendor.pk}/listings", listing)
    ok = client_for(owner).post(
        f"/vendors/{vendor.pk}/listings",
        {**listing, "attributes": {"condition": "refurbished", "vehicle_types": ["ev"]}},
    )

    body = assert_problem(missing, 422, "validation_error")
    assert body["errors"] == [
        {
            "loc": ["body", "attributes"],
            "msg": "'condition' is a required property",
            "type": "required",
        }
    ]
    assert ok.status_code == 201, ok.content


@pytest.mark.parametrize(
    ("payload", "loc"),
    [
        ({"attribute_schema": {"type": "nope"}}, ["body", "attribute_schema", "type"]),
        (
            {"attribute_schema": {"properties": {"size": {"type": 12}}}},
            ["body", "attribute_schema", "properties", "size", "type"],
        ),
        ({"attribute_schema": {"type": "string"}}, ["body", "attribute_schema", "type"]),
        (
            {"attribute_schema": {"properties": {"x": {"type": "string", "pattern": "("}}}},
            ["body", "attribute_schema", "properties", "x", "pattern"],
        ),
        (
            {"attribute_schema": {"properties": {"x": {"$ref": "#/$defs/missing"}}}},
            ["body", "attribute_schema", "properties", "x", "$ref"],
        ),
        ({"parent": "no-such-category"}, ["body", "parent"]),
        ({"slug": "Not A Slug"}, ["body", "payload", "slug"]),
        ({"name": ""}, ["body", "payload", "name"]),
        ({"path": "x/y"}, ["body", "payload", "path"]),
    ],
    ids=lambda value: str(value),
)
def test_a_bad_category_is_422_with_the_field_path_and_creates_nothing(
    as_operator: ApiClient, payload: dict[str, Any], loc: list[str]
) -> None:
    before = snapshot(Category)

    response = as_operator.post(
        "/operator/categories", {"slug": "gadgets", "name": "Gadgets", **payload}
    )

    body = assert_problem(response, 422, "validation_error")
    assert error_locs(body) == [loc]
    assert snapshot(Category) == before


def test_a_duplicate_slug_is_409(as_operator: ApiClient) -> None:
    before = snapshot(Category)

    response = as_operator.post(
        "/operator/categories", {"slug": "tyres", "name": "Tyres again", "parent": "home-services"}
    )

    assert_problem(response, 409, "slug_taken")
    assert snapshot(Category) == before


def test_only_operators_manage_categories(as_user: ApiClient, anon: ApiClient) -> None:
    before = snapshot(Category)
    create = {"slug": "gadgets", "name": "Gadgets"}

    assert_problem(as_user.post("/operator/categories", create), 403, "forbidden")
    assert_problem(anon.post("/operator/categories", create), 401, "not_authenticated")
    assert_problem(as_user.patch("/operator/categories/tyres", {"name": "X"}), 403, "forbidden")

    assert snapshot(Category) == before


def test_an_operator_edits_a_categorys_schema_and_children_inherit_it(
    as_operator: ApiClient, anon: ApiClient
) -> None:
    response = as_operator.patch(
        "/operator/categories/home-services",
        {"attribute_schema": {"properties": {"insured": {"type": "boolean"}}, "required": []}},
    )
    assert response.status_code == 200, response.content

    bad = as_operator.patch("/operator/categories/home-services", {"attribute_schema": []})
    missing = as_operator.patch("/operator/categories/nope", {"name": "Nope"})

    assert_problem(bad, 422, "validation_error")
    assert_problem(missing, 404, "not_found")
    cleaning = by_slug(anon.get("/categories").json())["cleaning"]["attribute_schema"]
    assert set(cleaning["properties"]) == {"insured", "eco_products", "max_bedrooms"}


def test_cities_are_listed_by_name(anon: ApiClient) -> None:
    response = anon.get("/cities")

    assert response.status_code == 200
    assert response.json() == sorted(
        (
            {
                "slug": spec["slug"],
                "name": spec["name"],
                "country": spec["country"],
                "lat": float(spec["lat"]),
                "lng": float(spec["lng"]),
                "timezone": spec["timezone"],
            }
            for spec in CITIES
        ),
        key=lambda city: city["name"],
    )


def test_an_operator_adds_a_city(as_operator: ApiClient, as_user: ApiClient) -> None:
    city = {
        "slug": "perth",
        "name": "Perth",
        "country": "au",
        "lat": "-31.950500",
        "lng": "115.860500",
        "timezone": "Australia/Perth",
    }

    created = as_operator.post("/operator/cities", city)
    duplicate = as_operator.post("/operator/cities", city)
    bad_zone = as_operator.post(
        "/operator/cities", {**city, "slug": "x", "timezone": "Mars/Olympus"}
    )
    not_operator = as_user.post("/operator/cities", {**city, "slug": "y"})

    assert created.status_code == 201, created.content
    assert created.json()["country"] == "AU"
    assert_problem(duplicate, 409, "slug_taken")
    assert error_locs(assert_problem(bad_zone, 422, "validation_error")) == [["body", "timezone"]]
    assert_problem(not_operator, 403, "forbidden")
    assert [c["slug"] for c in ApiClient().get("/cities").json()].count("perth") == 1
