"""The matching engine's scoring: which vendors suit a request, and how well. Pure
functions on plain values and numpy arrays — no database, no Django — so a request can be
scored against tens of thousands of vendors in milliseconds and every rule tested alone.

Hard filters first: a vendor is eligible only when it is active, sells in the request's
category (or a category below it), covers the request's place (its own service radius, or
the category's default radius, measured from its address), and has free capacity in the
request's time window when that is known. Whoever fails one is never invited, whatever its
score.

Then a score in [0, 1]: a weighted sum of components, each in [0, 1]:

- `distance`: 1 at the vendor's door, 0 at the edge of its service area;
- `rating`: the Bayesian average rating (the vendor's reviews pulled towards a prior, so
  one five-star review does not beat fifty at 4.8), from 1★ = 0 to 5★ = 1;
- `response`: how fast the vendor answers invitations (the target time scores 0.5);
- `acceptance`: the share of invitations it answered with a quote (Laplace-smoothed);
- `price`: its typical price against the customer's budget (at or under = 1, twice = 0);
- `load`: fewer unanswered invitations on its desk scores higher (spreads the work);
- `fairness`: a bonus for vendors with few invitations so far, fading as they get some, so
  newcomers get a share before they have a track record.

Urgent and emergency requests weigh response and distance (and, for emergencies, load)
more. The weights are renormalised to sum to 1, so every score stays in [0, 1] and the
breakdown's points add up to the total. The ranking is by score, highest first, ties by
vendor id: a better score never ranks lower.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt

EARTH_RADIUS_KM = 6371.0088
COMPONENTS = ("distance", "rating", "response", "acceptance", "price", "load", "fairness")
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


class Exclusion(StrEnum):
    """Why a vendor is not eligible (the first hard filter it fails, in this order)."""

    INACTIVE = "inactive"
    OUT_OF_CATEGORY = "out_of_category"
    NO_LOCATION = "no_location"
    OUT_OF_AREA = "out_of_area"
    NO_CAPACITY = "no_capacity"


_EXCLUSIONS = tuple(Exclusion)


@dataclass(frozen=True)
class Weights:
    distance: float = 0.25
    rating: float = 0.20
    response: float = 0.15
    acceptance: float = 0.15
    price: float = 0.10
    load: float = 0.10
    fairness: float = 0.05

    def as_dict(self) -> dict[str, float]:
        return {name: float(getattr(self, name)) for name in COMPONENTS}


# Multipliers of the weights by urgency (renormalised afterwards).
URGENCY_EMPHASIS: Mapping[str, Mapping[str, float]] = {
    "standard": {},
    "urgent": {"response": 1.5, "distance": 1.25},
    "emergency": {"response": 2.0, "distance": 1.5, "load": 1.5},
}


@dataclass(frozen=True)
class MatchParams:
    weights: Weights = field(default_factory=Weights)
    prior_rating: float = 4.0
    prior_rating_weight: float = 5.0
    response_target_minutes: float = 60.0
    load_target: float = 5.0
    fairness_invitations: float = 10.0
    default_radius_km: float = 25.0

    def effective_weights(self, urgency: str) -> dict[str, float]:
        weights = self.weights.as_dict()
        for name, factor in URGENCY_EMPHASIS.get(urgency, {}).items():
            weights[name] *= factor
        total = sum(weights.values())
        if total <= 0:
            raise ValueError("at least one weight must be positive")
        return {name: value / total for name, value in weights.items()}


@dataclass(frozen=True)
class MatchRequest:
    """What of a request matters to matching. `budget` is in the candidates' currency's
    minor units (the service only compares prices in the budget's currency)."""

    lat: float | None = None
    lng: float | None = None
    budget: int | None = None
    urgency: str = "standard"

    @property
    def located(self) -> bool:
        return self.lat is not None and self.lng is not None


@dataclass(frozen=True)
class Candidate:
    """One vendor as matching sees it. `radius_km` 0 means the category's default radius;
    `has_capacity` None means not known (no window asked, or not checked)."""

    vendor_id: int
    lat: float | None = None
    lng: float | None = None
    radius_km: float = 0.0
    active: bool = True
    in_category: bool = True
    has_capacity: bool | None = None
    rating_sum: int = 0
    rating_count: int = 0
    invitations: int = 0
    quotes: int = 0
    responses: int = 0
    response_seconds: int = 0
    open_invitations: int = 0
    typical_price: int | None = None


_COLUMNS = (
    "vendor_id",
    "lat",
    "lng",
    "radius_km",
    "active",
    "in_category",
    "capacity",
    "rating_sum",
    "rating_count",
    "invitations",
    "quotes",
    "responses",
    "response_seconds",
    "open_invitations",
    "typical_price",
)


class CandidateTable:
    """Candidates as columns (numpy arrays), one row per vendor. Unknown coordinates and
    prices are NaN; `capacity` is 1 (free), 0 (full) or -1 (unknown)."""

    def __init__(self, **columns: npt.ArrayLike) -> None:
        missing = set(_COLUMNS) - set(columns)
        if missing:
            raise ValueError(f"missing columns: {sorted(missing)}")
        self.vendor_id = np.asarray(columns["vendor_id"], dtype=np.int64)
        size = len(self.vendor_id)
        for name in _COLUMNS[1:]:
            dtype: Any = np.bool_ if name in ("active", "in_category") else np.float64
            if name == "capacity":
                dtype = np.int8
            array = np.asarray(columns[name], dtype=dtype)
            if array.shape != (size,):
                raise ValueError(f"column {name} has shape {array.shape}, expected ({size},)")
            setattr(self, name, array)

    # Declared for type checkers; set in __init__.
    lat: FloatArray
    lng: FloatArray
    radius_km: FloatArray
    active: BoolArray
    in_category: BoolArray
    capacity: npt.NDArray[np.int8]
    rating_sum: FloatArray
    rating_count: FloatArray
    invitations: FloatArray
    quotes: FloatArray
    responses: FloatArray
    response_seconds: FloatArray
    open_invitations: FloatArray
    typical_price: FloatArray

    def __len__(self) -> int:
        return len(self.vendor_id)

    @classmethod
    def of(cls, candidates: Sequence[Candidate]) -> CandidateTable:
        def nan(value: float | None) -> float:
            return math.nan if value is None else float(value)

        return cls(
            vendor_id=[c.vendor_id for c in candidates],
            lat=[nan(c.lat) for c in candidates],
            lng=[nan(c.lng) for c in candidates],
            radius_km=[c.radius_km for c in candidates],
            active=[c.active for c in candidates],
            in_category=[c.in_category for c in candidates],
            capacity=[-1 if c.has_capacity is None else int(c.has_capacity) for c in candidates],
            rating_sum=[c.rating_sum for c in candidates],
            rating_count=[c.rating_count for c in candidates],
            invitations=[c.invitations for c in candidates],
            quotes=[c.quotes for c in candidates],
            responses=[c.responses for c in candidates],
            response_seconds=[c.response_seconds for c in candidates],
            open_invitations=[c.open_invitations for c in candidates],
            typical_price=[nan(c.typical_price) for c in candidates],
        )

    def index_of(self) -> dict[int, int]:
        return {int(vendor_id): index for index, vendor_id in enumerate(self.vendor_id)}


@dataclass(frozen=True)
class Scored:
    """Every candidate's filters and score (arrays aligned with the table's rows)."""

    eligible: BoolArray
    exclusion: npt.NDArray[np.int8]  # index into Exclusion, -1 when eligible
    distance_km: FloatArray  # NaN when either side has no place
    raw: dict[str, FloatArray]  # the measured values behind each component
    components: dict[str, FloatArray]  # each in [0, 1]
    weights: dict[str, float]
    total: FloatArray

    def exclusion_of(self, index: int) -> Exclusion | None:
        code = int(self.exclusion[index])
        return None if code < 0 else _EXCLUSIONS[code]


@dataclass(frozen=True)
class Match:
    vendor_id: int
    score: float
    breakdown: dict[str, Any]


def distances_km(lat: float, lng: float, lats: FloatArray, lngs: FloatArray) -> FloatArray:
    """Great-circle (haversine) distances from one point to many, in kilometres."""
    phi1 = math.radians(lat)
    phi2 = np.radians(lats)
    dphi = phi2 - phi1
    dlmb = np.radians(lngs) - math.radians(lng)
    a = np.sin(dphi / 2) ** 2 + math.cos(phi1) * np.cos(phi2) * np.sin(dlmb / 2) ** 2
    result: FloatArray = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    return result


def score(table: CandidateTable, request: MatchRequest, params: MatchParams) -> Scored:
    """Filters and scores for every row of `table` at once."""
    size = len(table)
    radius = np.where(table.radius_km > 0, table.radius_km, params.default_radius_km)
    located = ~(np.isnan(table.lat) | np.isnan(table.lng))
    if request.lat is not None and request.lng is not None:
        distance = distances_km(request.lat, request.lng, table.lat, table.lng)
        in_area = located & (distance <= radius)
        distance_score = np.where(in_area, 1.0 - np.nan_to_num(distance) / radius, 0.0)
    else:
        distance = np.full(size, math.nan)
        in_area = np.ones(size, dtype=np.bool_)
        distance_score = np.full(size, 0.5)

    exclusion = np.full(size, -1, dtype=np.int8)
    # Assigned from the last filter to the first, so the first one failed is what stays.
    exclusion[table.capacity == 0] = _EXCLUSIONS.index(Exclusion.NO_CAPACITY)
    if request.located:
        exclusion[located & ~in_area] = _EXCLUSIONS.index(Exclusion.OUT_OF_AREA)
        exclusion[~located] = _EXCLUSIONS.index(Exclusion.NO_LOCATION)
    exclusion[~table.in_category] = _EXCLUSIONS.index(Exclusion.OUT_OF_CATEGORY)
    exclusion[~table.active] = _EXCLUSIONS.index(Exclusion.INACTIVE)
    eligible = exclusion < 0

    prior = params.prior_rating_weight
    bayes_rating = (prior * params.prior_rating + table.rating_sum) / (prior + table.rating_count)
    rating_score = np.clip((bayes_rating - 1.0) / 4.0, 0.0, 1.0)

    answered = table.responses > 0
    response_minutes = np.where(
        answered, table.response_seconds / np.maximum(table.responses, 1) / 60.0, math.nan
    )
    target = params.response_target_minutes
    response_score = np.where(answered, target / (target + np.nan_to_num(response_minutes)), 0.5)

    acceptance = (table.quotes + 1.0) / (table.invitations + 2.0)
    acceptance_score = np.clip(acceptance, 0.0, 1.0)

    if request.budget is not None and request.budget > 0:
        price_ratio = table.typical_price / float(request.budget)
        price_score = np.where(
            np.isnan(price_ratio), 0.5, np.clip(2.0 - np.maximum(price_ratio, 1.0), 0.0, 1.0)
        )
    else:
        price_ratio = np.full(size, math.nan)
        price_score = np.full(size, 0.5)

    load_score = 1.0 / (1.0 + np.maximum(table.open_invitations, 0.0) / params.load_target)
    fairness_score = np.clip(1.0 - table.invitations / params.fairness_invitations, 0.0, 1.0)

    components = {
        "distance": distance_score,
        "rating": rating_score,
        "response": response_score,
        "acceptance": acceptance_score,
        "price": price_score,
        "load": load_score,
        "fairness": fairness_score,
    }
    raw = {
        "distance": distance,
        "rating": bayes_rating,
        "response": response_minutes,
        "acceptance": acceptance,
        "price": price_ratio,
        "load": table.open_invitations,
        "fairness": table.invitations,
    }
    weights = params.effective_weights(request.urgency)
    total = np.zeros(size)
    for name in COMPONENTS:
        total = total + weights[name] * components[name]
    return Scored(
        eligible=eligible,
        exclusion=exclusion,
        distance_km=distance,
        raw=raw,
        components=components,
        weights=weights,
        total=total,
    )


def order(total: FloatArray, vendor_ids: npt.NDArray[np.int64], rows: npt.ArrayLike) -> list[int]:
    """`rows` sorted by score, highest first, ties by vendor id (a total order)."""
    indices = np.asarray(rows, dtype=np.int64)
    if len(indices) == 0:
        return []
    sorted_positions = np.lexsort((vendor_ids[indices], -total[indices]))
    return [int(i) for i in indices[sorted_positions]]


def top_rows(
    scored: Scored, table: CandidateTable, *, limit: int, skip: BoolArray | None = None
) -> list[int]:
    """The rows of the best `limit` eligible candidates, best first.

    Selects with a partition (O(n)) rather than sorting everything: 25,000 candidates
    cost about a millisecond. Every candidate tied with the last one kept is considered,
    so ties are broken by vendor id, never by position."""
    mask = scored.eligible if skip is None else scored.eligible & ~skip
    rows = np.flatnonzero(mask)
    if limit <= 0 or len(rows) == 0:
        return []
    if len(rows) > limit:
        totals = scored.total[rows]
        threshold = np.partition(totals, len(rows) - limit)[len(rows) - limit]
        rows = rows[totals >= threshold]
    return order(scored.total, table.vendor_id, rows)[:limit]


def _rounded(value: float) -> float | None:
    return None if math.isnan(value) else round(float(value), 4)


def explain(scored: Scored, table: CandidateTable, row: int) -> dict[str, Any]:
    """Why this vendor scored what it did: each component's measured value, its score, its
    weight and the points it contributed (the points add up to the total)."""
    capacity = int(table.capacity[row])
    exclusion = scored.exclusion_of(row)
    return {
        "total": round(float(scored.total[row]), 4),
        "eligible": exclusion is None,
        "excluded_by": exclusion.value if exclusion else None,
        "distance_km": _rounded(float(scored.distance_km[row])),
        "capacity": None if capacity < 0 else bool(capacity),
        "components": {
            name: {
                "value": _rounded(float(scored.raw[name][row])),
                "score": round(float(scored.components[name][row]), 4),
                "weight": round(scored.weights[name], 4),
                "points": round(scored.weights[name] * float(scored.components[name][row]), 4),
            }
            for name in COMPONENTS
        },
    }


def rank(
    table: CandidateTable,
    request: MatchRequest,
    params: MatchParams,
    *,
    limit: int,
    exclude_vendor_ids: Iterable[int] = (),
) -> list[Match]:
    """The best `limit` eligible candidates, best first, with their breakdowns."""
    scored = score(table, request, params)
    skip = _skip_mask(table, exclude_vendor_ids)
    return [
        Match(int(table.vendor_id[row]), float(scored.total[row]), explain(scored, table, row))
        for row in top_rows(scored, table, limit=limit, skip=skip)
    ]


def _skip_mask(table: CandidateTable, vendor_ids: Iterable[int]) -> BoolArray | None:
    ids = np.fromiter(vendor_ids, dtype=np.int64)
    return np.isin(table.vendor_id, ids) if len(ids) else None


CapacityCheck = Callable[[list[int]], Mapping[int, bool]]


def rank_with_capacity(
    table: CandidateTable,
    request: MatchRequest,
    params: MatchParams,
    *,
    limit: int,
    check: CapacityCheck,
    exclude_vendor_ids: Iterable[int] = (),
    max_rounds: int = 4,
) -> list[Match]:
    """`rank`, where free capacity in the window is checked only for the vendors about to
    be chosen: `check(vendor_ids)` answers for a few, the full ones drop out, the next
    best are checked — at most `max_rounds` rounds of `limit` vendors each, so the cost of
    the (database-bound) check stays bounded however many vendors there are. A vendor
    whose capacity is still unknown after the last round is not invited."""
    excluded = set(exclude_vendor_ids)
    rows_by_vendor = table.index_of()
    for _ in range(max_rounds):
        matches = rank(table, request, params, limit=limit, exclude_vendor_ids=excluded)
        unknown = [m.vendor_id for m in matches if table.capacity[rows_by_vendor[m.vendor_id]] < 0]
        if not unknown:
            return matches
        answers = check(unknown)
        for vendor_id in unknown:
            table.capacity[rows_by_vendor[vendor_id]] = 1 if answers.get(vendor_id, False) else 0
    matches = rank(table, request, params, limit=limit, exclude_vendor_ids=excluded)
    return [m for m in matches if table.capacity[rows_by_vendor[m.vendor_id]] > 0]


def exclusions(table: CandidateTable, request: MatchRequest, params: MatchParams) -> dict[int, str]:
    """Each ineligible vendor and the first hard filter it fails (for the operator)."""
    scored = score(table, request, params)
    return {
        int(table.vendor_id[row]): _EXCLUSIONS[int(scored.exclusion[row])].value
        for row in np.flatnonzero(~scored.eligible)
    }


def score_matrix(
    table: CandidateTable, requests: Sequence[MatchRequest], params: MatchParams
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Scores of many requests against the same candidates at once (a batch to assign):
    a requests × vendors matrix, NaN where a hard filter fails, and the distances (NaN
    where unknown). The same numbers as `score` row by row; the parts that depend only on
    the vendor (rating, response, acceptance, load, fairness) are computed once."""
    base = score(table, MatchRequest(), params)  # vendor-only components, no place or budget
    size, count = len(table), len(requests)
    vendor_ok = (table.active & table.in_category & (table.capacity != 0))[None, :]
    lat = np.array([math.nan if r.lat is None else r.lat for r in requests])[:, None]
    lng = np.array([math.nan if r.lng is None else r.lng for r in requests])[:, None]
    located_request = ~np.isnan(lat)
    phi1, phi2 = np.radians(lat), np.radians(table.lat)[None, :]
    a = (
        np.sin((phi2 - phi1) / 2) ** 2
        + np.cos(phi1)
        * np.cos(phi2)
        * np.sin((np.radians(table.lng)[None, :] - np.radians(lng)) / 2) ** 2
    )
    distance = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    radius = np.where(table.radius_km > 0, table.radius_km, params.default_radius_km)[None, :]
    in_area = np.where(located_request, distance <= radius, True)
    distance_score = np.where(
        located_request, np.where(in_area, 1.0 - np.nan_to_num(distance) / radius, 0.0), 0.5
    )
    budget = np.array([r.budget if r.budget else math.nan for r in requests], dtype=float)[:, None]
    ratio = table.typical_price[None, :] / budget
    price_score = np.where(np.isnan(ratio), 0.5, np.clip(2.0 - np.maximum(ratio, 1.0), 0.0, 1.0))
    weights = np.array(
        [[params.effective_weights(r.urgency)[name] for name in COMPONENTS] for r in requests]
    )
    total = weights[:, 0:1] * distance_score + weights[:, 4:5] * price_score
    for index, name in enumerate(COMPONENTS):
        if name not in ("distance", "price"):
            total = total + weights[:, index : index + 1] * base.components[name][None, :]
    eligible = vendor_ok & in_area
    assert total.shape == (count, size)
    return np.where(eligible, total, np.nan), distance
