"""The two full-text engines behind one search: each backend says, in its database's SQL,
how a query plan matches and scores, how far a document is, which documents lie within a
radius, and which vocabulary words a misspelling is near. Everything else — filters,
ranking blend, facets, pages — is shared SQL in agora.search.engine."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any, Protocol

from django.db import connections


@dataclass(frozen=True)
class Fragment:
    """A piece of SQL with its parameters."""

    sql: str
    params: tuple[Any, ...] = ()


class Backend(Protocol):
    CREATE: tuple[str, ...]
    DROP: tuple[str, ...]
    BROAD_ORDER: str

    def text_match(self, expression: str) -> tuple[Fragment, Fragment, Fragment]: ...

    def title_match(self, expression: str) -> tuple[Fragment, Fragment]: ...

    def text_count_upto(self, cursor: Any, expression: str, limit: int) -> int: ...

    def expression(self, groups: list[tuple[frozenset[str], str | None]]) -> str: ...

    def distance_km(self, lat: float, lng: float) -> Fragment: ...

    def within_km(
        self, lat: float, lng: float, radius_km: float, *, text_driven: bool
    ) -> Fragment: ...

    def nearest_first(self, lat: float, lng: float) -> Fragment: ...

    def term_candidates(self, cursor: Any, word: str, limit: int) -> list[str]: ...

    def estimate_rows(self, cursor: Any, sql: str, params: tuple[Any, ...]) -> int | None: ...


def backend_for(alias: str = "default") -> Backend:
    vendor = connections[alias].vendor
    module: ModuleType
    if vendor == "postgresql":
        from agora.search.backends import postgresql as module
    elif vendor == "sqlite":
        from agora.search.backends import sqlite as module
    else:  # pragma: no cover - the project supports these two
        raise RuntimeError(f"Search does not support the {vendor} database.")
    backend: Backend = module  # a module satisfies the protocol
    return backend
