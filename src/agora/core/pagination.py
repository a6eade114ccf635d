"""Cursor (keyset) pagination: `{"items": [...], "next_cursor": "..." | null}`.

A cursor carries the sort-key values of the last row served, signed so a client cannot
forge one into a 500. Keyset pages stay fast at any depth and never skip or repeat a row
when rows are inserted between requests, unlike OFFSET.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from django.core import signing
from django.db.models import Model, Q, QuerySet
from django.utils.dateparse import parse_datetime
from ninja import Schema

from agora.core.errors import InvalidInput

M = TypeVar("M", bound=Model)
T = TypeVar("T")

_SALT = "agora.pagination"
MAX_LIMIT = 100
DEFAULT_LIMIT = 20


@dataclass(frozen=True)
class Page(Generic[M]):
    items: list[M]
    next_cursor: str | None


class PageOut(Schema, Generic[T]):
    items: list[T]
    next_cursor: str | None


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"dt": value.isoformat()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and "dt" in value:
        return parse_datetime(value["dt"])
    return value


def paginate(
    queryset: QuerySet[M],
    *,
    ordering: tuple[str, ...],
    cursor: str | None,
    limit: int = DEFAULT_LIMIT,
) -> Page[M]:
    """One page of `queryset` in `ordering` (field names, `-` for descending).

    The last field of `ordering` must be unique (normally `id`/`-id`) so the order is total.
    """
    limit = max(1, min(limit, MAX_LIMIT))
    queryset = queryset.order_by(*ordering)
    fields = [name.lstrip("-") for name in ordering]
    if cursor:
        try:
            values = [_decode(v) for v in signing.loads(cursor, salt=_salt(queryset, ordering))]
        except (signing.BadSignature, TypeError, ValueError) as error:
            raise InvalidInput(
                "The cursor is not valid.",
                errors=[{"loc": ["query", "cursor"], "msg": "invalid cursor", "type": "cursor"}],
            ) from error
        if len(values) != len(fields):
            raise InvalidInput("The cursor does not belong to this list.")
        queryset = queryset.filter(_after(ordering, values))
    rows = list(queryset[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = signing.dumps(
            [_encode(_attr(last, field)) for field in fields],
            salt=_salt(queryset, ordering),
            compress=True,
        )
    return Page(items=rows, next_cursor=next_cursor)


def _salt(queryset: QuerySet[Any], ordering: tuple[str, ...]) -> str:
    """Bind a cursor to the list that issued it (model and sort keys).

    Another list's cursor then fails the signature check and becomes InvalidInput, instead
    of reaching the database as, say, a vendor's name compared with a timestamp (a 500).
    """
    return f"{_SALT}:{queryset.model._meta.label_lower}:{','.join(ordering)}"


def _attr(obj: Any, path: str) -> Any:
    for part in path.split("__"):
        obj = getattr(obj, part)
    return obj


def _after(ordering: tuple[str, ...], values: list[Any]) -> Q:
    """Rows strictly after `values` in lexicographic `ordering`."""
    condition = Q()
    for index, name in enumerate(ordering):
        field = name.lstrip("-")
        lookup = "lt" if name.startswith("-") else "gt"
        clause = Q(**{f"{field}__{lookup}": values[index]})
        for previous in range(index):
            clause &= Q(**{ordering[previous].lstrip("-"): values[previous]})
        condition |= clause
    return condition
