"""Fuzzing the write endpoints: whatever JSON arrives, the answer is never a 500.

ARCHITECTURE.md invariant 7: bad input gets a clear error (problem+json with a stable
`code`) and changes nothing. Hypothesis sends each representative write endpoint arbitrary
JSON documents and mutations of a valid body — a field of the wrong type, numbers past
64 bits, control characters, very long strings, deep nesting, unknown fields — with and
without an Idempotency-Key, and every answer must be below 500 and, from 400 on, a
problem document.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agora.core import clock
from agora.core.money import Money
from agora.payments import services as payments
from agora.payments.commission import SaleContext
from tests.bookings.helpers import make_shop
from tests.conftest import token_for
from tests.factories import BookingFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # a Monday; the shop opens at 09:00
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


@dataclass(frozen=True)
class Endpoint:
    path: str
    token: str | None
    valid: dict[str, Any]


@pytest.fixture
def endpoints(db: Any) -> Iterator[dict[str, Endpoint]]:
    """A shop with a held, a paid and a completed booking, a product, an operator, and one
    valid body per endpoint."""
    with clock.frozen(NOW):
        shop = make_shop()
        operator = UserFactory(is_operator=True, is_staff=True)
        product = ProductFactory(vendor=shop.vendor, title="Brake pads")
        held = BookingFactory(listing=shop.listing, customer=shop.customer)
        completed = BookingFactory(
            listing=shop.listing,
            customer=shop.customer,
            status="completed",
            start=datetime(2026, 1, 2, 10, 0, tzinfo=UTC),
        )
        payments.payment_collect(
            reference=f"booking:{completed.pk}",
            amount=Money(completed.price_amount, "GBP"),
            payment_method="pm_card_visa",
            sale=SaleContext(
                vendor_id=shop.vendor.pk,
                vendor_tier=shop.vendor.tier,
                category_path="automotive/mot-servicing",
                listing_id=shop.listing.pk,
            ),
            idempotency_key="fuzz-sale",
        )
        payments.escrow_release(reference=f"booking:{completed.pk}")
        customer = token_for(shop.customer)
        owner = token_for(shop.owner)
        as_operator = token_for(operator)
        address = {
            "name": "Alice",
            "line1": "1 High Street",
            "city": "London",
            "postcode": "N1 1AA",
            "country": "GB",
        }
        money = {"amount": 1000, "currency": "GBP"}
        yield {
            "register": Endpoint(
                "/auth/register",
                None,
                {"email": "fuzz@example.test", "password": "correct-horse-battery", "name": "F"},
            ),
            "vendor": Endpoint(
                "/vendors",
                customer,
                {
                    "name": "Fuzz Garage",
                    "timezone": "Europe/London",
                    "currency": "GBP",
                    "lat": "51.5",
                    "lng": "-0.12",
                    "website": "https://fuzz.example",
                },
            ),
            "listing": Endpoint(
                f"/vendors/{shop.vendor.pk}/listings",
                owner,
                {
                    "kind": "service",
                    "title": "Oil change",
                    "category": "mot-servicing",
                    "price": money,
                    "duration_minutes": 60,
                },
            ),
            "hold": Endpoint(
                "/bookings",
                customer,
                {"listing_id": shop.listing.pk, "start": "2026-01-06T10:00:00+00:00"},
            ),
            "pay": Endpoint(
                f"/bookings/{held.pk}/pay", customer, {"payment_method": "pm_card_visa"}
            ),
            "checkout": Endpoint(
                "/checkout",
                customer,
                {
                    "items": [{"listing_id": product.pk, "quantity": 1}],
                    "shipping_address": address,
                    "payment_method": "pm_card_visa",
                },
            ),
            "refund": Endpoint(
                "/operator/refunds",
                as_operator,
                {"booking_id": completed.pk, "amount": money, "reason": "goodwill"},
            ),
            "payout": Endpoint(f"/vendors/{shop.vendor.pk}/payouts", owner, {"amount": money}),
            "dispute": Endpoint(
                "/operator/disputes",
                as_operator,
                {"booking_id": completed.pk, "amount": money, "reason": "chargeback"},
            ),
            "review": Endpoint(
                "/reviews", customer, {"booking_id": completed.pk, "rating": 5, "text": "Great."}
            ),
        }


# --- what is sent ------------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)
control_text = st.text(
    alphabet=st.characters(categories=["Cc", "Cf", "Zl", "Zp"]), min_size=1, max_size=10
)
awkward_values = st.one_of(
    json_values,
    st.integers(min_value=2**63 - 2, max_value=2**70),
    st.integers(min_value=-(2**70), max_value=-1),
    st.just(0),
    st.sampled_from([True, False, 1.5, -0.0, 1e308, "", "0", "1e400", "NaN", "\x00", "XX"]),
    st.sampled_from(
        [
            "9999-12-31T23:59:59+00:00",
            "9999-12-31T20:00:00-05:00",
            "0001-01-01T00:00:00+05:00",
            "0001-01-01",
            "2026-01-06T10:00:00",
            "javascript:alert(1)",
            "localtime",
        ]
    ),
    control_text,
    st.builds(
        lambda text, n: text * n, st.sampled_from(["x", "é", "\u202e"]), st.integers(1, 30_000)
    ),
    st.integers(2, 200).map(lambda depth: json.loads("[" * depth + "]" * depth)),
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON document a value sits: keys of objects, indexes of arrays."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


def _replace(document: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy: Any = dict(document) if isinstance(document, dict) else list(document)
    copy[path[0]] = _replace(copy[path[0]], path[1:], new)
    return copy


@st.composite
def mutated(draw: st.DrawFn, valid: dict[str, Any]) -> str:
    """A body: arbitrary JSON, the valid body with one value replaced or one field added,
    or raw text that is not JSON or is nested far too deep."""
    kind = draw(st.sampled_from(["arbitrary", "replace", "replace", "add", "raw"]))
    if kind == "arbitrary":
        return json.dumps(draw(json_values))
    if kind == "replace":
        path = draw(st.sampled_from(_paths(valid)))
        return json.dumps(_replace(valid, path, draw(awkward_values)))
    if kind == "add":
        return json.dumps({**valid, draw(st.text(max_size=12)): draw(awkward_values)})
    depth = draw(st.sampled_from([1000, 5000]))
    return draw(
        st.sampled_from(
            [
                "[" * depth + "]" * depth,
                '{"a":' * depth + "1" + "}" * depth,
                json.dumps(valid)[:-1],
                "NaN",
                "\ufeff" + json.dumps(valid),
                "",
            ]
        )
    )


def _post(endpoint: Endpoint, body: str, with_key: bool) -> Any:
    headers = {"Idempotency-Key": uuid.uuid4().hex} if with_key else {}
    if endpoint.token:
        headers["Authorization"] = f"Bearer {endpoint.token}"
    client = Client(raise_request_exception=False)
    return client.post(
        f"/api/v1{endpoint.path}", data=body, content_type="application/json", headers=headers
    )


def _check(response: Any) -> None:
    assert response.status_code < 500, response.content[:2000]
    if response.status_code >= 400:
        assert response["Content-Type"].startswith("application/problem+json"), response.content
        problem = response.json()
        assert problem["status"] == response.status_code
        assert isinstance(problem["code"], str)
        assert problem["code"]


def _fuzz(endpoints: dict[str, Endpoint], name: str) -> Callable[..., None]:
    endpoint = endpoints[name]

    @FUZZ
    @given(body=mutated(endpoint.valid), with_key=st.booleans())
    def run(body: str, with_key: bool) -> None:
        with clock.frozen(NOW):
            _check(_post(endpoint, body, with_key))

    return run


@pytest.mark.parametrize(
    "name",
    [
        "register",
        "vendor",
        "listing",
        "hold",
        "pay",
        "checkout",
        "refund",
        "payout",
        "dispute",
        "review",
    ],
)
def test_no_write_answers_a_500_whatever_the_body(
    endpoints: dict[str, Endpoint], name: str
) -> None:
    # Given a world where the endpoint's valid body would succeed
    # When it receives arbitrary and mutated bodies, with and without an Idempotency-Key
    # Then each answer is a success or a problem document below 500
    _fuzz(endpoints, name)()


@pytest.mark.parametrize("name", ["register", "checkout", "refund", "payout"])
def test_the_valid_bodies_are_valid(endpoints: dict[str, Endpoint], name: str) -> None:
    """The mutations start from bodies that work, so they probe near the real schema."""
    with clock.frozen(NOW):
        response = _post(endpoints[name], json.dumps(endpoints[name].valid), with_key=True)
    assert response.status_code in (200, 201), response.content
