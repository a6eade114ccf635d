"""/operator/: platform figures over a chosen period, with charts."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from agora.core import clock
from agora.core.errors import InvalidInput
from agora.core.money import Money
from agora.payments.platform_figures import Period
from agora.web.access import operator_required
from agora.web.charts import bar_chart
from agora.web.operator_portal.figures import Overview, overview

PRESET_DAYS = (7, 30, 90, 365)
DEFAULT_DAYS = 30


def _date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise InvalidInput(
            f"'{name}' must be a date such as 2026-03-01.",
            errors=[{"loc": ["query", name], "msg": "not a date", "type": "date"}],
        ) from error


def period_from(request: HttpRequest) -> Period:
    """?from=&to= (dates, both included), else ?days= (a preset), else the last 30 days."""
    today = clock.now().date()
    start, end = request.GET.get("from"), request.GET.get("to")
    if start or end:
        return Period.of(
            _date(start, "from") if start else today, _date(end, "to") if end else today
        )
    days = request.GET.get("days") or str(DEFAULT_DAYS)
    if not days.isdigit() or int(days) not in PRESET_DAYS:
        raise InvalidInput(
            f"'days' must be one of {', '.join(map(str, PRESET_DAYS))}.",
            errors=[{"loc": ["query", "days"], "msg": "unknown preset", "type": "enum"}],
        )
    return Period.last_days(int(days), today=today)


def _charts(figures: Overview) -> list[object]:
    period = figures.period
    labels = [period.bucket_label(day) for day in period.buckets()]
    charts: list[object] = []
    for currency in figures.money.currencies:
        code = currency.currency
        charts.append(
            bar_chart(
                f"GMV per {period.granularity} ({code})",
                [(label, b.gmv) for label, b in zip(labels, currency.series, strict=True)],
                display=[Money(b.gmv, code).format() for b in currency.series],
            )
        )
        charts.append(
            bar_chart(
                f"Commission per {period.granularity} ({code})",
                [
                    (label, max(b.commission, 0))
                    for label, b in zip(labels, currency.series, strict=True)
                ],
                display=[Money(b.commission, code).format() for b in currency.series],
            )
        )
    charts.append(
        bar_chart(
            f"Bookings and orders per {period.granularity}",
            [
                (label, b.bookings + b.orders)
                for label, b in zip(labels, figures.series, strict=True)
            ],
            display=[f"{b.bookings} bookings, {b.orders} orders" for b in figures.series],
        )
    )
    return charts


@operator_required
@require_safe
def overview_page(request: HttpRequest) -> HttpResponse:
    period = period_from(request)
    figures = overview(period=period)
    return render(
        request,
        "web/operator/overview.html",
        {
            "page_title": "Platform overview — Agora operator",
            "figures": figures,
            "charts": _charts(figures),
            "presets": PRESET_DAYS,
            "days": request.GET.get("days", ""),
            "custom": bool(request.GET.get("from") or request.GET.get("to")),
        },
    )
