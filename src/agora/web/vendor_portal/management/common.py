"""What every management view shares: the current vendor with the role a page needs,
rendering inside the vendor layout, money in and out of forms, and a service's refusal
shown on the form that caused it."""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from agora.core import clock
from agora.core.errors import DomainError
from agora.core.money import CURRENCY_EXPONENTS, Money
from agora.vendors.selectors import ALL_ROLES, MANAGER_ROLES, StaffContext
from agora.web.vendor_portal.current import current_staff_context

TEMPLATES = "web/vendor/manage/"


def staff_for(request: HttpRequest, roles: Collection[str] = ALL_ROLES) -> StaffContext:
    """The vendor the person works for now; a role too small for the page is a 403."""
    return current_staff_context(request, roles=roles)


def manager_for(request: HttpRequest) -> StaffContext:
    return current_staff_context(request, roles=MANAGER_ROLES)


def can_manage(staff: StaffContext) -> bool:
    return staff.role in MANAGER_ROLES


def page(
    request: HttpRequest,
    template: str,
    staff: StaffContext,
    context: dict[str, Any],
    *,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        TEMPLATES + template,
        {
            "staff": staff,
            "can_manage": can_manage(staff),
            "portal_name": "Vendor portal",
            **context,
        },
        status=status,
    )


def vendor_today(staff: StaffContext) -> date:
    return clock.now().astimezone(ZoneInfo(staff.vendor.timezone)).date()


# --- money in forms -------------------------------------------------------------------------


def to_minor(value: Decimal, currency: str) -> int:
    """Major units as typed ("45.99") to integer minor units (4599)."""
    return int(value.scaleb(CURRENCY_EXPONENTS[currency]))


def to_major(amount: int, currency: str) -> Decimal:
    exponent = CURRENCY_EXPONENTS[currency]
    return Decimal(amount).scaleb(-exponent) if exponent else Decimal(amount)


class MoneyField(forms.DecimalField):
    """An amount typed in major units with at most the currency's minor digits; `clean`
    returns integer minor units."""

    def __init__(self, *, currency: str, **kwargs: Any) -> None:
        self.currency = currency
        exponent = CURRENCY_EXPONENTS[currency]
        kwargs.setdefault("min_value", Decimal(0))
        kwargs.setdefault("max_value", Decimal(2**31 - 1).scaleb(-exponent))
        super().__init__(decimal_places=exponent, max_digits=12, **kwargs)
        self.widget.attrs.update({"inputmode": "decimal", "step": "any"})
        if self.help_text == "":
            self.help_text = f"In {currency}, e.g. {'45.99' if exponent else '4599'}."

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return to_major(value, self.currency)
        return value

    def clean(self, value: Any) -> int | None:
        cleaned = super().clean(value)
        if cleaned is None:
            return None
        try:
            return to_minor(cleaned, self.currency)
        except (InvalidOperation, ValueError):
            raise forms.ValidationError("Enter an amount.") from None


# --- refusals on forms ------------------------------------------------------------------------

_REQUIRED = re.compile(r"^'(?P<name>[^']+)' is a required property$")


def error_fields(error: DomainError) -> list[tuple[list[str], str]]:
    """(path, message) for each item of an InvalidInput's `errors`, the transport prefix
    (`body`, `query`) removed. A JSON Schema "required" error sits on the object; it is moved
    to the missing property, so the message lands next to its field."""
    found = []
    for item in error.extra.get("errors", []):
        loc = [str(part) for part in item.get("loc", []) if part not in ("body", "query")]
        message = str(item.get("msg") or error.detail)
        match = _REQUIRED.match(message)
        if match is not None and item.get("type") == "required":
            loc = [*loc, match["name"]]
        found.append((loc, message))
    return found


def add_domain_error(
    form: forms.Form, error: DomainError, *, names: dict[str, str] | None = None
) -> None:
    """Put each problem of a service's refusal on the field it names, else on the form.

    `names` maps a service path (dotted, e.g. "attributes.mileage" or "price.amount") to a
    form field where they differ; a deeper path ("attributes.tags.0") goes to the field of
    its nearest named parent. Otherwise the path's first part is tried as the field name."""
    problems = error_fields(error)
    if not problems:
        form.add_error(None, error.detail)
        return
    for loc, message in problems:
        name = _field_for(loc, names or {})
        if name is None and loc and loc[0] in form.fields:
            name = loc[0]
        if name is not None and name in form.fields:
            form.add_error(name, message)
        else:
            where = ".".join(loc)
            form.add_error(None, f"{where}: {message}" if where else message)


def _field_for(loc: list[str], names: dict[str, str]) -> str | None:
    for size in range(len(loc), 0, -1):
        name = names.get(".".join(loc[:size]))
        if name is not None:
            return name
    return None


def money_text(amount: int, currency: str) -> str:
    return Money(amount, currency).format()
