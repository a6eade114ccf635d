"""Tenant isolation of the payments API (ARCHITECTURE.md invariant 5).

Every payments endpoint is called with vendor A's ids by vendor B's owner, a customer, an
anonymous client and — where a manager or an operator is needed — A's own `staff` member
and owner. Vendor endpoints answer 404 / 404 / 401 (403 for a staff member without the
role); operator endpoints 403 to everyone signed in who is not an operator and 401 to the
anonymous; and no money row, audit row or stored idempotency key changes.

The last test reads the API's routes: a new payments endpoint fails it until it is here.
(tests/vendors/test_isolation.py owns the vendors and catalogue routes only.)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from agora.api import api
from agora.payments import services
from tests.conftest import ApiClient, assert_problem
from tests.payments.market import Market, make_market, money, money_rows

pytestmark = pytest.mark.django_db

ANY_STAFF = "any staff"
MANAGER = "manager"
OPERATOR = "operator"


@dataclass
class World:
    market: Market
    ids: dict[str, int]


@pytest.fixture
def world(db: Any) -> World:
    market = make_market()
    market.released(1)
    market.sell(2)
    dispute = services.dispute_open(
        reference="booking:2",
        amount=None,
        reason="fraudulent",
        actor=market.operator,
        idempotency_key="world-dispute",
    )
    market.as_owner.post(
        f"/vendors/{market.vendor.pk}/payouts", {"amount": money(10_00)}, idempotency_key="p0"
    )
    rule = services.commission_rule_create(actor=market.operator, name="World", percent_bp=300)
    return World(
        market,
        {"vendor_id": market.vendor.pk, "dispute_id": dispute.pk, "rule_id": rule.pk},
    )


@dataclass(frozen=True)
class Case:
    method: str
    route: str
    needs: str
    body: Callable[[], Any] | None = None
    query: dict[str, str] | None = None

    @property
    def name(self) -> str:
        suffix = f"?{next(iter(self.query))}" if self.query else ""
        return f"{self.method} {self.route}{suffix}"

    def call(self, client: ApiClient, world: World) -> Any:
        path = re.sub(r"\{(\w+)\}", lambda m: str(world.ids[m.group(1)]), self.route)
        if self.method == "GET":
            return client.get(path, **(self.query or {}))
        send = getattr(client, self.method.lower())
        return send(path, self.body() if self.body else None)


CASES = [
    Case("GET", "/vendors/{vendor_id}/balance", ANY_STAFF),
    Case("GET", "/vendors/{vendor_id}/payouts", ANY_STAFF),
    Case("POST", "/vendors/{vendor_id}/payouts", MANAGER, lambda: {"amount": money(1_00)}),
    Case(
        "PUT",
        "/vendors/{vendor_id}/payout-settings",
        MANAGER,
        lambda: {"schedule": "daily", "minimum_amount": 1},
    ),
    Case("GET", "/vendors/{vendor_id}/statement", ANY_STAFF),
    Case("GET", "/vendors/{vendor_id}/statement", ANY_STAFF, query={"format": "csv"}),
    Case("GET", "/vendors/{vendor_id}/statement.csv", ANY_STAFF),
    Case(
        "POST",
        "/operator/refunds",
        OPERATOR,
        lambda: {"booking_id": 1, "amount": money(1_00), "reason": "x"},
    ),
    Case("GET", "/operator/ledger/balances", OPERATOR),
    Case("GET", "/operator/commission-rules", OPERATOR),
    Case("POST", "/operator/commission-rules", OPERATOR, lambda: {"name": "x", "percent_bp": 9}),
    Case("PATCH", "/operator/commission-rules/{rule_id}", OPERATOR, lambda: {"percent_bp": 1}),
    Case(
        "POST",
        "/operator/disputes",
        OPERATOR,
        lambda: {"booking_id": 1, "amount": money(1_00), "reason": "x"},
    ),
    Case("GET", "/operator/disputes", OPERATOR),
    Case("GET", "/operator/disputes/{dispute_id}", OPERATOR),
    Case("POST", "/operator/disputes/{dispute_id}/evidence", OPERATOR, lambda: {"text": "x"}),
    Case("POST", "/operator/disputes/{dispute_id}/decide", OPERATOR, lambda: {"outcome": "lost"}),
    Case("GET", "/operator/reconciliation", OPERATOR),
]

EXPECTED: dict[str, dict[str, tuple[int, str]]] = {
    ANY_STAFF: {
        "rival": (404, "not_found"),
        "customer": (404, "not_found"),
        "anonymous": (401, "not_authenticated"),
    },
    MANAGER: {
        "rival": (404, "not_found"),
        "customer": (404, "not_found"),
        "staff": (403, "forbidden"),
        "anonymous": (401, "not_authenticated"),
    },
    OPERATOR: {
        "rival": (403, "forbidden"),
        "customer": (403, "forbidden"),
        "staff": (403, "forbidden"),
        "owner": (403, "forbidden"),
        "anonymous": (401, "not_authenticated"),
    },
}
CLIENTS = {
    "rival": "as_rival",
    "customer": "as_customer",
    "staff": "as_staff",
    "owner": "as_owner",
    "anonymous": "anonymous",
}


def matrix() -> list[Any]:
    return [
        pytest.param(case, caller, status, code, id=f"{case.name} as {caller}")
        for case in CASES
        for caller, (status, code) in EXPECTED[case.needs].items()
    ]


@pytest.mark.parametrize(("case", "caller", "status", "code"), matrix())
def test_outsiders_cannot_reach_or_move_vendor_a_money(
    world: World, case: Case, caller: str, status: int, code: str
) -> None:
    # Given A's money in every state, and a caller not entitled to it
    client = getattr(world.market, CLIENTS[caller])
    before = money_rows()

    # When they call the endpoint with A's ids
    response = case.call(client, world)

    # Then they get the tenant-blind refusal, and no money, audit or key row changed
    assert_problem(response, status, code)
    assert money_rows() == before


def test_the_same_requests_succeed_for_those_entitled(world: World) -> None:
    market = world.market
    for case in CASES:
        client = market.as_operator if case.needs == OPERATOR else market.as_owner
        response = case.call(client, world)
        assert response.status_code in (200, 201), (case.name, response.content)


def test_vendor_b_owner_sees_only_b_money_on_b_own_routes(world: World) -> None:
    market = world.market
    rival = market.as_rival

    body = rival.get(f"/vendors/{market.rival.pk}/balance").json()
    statement = rival.get(f"/vendors/{market.rival.pk}/statement").json()
    payouts = rival.get(f"/vendors/{market.rival.pk}/payouts").json()

    assert {key: body[key]["amount"] for key in ("pending", "available", "paid_out")} == {
        "pending": 0,
        "available": 0,
        "paid_out": 0,
    }
    assert (statement["items"], payouts) == ([], [])


# --- no payments endpoint escapes the matrix ---------------------------------------------------


def payments_routes() -> set[str]:
    schema = api.get_openapi_schema(path_prefix="")
    return {
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if operation["operationId"].startswith("agora_payments_api_")
    }


# The provider's webhook is public by design: its Stripe-Signature is its credential
# (tests/payments/test_stripe.py refuses unsigned and mis-signed events).
PUBLIC = {"POST /payments/webhooks/stripe"}


def test_every_payments_endpoint_is_in_the_matrix() -> None:
    covered = {f"{case.method} {case.route}" for case in CASES}
    routes = payments_routes()
    assert "GET /vendors/{vendor_id}/balance" in routes  # the schema is read as expected

    assert sorted(routes - covered - PUBLIC) == []
    assert covered - routes == set()
