"""Expected refusals shown on the page that caused them, in words a customer can act on.

The services raise domain errors with stable codes (API.md); the pages keep the service's
detail unless a plainer sentence helps, and put field errors next to their fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from django import forms

from agora.core.errors import DomainError, InvalidInput

PLAIN_WORDS = {
    "slot_unavailable": "Sorry — that time was just taken or is full. Please choose another.",
    "hold_expired": (
        "Your hold has expired and the time was released. Please choose the time again."
    ),
    "card_declined": "Your card was declined. Nothing was charged; try another card.",
    "insufficient_funds": (
        "The card has insufficient funds. Nothing was charged; try another card."
    ),
    "checkout_expired": "Your reservation has expired; the items were released. Check out again.",
    "schedule_missing": "This vendor has not published opening hours yet, so it takes no bookings.",
}


def refusal_message(error: DomainError) -> str:
    return PLAIN_WORDS.get(str(error.code), error.detail)


def short_lines(error: DomainError) -> list[dict[str, Any]]:
    """The lines an out_of_stock refusal names (title, requested, available)."""
    return list(error.extra.get("lines", []))


def attach_to_form(form: forms.Form, error: DomainError) -> None:
    """Put a refusal on the form: field errors next to their fields when the service named
    one the form has, the rest above the form."""
    placed = False
    if isinstance(error, InvalidInput):
        for item in error.extra.get("errors", []):
            names = [part for part in item.get("loc", []) if isinstance(part, str)]
            field = next((name for name in reversed(names) if name in form.fields), None)
            if field is not None and field not in form.errors:
                form.add_error(field, str(item.get("msg") or error.detail))
                placed = True
    if not placed:
        form.add_error(None, refusal_message(error))


F = TypeVar("F", bound=forms.Form)


def form_again(form_class: type[F], data: Mapping[str, Any], error: DomainError) -> F:
    """The refused form shown again with what the customer entered, the refusal on it,
    and a fresh once-only token (the refused attempt claimed nothing)."""
    from agora.web.account import once

    form = form_class({**{key: data.get(key) for key in data}, "token": once.new_token()})
    form.is_valid()
    attach_to_form(form, error)
    return form
