"""Automatic assignment: one vendor per request, for a batch of requests at once. Pure
functions on a score matrix (requests × vendors), no I/O.

`assign_optimal` solves the assignment problem exactly (the Hungarian method's modern
form, `scipy.optimize.linear_sum_assignment`): each request gets at most one vendor, each
vendor at most one request of the batch, and among the assignments serving the most
requests it picks the one with the highest total score. `assign_greedy` is what a
first-come dispatcher does — each request in turn takes the best vendor still free — and is
kept for comparison (bench/matching.py): it serves fewer requests, or the same requests
worse, whenever an early request takes the only vendor a later one could have had.

A pair that must not be made (the vendor fails a hard filter, or already passed on the
request) has score NaN or -inf.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

FloatMatrix = npt.NDArray[np.float64]
Pairs = list[tuple[int, int]]

# Cost of a forbidden pair: larger than any sum of real scores in [0, 1] over a batch, so
# the solver first minimises the number of forbidden pairs — it serves as many requests as
# can be served — and only then maximises the score.
_FORBIDDEN = 1e9


def _allowed(scores: FloatMatrix) -> npt.NDArray[np.bool_]:
    return np.isfinite(scores)


def assign_optimal(scores: FloatMatrix) -> Pairs:
    """(request row, vendor column) pairs of an optimal assignment, by request row."""
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 2:
        raise ValueError("scores must be a requests × vendors matrix")
    if scores.size == 0:
        return []
    allowed = _allowed(scores)
    cost = np.where(allowed, -np.nan_to_num(scores, neginf=0.0), _FORBIDDEN)
    rows, cols = linear_sum_assignment(cost)
    return [(int(r), int(c)) for r, c in zip(rows, cols, strict=True) if allowed[r, c]]


def assign_greedy(scores: FloatMatrix) -> Pairs:
    """Requests in row order, each taking the best vendor still free."""
    scores = np.asarray(scores, dtype=np.float64)
    if scores.size == 0:
        return []
    allowed = _allowed(scores)
    taken = np.zeros(scores.shape[1], dtype=np.bool_)
    pairs: Pairs = []
    for row in range(scores.shape[0]):
        options = allowed[row] & ~taken
        if not options.any():
            continue
        candidates = np.where(options, scores[row], -np.inf)
        col = int(np.argmax(candidates))
        taken[col] = True
        pairs.append((row, col))
    return pairs


def total_score(scores: FloatMatrix, pairs: Pairs) -> float:
    return float(sum(scores[r, c] for r, c in pairs))
