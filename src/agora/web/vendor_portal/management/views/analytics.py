"""/vendor/analytics/: sales figures and per-day charts over a chosen period (the last 7, 30
or 90 days, or from–to), from `agora.vendors.analytics`. Owners and managers only."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from agora.core.errors import InvalidInput
from agora.vendors.analytics import (
    Period,
    VendorAnalytics,
    period_between,
    period_last_days,
    vendor_analytics,
)
from agora.web.access import vendor_staff_required
from agora.web.charts import BarChart, bar_chart
from agora.web.vendor_portal.management.common import (
    add_domain_error,
    manager_for,
    page,
    to_major,
    vendor_today,
)
from agora.web.vendor_portal.management.forms import PeriodForm

DEFAULT_PERIOD = "30"


def _charts(figures: VendorAnalytics) -> list[BarChart]:
    labels = [day.day.strftime("%d %b") for day in figures.daily]
    return [
        bar_chart(
            "Revenue per day",
            [
                (label, to_major(day.revenue.amount, figures.currency))
                for label, day in zip(labels, figures.daily, strict=True)
            ],
            display=[day.revenue.format() for day in figures.daily],
        ),
        bar_chart(
            "Bookings and orders per day",
            [(label, day.sales) for label, day in zip(labels, figures.daily, strict=True)],
            display=[
                f"{day.sales} ({day.bookings} bookings, {day.orders} orders)"
                for day in figures.daily
            ],
        ),
    ]


@vendor_staff_required
@require_safe
def analytics(request: HttpRequest) -> HttpResponse:
    staff = manager_for(request)
    form = PeriodForm(request.GET or {"period": DEFAULT_PERIOD})
    context: dict[str, Any] = {"page_title": "Analytics", "form": form, "figures": None}
    period: Period | None = None
    if form.is_valid():
        choice = form.cleaned_data.get("period") or DEFAULT_PERIOD
        try:
            if choice == "custom":
                period = period_between(
                    timezone=staff.vendor.timezone,
                    first=form.cleaned_data["start"],
                    last=form.cleaned_data["end"],
                )
            else:
                period = period_last_days(
                    timezone=staff.vendor.timezone, days=int(choice), today=vendor_today(staff)
                )
        except InvalidInput as error:
            add_domain_error(form, error, names={"to": "end", "from": "start", "days": "period"})
    if period is None:
        return page(request, "analytics.html", staff, context, status=422)
    figures = vendor_analytics(vendor=staff.vendor, period=period)
    context.update({"figures": figures, "period": period, "charts": _charts(figures)})
    return page(request, "analytics.html", staff, context)
