"""The matching engine's scoring (agora.quotes.matching), pure: a table of cases with
their exact components, and properties over random markets — a vendor outside the area,
the category or capacity is never invited; a better score never ranks lower; improving one
thing about a vendor never moves it down."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agora.quotes.matching import (
    Candidate,
    CandidateTable,
    Exclusion,
    MatchParams,
    MatchRequest,
    exclusions,
    rank,
    rank_with_capacity,
    score,
)

LONDON = (51.5074, -0.1278)
PARAMS = MatchParams()
HERE = MatchRequest(lat=LONDON[0], lng=LONDON[1], budget=10_000)


def north(km: float) -> tuple[float, float]:
    return LONDON[0] + km / 111.19, LONDON[1]


def vendor(vendor_id: int = 1, *, km: float = 0.0, **fields: Any) -> Candidate:
    lat, lng = north(km)
    return Candidate(vendor_id=vendor_id, lat=lat, lng=lng, radius_km=20, **fields)


def components(candidate: Candidate, request: MatchRequest = HERE) -> dict[str, float]:
    scored = score(CandidateTable.of([candidate]), request, PARAMS)
    return {name: round(float(values[0]), 4) for name, values in scored.components.items()}


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [
        # A newcomer at the customer's door: neutral rating, response and acceptance.
        (
            vendor(),
            {
                "distance": 1.0,
                "rating": 0.75,
                "response": 0.5,
                "acceptance": 0.5,
                "price": 0.5,
                "load": 1.0,
                "fairness": 1.0,
            },
        ),
        # Half its radius away, 4.8★ over 20 reviews, answers in 30 minutes on average,
        # quoted 8 of 10 invitations, at 80 % of the budget, two invitations open.
        (
            vendor(
                km=10,
                rating_count=20,
                rating_sum=96,
                responses=10,
                response_seconds=10 * 30 * 60,
                invitations=10,
                quotes=8,
                typical_price=8000,
                open_invitations=2,
            ),
            {
                "distance": 0.5,
                "rating": 0.91,  # (5×4 + 96) / 25 = 4.64 → 3.64 / 4
                "response": 0.6667,  # 60 / (60 + 30)
                "acceptance": 0.75,  # (8 + 1) / (10 + 2)
                "price": 1.0,
                "load": 0.7143,  # 1 / (1 + 2/5)
                "fairness": 0.0,
            },
        ),
        # At 1.5× the budget the price scores half; twice the budget scores nothing.
        (vendor(typical_price=15_000), {"price": 0.5}),
        (vendor(typical_price=20_000), {"price": 0.0}),
        # Slow: three hours on average scores a quarter.
        (vendor(responses=2, response_seconds=2 * 180 * 60), {"response": 0.25}),
        # One 5★ review is pulled towards the prior: (20 + 5) / 6.
        (vendor(rating_count=1, rating_sum=5), {"rating": 0.7917}),
        (vendor(invitations=4), {"fairness": 0.6}),
    ],
)
def test_each_component_scores_as_documented(
    candidate: Candidate, expected: dict[str, float]
) -> None:
    got = components(candidate)
    assert {name: got[name] for name in expected} == expected


@pytest.mark.parametrize(
    ("candidate", "reason"),
    [
        (vendor(active=False), Exclusion.INACTIVE),
        (vendor(in_category=False), Exclusion.OUT_OF_CATEGORY),
        (Candidate(vendor_id=1), Exclusion.NO_LOCATION),
        (vendor(km=20.5), Exclusion.OUT_OF_AREA),
        (vendor(has_capacity=False), Exclusion.NO_CAPACITY),
        # The first filter failed is the one named.
        (vendor(active=False, in_category=False, km=99), Exclusion.INACTIVE),
    ],
)
def test_hard_filters_exclude_with_their_reason(candidate: Candidate, reason: Exclusion) -> None:
    table = CandidateTable.of([candidate])
    assert exclusions(table, HERE, PARAMS) == {1: reason.value}
    assert rank(table, HERE, PARAMS, limit=5) == []


def test_a_vendor_without_its_own_radius_gets_the_categorys_default() -> None:
    table = CandidateTable.of([replace(vendor(km=24), radius_km=0)])
    assert [m.vendor_id for m in rank(table, HERE, PARAMS, limit=5)] == [1]
    wider = MatchParams(default_radius_km=10)
    assert exclusions(table, HERE, wider) == {1: "out_of_area"}


def test_without_a_place_nobody_is_out_of_area_and_distance_is_neutral() -> None:
    table = CandidateTable.of([vendor(km=500), Candidate(vendor_id=2)])
    matches = rank(table, MatchRequest(), PARAMS, limit=5)
    assert [m.vendor_id for m in matches] == [1, 2]
    assert matches[0].breakdown["components"]["distance"]["score"] == 0.5


def test_the_breakdown_adds_up_to_the_score() -> None:
    table = CandidateTable.of([vendor(km=3, rating_count=5, rating_sum=22, typical_price=9000)])
    (match,) = rank(table, HERE, PARAMS, limit=1)
    points = sum(c["points"] for c in match.breakdown["components"].values())
    assert math.isclose(points, match.score, abs_tol=1e-3)
    assert match.breakdown["distance_km"] == pytest.approx(3.0, abs=1e-3)
    assert set(match.breakdown["components"]) == {
        "distance",
        "rating",
        "response",
        "acceptance",
        "price",
        "load",
        "fairness",
    }


def test_an_emergency_weighs_distance_and_speed_more() -> None:
    close_and_slow = vendor(1, km=1, responses=5, response_seconds=5 * 600 * 60)
    far_and_fast = vendor(2, km=12, responses=5, response_seconds=5 * 5 * 60)
    table = CandidateTable.of([close_and_slow, far_and_fast])
    weights = PARAMS.effective_weights("emergency")
    assert math.isclose(sum(weights.values()), 1.0)
    assert weights["response"] > PARAMS.effective_weights("standard")["response"]
    standard = [m.vendor_id for m in rank(table, HERE, PARAMS, limit=2)]
    emergency = rank(table, replace(HERE, urgency="emergency"), PARAMS, limit=2)
    assert standard == [1, 2]
    assert [m.vendor_id for m in emergency] == [2, 1]


def test_capacity_is_checked_only_for_the_vendors_about_to_be_chosen() -> None:
    table = CandidateTable.of([vendor(i, km=i) for i in range(1, 21)])
    asked: list[list[int]] = []

    def check(vendor_ids: list[int]) -> dict[int, bool]:
        asked.append(vendor_ids)
        return {v: v % 2 == 0 for v in vendor_ids}  # odd vendors are fully booked

    matches = rank_with_capacity(table, HERE, PARAMS, limit=3, check=check)

    assert [m.vendor_id for m in matches] == [2, 4, 6]
    assert asked == [[1, 2, 3], [4, 5], [6]]
    assert all(m.breakdown["capacity"] is True for m in matches)


# --- properties -----------------------------------------------------------------------------

candidates = st.builds(
    Candidate,
    vendor_id=st.integers(1, 10_000),
    lat=st.one_of(st.none(), st.floats(51.0, 52.0)),
    lng=st.one_of(st.none(), st.floats(-1.0, 0.8)),
    radius_km=st.sampled_from([0.0, 5.0, 15.0, 40.0]),
    active=st.booleans(),
    in_category=st.booleans(),
    has_capacity=st.one_of(st.none(), st.booleans()),
    rating_sum=st.integers(0, 500),
    rating_count=st.integers(0, 100),
    invitations=st.integers(0, 60),
    quotes=st.integers(0, 60),
    responses=st.integers(0, 60),
    response_seconds=st.integers(0, 10**6),
    open_invitations=st.integers(0, 20),
    typical_price=st.one_of(st.none(), st.integers(100, 50_000)),
)
markets = st.lists(candidates, min_size=1, max_size=40, unique_by=lambda c: c.vendor_id)
requests = st.builds(
    MatchRequest,
    lat=st.just(LONDON[0]) | st.none(),
    lng=st.just(LONDON[1]) | st.none(),
    budget=st.one_of(st.none(), st.integers(1, 40_000)),
    urgency=st.sampled_from(["standard", "urgent", "emergency"]),
).filter(lambda r: (r.lat is None) == (r.lng is None))
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _eligible_by_hand(c: Candidate, request: MatchRequest) -> bool:
    if not c.active or not c.in_category or c.has_capacity is False:
        return False
    if request.lat is None or request.lng is None:
        return True
    if c.lat is None or c.lng is None:
        return False
    radius = c.radius_km or PARAMS.default_radius_km
    phi1, phi2 = math.radians(request.lat), math.radians(c.lat)
    a = (
        math.sin((phi2 - phi1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(c.lng - request.lng) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(math.sqrt(a)) <= radius + 1e-9


@SETTINGS
@given(market=markets, request=requests, limit=st.integers(1, 10))
def test_a_vendor_outside_the_area_category_or_capacity_is_never_invited(
    market: list[Candidate], request: MatchRequest, limit: int
) -> None:
    matches = rank(CandidateTable.of(market), request, PARAMS, limit=limit)
    by_id = {c.vendor_id: c for c in market}
    for match in matches:
        assert _eligible_by_hand(by_id[match.vendor_id], request)
    eligible = [c for c in market if _eligible_by_hand(c, request)]
    assert len(matches) == min(limit, len(eligible))


@SETTINGS
@given(market=markets, request=requests, limit=st.integers(1, 10))
def test_a_better_score_never_ranks_lower(
    market: list[Candidate], request: MatchRequest, limit: int
) -> None:
    table = CandidateTable.of(market)
    matches = rank(table, request, PARAMS, limit=limit)
    keys = [(-m.score, m.vendor_id) for m in matches]
    assert keys == sorted(keys)
    # Nobody left out scores better than anyone chosen.
    scored = score(table, request, PARAMS)
    chosen = {m.vendor_id for m in matches}
    worst_chosen = min((m.score for m in matches), default=math.inf)
    for row, vendor_id in enumerate(table.vendor_id):
        if scored.eligible[row] and int(vendor_id) not in chosen:
            assert scored.total[row] <= worst_chosen + 1e-12


@SETTINGS
@given(
    market=markets,
    request=requests,
    improvement=st.sampled_from(["closer", "rated", "faster", "less_loaded"]),
)
def test_improving_a_vendor_never_moves_it_down(
    market: list[Candidate], request: MatchRequest, improvement: str
) -> None:
    target = market[0]
    better = {
        "closer": replace(target, lat=request.lat, lng=request.lng)
        if request.lat is not None and target.lat is not None
        else target,
        "rated": replace(
            target, rating_count=target.rating_count + 10, rating_sum=target.rating_sum + 50
        ),
        "faster": replace(target, response_seconds=target.response_seconds // 2),
        "less_loaded": replace(target, open_invitations=max(0, target.open_invitations - 1)),
    }[improvement]

    def position(candidates: list[Candidate]) -> int | None:
        ranked = [
            m.vendor_id for m in rank(CandidateTable.of(candidates), request, PARAMS, limit=50)
        ]
        return ranked.index(target.vendor_id) if target.vendor_id in ranked else None

    before, after = position(market), position([better, *market[1:]])
    if before is not None:
        assert after is not None
        assert after <= before
