"""The shared SQL of a search: filters, the ranking blend, order, pages and the facet
sample, around the backend's full-text and distance fragments.

One ranking for both databases:

    score = text relevance × (0.85 + 0.03 × Bayesian rating) × 1 / (1 + distance / 10 km)
            × 1.15 for a category the signed-in customer has bought from before

Relevance is bm25 on SQLite and ts_rank_cd on PostgreSQL (weights: title, then category
and vendor, then attributes and city, then description). The Bayesian rating (0–5) lifts
a well-reviewed listing by up to a sixth over an unrated one — enough to order equally
good matches, never enough to bury a title match under a description match; distance
halves the score at 10 km.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import connections

from agora.search.backends import Backend, Fragment

RANKED_SORTS = ("relevance", "distance", "price", "-price", "rating", "newest")
# A broad query ranks this many of its best-rated matches by relevance.
BROAD_CANDIDATES = 2_000


@dataclass
class Statement:
    """A search as SQL pieces; `sql()` assembles them for one use."""

    backend: Backend
    vendor: str
    source: Fragment = field(default_factory=lambda: Fragment("search_searchdocument d"))
    text_expression: str | None = None
    conditions: list[Fragment] = field(default_factory=list)
    text_score: Fragment | None = None
    distance: Fragment | None = None
    # What `sort=distance` orders by (the distance, or what orders like it on an index).
    nearest: Fragment | None = None
    boost_categories: tuple[int, ...] = ()

    def where(self, sql: str, *params: Any) -> None:
        self.conditions.append(Fragment(sql, params))

    def filter_column(self, column: str) -> str:
        """`column` as a filter writes it. Under a full-text match on PostgreSQL the column
        is wrapped so its index is not used: the planner would AND that index's bitmap
        (a price range: 400,000 rows at a million) with the text's, rather than filter the
        text's few thousand matches."""
        if self.vendor == "postgresql" and self.text_expression is not None:
            return f"({column} || '')" if column == "d.category_path" else f"({column} + 0)"
        return column

    def category_subtree(self, path: str) -> None:
        column = self.filter_column("d.category_path")
        if self.vendor == "postgresql":
            escaped = path.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            self.where(f"({column} = %s OR {column} LIKE %s)", path, f"{escaped}/%")
        else:
            # A range on the index: every path below `path/` sorts before `path0`.
            self.where(
                "(d.category_path = %s OR (d.category_path >= %s AND d.category_path < %s))",
                path,
                f"{path}/",
                f"{path}0",
            )

    def attribute(self, name: str, value: str) -> None:
        pair = f"{name}={value}".replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        self.where("d.attr_pairs LIKE %s ESCAPE '\\'", f"% {pair} %")

    def _from_where(self) -> tuple[str, list[Any]]:
        params: list[Any] = list(self.source.params)
        sql = f" FROM {self.source.sql} WHERE d.visible = %s"
        params.append(True)
        for condition in self.conditions:
            sql += f" AND {condition.sql}"
            params.extend(condition.params)
        return sql, params

    def score(self) -> Fragment:
        parts: list[str] = []
        params: list[Any] = []
        if self.text_score is not None:
            parts.append(self.text_score.sql)
            params.extend(self.text_score.params)
        parts.append("(0.85 + 0.03 * d.rating_score)")
        if self.distance is not None:
            parts.append(f"(1.0 / (1.0 + COALESCE({self.distance.sql}, 1000.0) / 10.0))")
            params.extend(self.distance.params)
        if self.boost_categories:
            marks = ", ".join(["%s"] * len(self.boost_categories))
            parts.append(f"(CASE WHEN d.category_id IN ({marks}) THEN 1.15 ELSE 1.0 END)")
            params.extend(self.boost_categories)
        return Fragment(" * ".join(parts), tuple(params))

    def _order(self, sort: str) -> tuple[str, list[Any]]:
        if sort == "relevance":
            score = self.score()
            return f"{score.sql} DESC, d.listing_id DESC", list(score.params)
        if sort == "distance":
            # Only listings with a place take part (the statement says so, see selectors).
            assert self.nearest is not None
            return f"{self.nearest.sql}, d.listing_id ASC", list(self.nearest.params)
        return {
            "price": ("d.price_amount ASC, d.listing_id ASC", []),
            "-price": ("d.price_amount DESC, d.listing_id DESC", []),
            "rating": ("d.rating_score DESC, d.rating_count DESC, d.listing_id DESC", []),
            "newest": ("d.created_at DESC, d.listing_id DESC", []),
        }[sort]

    def is_broad(self, threshold: int) -> bool:
        """Whether the words alone match more than `threshold` documents (counted in the
        full-text index only, and no further than that)."""
        if self.text_expression is None:
            return False
        with connections["default"].cursor() as cursor:
            return self.backend.text_count_upto(cursor, self.text_expression, threshold) > threshold

    def page(
        self, *, sort: str, limit: int, offset: int, broad: bool = False
    ) -> list[tuple[int, float | None]]:
        """(listing id, distance in km or None) of one page in `sort` order.

        Every match of a narrow query is ranked. A broad one (a word matching tens of
        thousands of listings) ranks BROAD_CANDIDATES of its matches by relevance — the
        newest on SQLite, read straight off the full-text index; the best-rated on
        PostgreSQL, read off the rating index — since the text scores of so common a
        word barely differ. The other sorts are exact either way.
        """
        from_where, params = self._from_where()
        select = "SELECT d.listing_id"
        select_params: list[Any] = []
        if self.distance is not None:
            select += f", {self.distance.sql}"
            select_params.extend(self.distance.params)
        else:
            select += ", NULL"
        if broad and sort == "relevance":
            score = self.score()
            inner = (
                f"{select} AS distance, {score.sql} AS score{from_where}"
                f" ORDER BY {self.backend.BROAD_ORDER} LIMIT %s"
            )
            sql = (
                f"SELECT listing_id, distance FROM ({inner}) candidates"
                " ORDER BY score DESC, listing_id DESC LIMIT %s OFFSET %s"
            )
            args: tuple[Any, ...] = (
                *select_params,
                *score.params,
                *params,
                BROAD_CANDIDATES,
                limit,
                offset,
            )
        else:
            order, order_params = self._order(sort)
            sql = f"{select}{from_where} ORDER BY {order} LIMIT %s OFFSET %s"
            args = (*select_params, *params, *order_params, limit, offset)
        with connections["default"].cursor() as cursor:
            cursor.execute(sql, args)
            return [(int(row[0]), None if row[1] is None else float(row[1])) for row in cursor]

    def sample(self, size: int) -> tuple[list[tuple[Any, ...]], int | None]:
        """Up to `size + 1` matching rows, and — when there are more — an estimate of how
        many match in all. Each row is (id, category path, city slug, kind, price, rating
        count, rating sum, attribute pairs, score, distance, Bayesian rating, created at,
        lat): the facet fields, then what `in_order` sorts by, so a query with fewer
        matches than `size` needs no second pass for its page.

        The sample is taken in id order (on SQLite the full-text index yields matches in
        that order, so no sort), and the estimate scales its size by how much of the id
        range it covered; PostgreSQL's planner estimates instead.
        """
        from_where, params = self._from_where()
        score = self.score()
        distance = self.distance or Fragment("NULL")
        columns = (
            "SELECT d.listing_id, d.category_path,"
            " (SELECT c.slug FROM catalog_city c WHERE c.id = d.city_id), d.kind,"
            " d.price_amount, d.rating_count, d.rating_sum, d.attr_pairs,"
            f" {score.sql}, {distance.sql}, d.rating_score, d.created_at, d.lat"
        )
        params = [*score.params, *distance.params, *params]
        if self.vendor == "sqlite":
            order = (
                " ORDER BY search_fts.rowid" if self._has_fts_join() else " ORDER BY d.listing_id"
            )
        else:
            order = ""
        sql = f"{columns}{from_where}{order} LIMIT %s"
        with connections["default"].cursor() as cursor:
            cursor.execute(sql, (*params, size + 1))
            rows = cursor.fetchall()
            if len(rows) <= size:
                return rows, None
            estimate = self.backend.estimate_rows(
                cursor,
                f"SELECT 1{from_where}",
                tuple(params[len(score.params) + len(distance.params) :]),
            )
            if estimate is None:
                # Two subqueries: SQLite reads a MIN or a MAX off the index only when the
                # query has nothing else.
                cursor.execute(
                    "SELECT (SELECT MIN(listing_id) FROM search_searchdocument),"
                    " (SELECT MAX(listing_id) FROM search_searchdocument)"
                )
                low, high = cursor.fetchone()
                last = rows[-1][0]
                covered = max(1, last - low + 1)
                estimate = round(len(rows) * (high - low + 1) / covered)
        return rows, max(estimate, len(rows))

    @staticmethod
    def in_order(rows: list[tuple[Any, ...]], sort: str) -> list[tuple[int, float | None]]:
        """Sample rows in `sort` order — the same order, ties included, as `page`'s SQL."""
        keys: dict[str, Any] = {
            "relevance": lambda r: (-r[8], -r[0]),
            "distance": lambda r: (r[12] is None, r[9] if r[9] is not None else 0.0, r[0]),
            "price": lambda r: (r[4], r[0]),
            "-price": lambda r: (-r[4], -r[0]),
            "rating": lambda r: (-r[10], -r[5], -r[0]),
        }
        if sort == "newest":
            ordered = sorted(rows, key=lambda r: (r[11], r[0]), reverse=True)
        else:
            ordered = sorted(rows, key=keys[sort])
        return [(int(r[0]), None if r[9] is None else float(r[9])) for r in ordered]

    def _has_fts_join(self) -> bool:
        return "search_fts" in self.source.sql
