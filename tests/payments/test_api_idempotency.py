"""Exactly once (ARCHITECTURE.md invariant 4) on every money-moving payments endpoint: a
retry with the same Idempotency-Key replays the first response and moves nothing again —
also when two retries arrive at once, from real threads with their own connections."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection

from agora.payments import ledger
from agora.payments.models import Dispute, JournalTransaction, Payout, Refund
from tests.conftest import assert_problem
from tests.payments.market import Market, make_market, money
from tests.race import run_concurrently


@dataclass(frozen=True)
class Movement:
    name: str
    path: Callable[[Market], str]
    body: dict[str, Any]
    other_body: dict[str, Any]
    client: str
    rows: Callable[[], int]
    kind: str  # the journal transaction kind it posts


MOVEMENTS = [
    Movement(
        "payout",
        lambda market: f"/vendors/{market.vendor.pk}/payouts",
        {"amount": money(20_00)},
        {"amount": money(30_00)},
        "as_owner",
        lambda: Payout.objects.count(),
        "payout",
    ),
    Movement(
        "refund",
        lambda market: "/operator/refunds",
        {"booking_id": 2, "amount": money(20_00), "reason": "goodwill"},
        {"booking_id": 2, "amount": money(30_00), "reason": "goodwill"},
        "as_operator",
        lambda: Refund.objects.count(),
        "refund",
    ),
    Movement(
        "dispute",
        lambda market: "/operator/disputes",
        {"booking_id": 2, "amount": money(20_00), "reason": "fraudulent"},
        {"booking_id": 2, "amount": money(30_00), "reason": "fraudulent"},
        "as_operator",
        lambda: Dispute.objects.count(),
        "dispute_opened",
    ),
]


def given_money(market: Market) -> None:
    market.released(1)  # £94.10 available to pay out
    market.sell(2)  # £100 captured, to refund or dispute


def postings(kind: str) -> int:
    return JournalTransaction.objects.filter(kind=kind).count()


@pytest.mark.django_db
@pytest.mark.parametrize("movement", MOVEMENTS, ids=lambda movement: movement.name)
def test_a_retry_replays_the_first_response_and_moves_nothing_twice(movement: Movement) -> None:
    market = make_market()
    given_money(market)
    client = getattr(market, movement.client)

    first = client.post(movement.path(market), movement.body, idempotency_key="key-1")
    retry = client.post(movement.path(market), movement.body, idempotency_key="key-1")

    assert first.status_code == 201, first.content
    assert (retry.status_code, retry.json()) == (201, first.json())
    assert retry["Idempotent-Replayed"] == "true"
    assert (movement.rows(), postings(movement.kind)) == (1, 1)
    # a new key is a new movement
    again = client.post(movement.path(market), movement.body, idempotency_key="key-2")
    assert again.json()["id"] != first.json()["id"]
    assert (movement.rows(), postings(movement.kind)) == (2, 2)
    assert ledger.trial_balance() == {"GBP": 0}


@pytest.mark.django_db
@pytest.mark.parametrize("movement", MOVEMENTS, ids=lambda movement: movement.name)
def test_the_same_key_for_a_different_request_is_422_and_moves_nothing(
    movement: Movement,
) -> None:
    market = make_market()
    given_money(market)
    client = getattr(market, movement.client)
    client.post(movement.path(market), movement.body, idempotency_key="key-1")

    reused = client.post(movement.path(market), movement.other_body, idempotency_key="key-1")

    assert_problem(reused, 422, "idempotency_key_reused")
    assert (movement.rows(), postings(movement.kind)) == (1, 1)


THREADS = 4


@pytest.mark.race
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("movement", MOVEMENTS, ids=lambda movement: movement.name)
def test_concurrent_retries_from_real_threads_move_the_money_once(movement: Movement) -> None:
    market = make_market()
    given_money(market)
    client = getattr(market, movement.client)
    path = movement.path(market)
    connected = threading.Barrier(THREADS, timeout=30)

    def retry(_: int) -> tuple[int, Any]:
        connection.ensure_connection()
        connected.wait()  # every thread connected before any sends
        response = client.post(path, movement.body, idempotency_key="same-key")
        return response.status_code, response.json()

    answers = run_concurrently(retry, threads=THREADS)

    assert {status for status, _ in answers} == {201}
    assert len({body["id"] for _, body in answers}) == 1  # everyone saw the same movement
    assert (movement.rows(), postings(movement.kind)) == (1, 1)
    assert ledger.trial_balance() == {"GBP": 0}
