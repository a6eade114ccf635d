"""Automatic assignment: the optimal batch against brute force on small cases, greedy's
shortfall, and the service: assigned one vendor at a time, passed or lapsed → the next
best."""

from __future__ import annotations

import itertools
import math
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agora.core import clock
from agora.quotes.assignment import assign_greedy, assign_optimal, total_score
from agora.quotes.models import Invitation, QuoteCategorySettings
from agora.quotes.services import assign
from tests.quotes.helpers import Market, asked, offer

NAN = math.nan


def brute_force(scores: np.ndarray) -> tuple[int, float]:
    """The best (served, total score) over every assignment, by enumeration."""
    rows, cols = scores.shape
    best = (0, 0.0)
    for chosen in itertools.product(range(-1, cols), repeat=rows):
        used = [c for c in chosen if c >= 0]
        if len(used) != len(set(used)):
            continue
        pairs = [(r, c) for r, c in enumerate(chosen) if c >= 0]
        if any(not math.isfinite(scores[r, c]) for r, c in pairs):
            continue
        candidate = (len(pairs), round(sum(scores[r, c] for r, c in pairs), 9))
        best = max(best, candidate)
    return best


matrices = st.integers(1, 4).flatmap(
    lambda rows: st.integers(1, 4).flatmap(
        lambda cols: st.lists(
            st.one_of(st.just(NAN), st.floats(0, 1)), min_size=rows * cols, max_size=rows * cols
        ).map(lambda cells: np.array(cells, dtype=float).reshape(rows, cols))
    )
)


@settings(max_examples=300, deadline=None)
@given(scores=matrices)
def test_the_optimal_assignment_matches_brute_force(scores: np.ndarray) -> None:
    pairs = assign_optimal(scores)

    assert len({r for r, _ in pairs}) == len(pairs)
    assert len({c for _, c in pairs}) == len(pairs)
    assert all(math.isfinite(scores[r, c]) for r, c in pairs)
    served, best = brute_force(scores)
    assert len(pairs) == served
    assert math.isclose(total_score(scores, pairs), best, abs_tol=1e-6)


@settings(max_examples=200, deadline=None)
@given(scores=matrices)
def test_greedy_never_beats_optimal(scores: np.ndarray) -> None:
    optimal, greedy = assign_optimal(scores), assign_greedy(scores)
    assert (len(greedy), total_score(scores, greedy)) <= (
        len(optimal),
        total_score(scores, optimal) + 1e-9,
    )


def test_greedy_loses_a_request_that_optimal_serves() -> None:
    # The first request takes the vendor the second one needed.
    scores = np.array([[0.9, 0.8], [0.7, NAN]])
    assert assign_greedy(scores) == [(0, 0)]
    assert assign_optimal(scores) == [(0, 1), (1, 0)]


# --- the service ------------------------------------------------------------------------------


@pytest.fixture
def on_demand(market: Market) -> Market:
    QuoteCategorySettings.objects.filter(category__slug="plumbers").update(
        assignment_mode="automatic", assignment_deadline_minutes=10
    )
    return market


@pytest.mark.django_db
def test_requests_are_assigned_one_vendor_each_then_the_next_best(on_demand: Market) -> None:
    market = on_demand
    request = asked(market)
    assert request.assignment_mode == "automatic"
    assert Invitation.objects.filter(request=request).count() == 0

    first = assign.assignment_batch_run()

    assert first.pairs == [(request.pk, market["near"].vendor.pk)]
    invitation = Invitation.objects.get(request=request)
    assert (invitation.kind, invitation.status) == ("assignment", "invited")
    assert invitation.respond_by == clock.now() + timedelta(minutes=10)
    assert assign.assignment_batch_run().assigned == 0  # still waiting for the answer

    passed = market["near"].client.post(
        f"/quote-requests/{request.pk}/pass", {"reason": "Fully booked"}
    )
    assert passed.status_code == 200, passed.content
    second = assign.assignment_batch_run()
    assert second.pairs == [(request.pk, market["new"].vendor.pk)]

    clock.advance(timedelta(minutes=11))
    assert assign.assignments_lapse_due() == 1
    third = assign.assignment_batch_run()
    assert third.pairs == [(request.pk, market["mid"].vendor.pk)]
    assert offer(market["mid"], request).status_code == 201
    request.refresh_from_db()
    assert request.status == "quoted"
    statuses = dict(Invitation.objects.filter(request=request).values_list("vendor_id", "status"))
    assert statuses == {
        market["near"].vendor.pk: "passed",
        market["new"].vendor.pk: "lapsed",
        market["mid"].vendor.pk: "quoted",
    }


@pytest.mark.django_db
def test_a_batch_gives_each_vendor_one_job(on_demand: Market) -> None:
    market = on_demand
    requests = [asked(market, title=f"Job {i}") for i in range(4)]

    result = assign.assignment_batch_run()

    vendors = [vendor_id for _, vendor_id in result.pairs]
    assert len(vendors) == len(set(vendors)) == 3  # three plumbers in the area
    assert {r for r, _ in result.pairs} <= {r.pk for r in requests}
