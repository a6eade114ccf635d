"""Server-rendered SVG charts: no JavaScript bundle, readable without scripts.

A chart is a list of (label, value) points. ``bar_chart`` lays the bars out in a fixed
viewBox and returns plain numbers for ``web/partials/bar_chart.html``; the SVG scales with
its container, and a table with the same figures follows for screen readers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

WIDTH = 600
HEIGHT = 200
GUTTER = 4


@dataclass(frozen=True)
class Bar:
    label: str
    value: Decimal | int | float
    display: str
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class BarChart:
    title: str
    bars: list[Bar]
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def empty(self) -> bool:
        return not any(bar.value for bar in self.bars)

    @property
    def peak(self) -> Bar | None:
        """The tallest bar, whose figure labels the top of the scale."""
        return max(self.bars, key=lambda bar: float(bar.value), default=None)

    @property
    def first_label(self) -> str:
        return self.bars[0].label if self.bars else ""

    @property
    def last_label(self) -> str:
        return self.bars[-1].label if self.bars else ""


def bar_chart(
    title: str,
    points: Sequence[tuple[str, Decimal | int | float]],
    *,
    display: Sequence[str] | None = None,
) -> BarChart:
    """Scale ``points`` into bars; ``display`` gives each value's label (e.g. money)."""
    labels = display if display is not None else [str(value) for _, value in points]
    peak = max((float(value) for _, value in points), default=0.0)
    count = max(len(points), 1)
    slot = WIDTH / count
    bars = []
    for index, ((label, value), shown) in enumerate(zip(points, labels, strict=True)):
        height = 0.0 if peak <= 0 else (float(value) / peak) * (HEIGHT - 20)
        bars.append(
            Bar(
                label=label,
                value=value,
                display=shown,
                x=round(index * slot + GUTTER / 2, 2),
                y=round(HEIGHT - height, 2),
                width=round(max(slot - GUTTER, 1), 2),
                height=round(height, 2),
            )
        )
    return BarChart(title=title, bars=bars)
