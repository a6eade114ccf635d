"""How many seats of a resource are in use during a span, from its occupancies.

"In use during a span" means the *peak*: the largest number of seats held at any one
instant of the span, not the sum over every occupancy touching it. With capacity 2, a
three-hour job fits alongside three back-to-back one-hour jobs, because they never hold
more than one bay at a time; summing would say 3 and refuse it. With capacity 1 (or
same-time seats, as in a class) peak and sum agree on whether a slot is free. Peak is
also exactly what's needed for pooled identical resources: if at most N blocked spans
are ever active together, they can always be assigned to N bays (interval graphs are
perfect).
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from datetime import datetime

from agora.availability.rules import Occupancy, SlotRules
from agora.availability.wallclock import as_utc


class SeatProfile:
    """Seats in use over time: a step function built from occupancies' blocked spans.

    `_times[i]` is where the level changes to `_levels[i]`, which holds until
    `_times[i + 1]` (or for ever after the last, where it is 0). Before the first
    change nothing is in use.
    """

    def __init__(self, occupancies: Iterable[Occupancy]) -> None:
        change_at: defaultdict[datetime, int] = defaultdict(int)
        for occupancy in occupancies:
            change_at[occupancy.blocked_start] += occupancy.seats
            change_at[occupancy.blocked_end] -= occupancy.seats
        self._times = sorted(moment for moment, change in change_at.items() if change)
        self._levels: list[int] = []
        level = 0
        for moment in self._times:
            level += change_at[moment]
            self._levels.append(level)

    def _segment_end(self, index: int) -> datetime | None:
        return self._times[index + 1] if index + 1 < len(self._times) else None

    def peaks(self, spans: Sequence[tuple[datetime, datetime]]) -> list[int]:
        """The peak seats in use during each half-open span [start, end).

        Precondition: spans come sorted so that both starts and ends never decrease —
        true of the slots of one listing, which share duration and buffers. That lets
        one sliding-window-maximum pass answer all of them in O(S + B) after the
        O(B log B) build, instead of O(S × B).
        """
        peaks: list[int] = []
        # Indices of level segments that overlap the current span, levels decreasing, so
        # the front is the peak. Segments dominated by a later, higher one are dropped.
        candidates: deque[int] = deque()
        next_segment = 0
        previous: tuple[datetime, datetime] | None = None
        for span_start, span_end in spans:
            if previous is not None and (span_start < previous[0] or span_end < previous[1]):
                raise ValueError("spans must be sorted with non-decreasing starts and ends")
            previous = (span_start, span_end)
            while next_segment < len(self._times) and self._times[next_segment] < span_end:
                level = self._levels[next_segment]
                while candidates and self._levels[candidates[-1]] <= level:
                    candidates.pop()
                candidates.append(next_segment)
                next_segment += 1
            while candidates:
                segment_end = self._segment_end(candidates[0])
                if segment_end is None or segment_end > span_start:
                    break
                candidates.popleft()
            peaks.append(self._levels[candidates[0]] if candidates else 0)
        return peaks


def conflicting_seats(
    rules: SlotRules, start: datetime, end: datetime, occupancies: Iterable[Occupancy]
) -> int:
    """Peak seats held by `occupancies` while a booking of [start, end) would block the resource.

    The booking blocks [start - rules.buffer_before, end + rules.buffer_after); each
    occupancy blocks its own buffered span. The booking fits when
    `rules.capacity - conflicting_seats(...) >= seats wanted`. The booking service calls
    this inside its locked transaction with the resource's overlapping bookings and live
    holds (its own hold excluded).
    """
    blocked = rules.blocked_span(as_utc(start, "start"), as_utc(end, "end"))
    return SeatProfile(occupancies).peaks([blocked])[0]
