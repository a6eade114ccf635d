"""Server-rendered bar charts: bars scale to the tallest, and every figure is readable."""

from __future__ import annotations

from decimal import Decimal

from django.template.loader import render_to_string

from agora.web.charts import HEIGHT, bar_chart


def test_bars_scale_to_the_tallest_and_keep_their_order() -> None:
    chart = bar_chart("Revenue", [("1 Apr", 10), ("2 Apr", 40), ("3 Apr", 0)])

    heights = [bar.height for bar in chart.bars]
    assert heights[1] == HEIGHT - 20  # the tallest fills the scale
    assert heights[0] == (HEIGHT - 20) / 4
    assert heights[2] == 0
    assert [bar.label for bar in chart.bars] == ["1 Apr", "2 Apr", "3 Apr"]
    assert all(bar.y + bar.height == HEIGHT for bar in chart.bars)
    assert chart.peak is not None
    assert chart.peak.label == "2 Apr"
    assert (chart.first_label, chart.last_label) == ("1 Apr", "3 Apr")


def test_a_period_without_figures_says_so_instead_of_drawing() -> None:
    html = render_to_string(
        "web/partials/bar_chart.html", {"chart": bar_chart("Orders", [("1 Apr", 0)])}
    )

    assert "No data in this period." in html
    assert "<svg" not in html


def test_the_rendered_chart_carries_its_figures_for_screen_readers() -> None:
    chart = bar_chart(
        "Revenue per day",
        [("1 Apr", Decimal("12.50")), ("2 Apr", Decimal("100.00"))],
        display=["12.50 GBP", "100.00 GBP"],
    )

    html = render_to_string("web/partials/bar_chart.html", {"chart": chart})

    assert 'aria-label="Revenue per day"' in html
    assert "max 100.00 GBP" in html
    assert '<th scope="row">1 Apr</th><td>12.50 GBP</td>' in html
    assert html.count("<rect ") == 2
