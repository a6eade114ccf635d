"""PostgreSQL: a weighted `tsvector` per document (English stemming) filled by a trigger,
GIN-indexed and ranked with ts_rank_cd; earthdistance (cube) with a GiST index for the
radius and the distance; pg_trgm with a GiST index on the vocabulary for typo tolerance
(nearest words by trigram distance)."""

from __future__ import annotations

import json
import re
from typing import Any

from agora.search.backends import Fragment

# Which matches of a broad query are ranked (see engine.Statement.page).
BROAD_ORDER = "d.rating_score DESC, d.listing_id DESC"

CREATE: tuple[str, ...] = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE EXTENSION IF NOT EXISTS cube",
    "CREATE EXTENSION IF NOT EXISTS earthdistance",
    "ALTER TABLE search_searchdocument ADD COLUMN tsv tsvector",
    """CREATE FUNCTION search_document_tsv() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.tsv :=
            setweight(to_tsvector('english', NEW.title), 'A')
            || setweight(to_tsvector('english', NEW.categories || ' ' || NEW.vendor_name), 'B')
            || setweight(to_tsvector('english', NEW.extra), 'C')
            || setweight(to_tsvector('english', NEW.description), 'D');
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER search_document_tsv BEFORE INSERT OR UPDATE OF
        title, categories, vendor_name, extra, description ON search_searchdocument
        FOR EACH ROW EXECUTE FUNCTION search_document_tsv()""",
    "CREATE INDEX search_doc_tsv ON search_searchdocument USING gin (tsv)",
    "CREATE INDEX search_doc_title_tsv ON search_searchdocument"
    " USING gin (to_tsvector('english', title))",
    """CREATE INDEX search_doc_earth ON search_searchdocument USING gist (ll_to_earth(lat, lng))
        WHERE lat IS NOT NULL AND lng IS NOT NULL""",
    "CREATE INDEX search_term_trgm ON search_searchterm USING gist (term gist_trgm_ops)",
)

DROP: tuple[str, ...] = (
    "DROP INDEX IF EXISTS search_term_trgm",
    "DROP INDEX IF EXISTS search_doc_earth",
    "DROP INDEX IF EXISTS search_doc_title_tsv",
    "DROP INDEX IF EXISTS search_doc_tsv",
    "DROP TRIGGER IF EXISTS search_document_tsv ON search_searchdocument",
    "DROP FUNCTION IF EXISTS search_document_tsv()",
    "ALTER TABLE search_searchdocument DROP COLUMN IF EXISTS tsv",
)


def expression(groups: list[tuple[frozenset[str], str | None]]) -> str:
    """A to_tsquery expression: groups ANDed, a group's words ORed, a prefix as `:*`.
    Words are letters and digits only and quoted, so no query syntax leaks."""
    parts = []
    for words, prefix in groups:
        alternatives = [f"'{word}'" for word in sorted(words)]
        if prefix:
            alternatives.append(f"'{prefix}':*")
        parts.append(f"({' | '.join(alternatives)})")
    return " & ".join(parts)


def text_match(expression: str) -> tuple[Fragment, Fragment, Fragment]:
    """(source, condition, score): the score grows with relevance."""
    return (
        Fragment(
            "search_searchdocument d CROSS JOIN to_tsquery('english', %s) AS tq", (expression,)
        ),
        Fragment("d.tsv @@ tq"),
        Fragment("ts_rank_cd(d.tsv, tq)"),
    )


def text_count_upto(cursor: Any, expression: str, limit: int) -> int:
    cursor.execute(
        "SELECT count(*) FROM (SELECT 1 FROM search_searchdocument d"
        " WHERE d.tsv @@ to_tsquery('english', %s) LIMIT %s) matches",
        (expression, limit + 1),
    )
    return int(cursor.fetchone()[0])


def title_match(expression: str) -> tuple[Fragment, Fragment]:
    """Words of the title only: the same GIN index, each lexeme restricted to weight A
    (the title's). Matching `to_tsvector(title)` instead, the planner expected many rows
    for a prefix and computed it for every document (2 s at a million)."""
    titled = re.sub(r"'(\w+)'(:\*)?", lambda m: f"'{m[1]}':{'*' if m[2] else ''}A", expression)
    return (
        Fragment("search_searchdocument d"),
        Fragment("d.tsv @@ to_tsquery('english', %s)", (titled,)),
    )


def distance_km(lat: float, lng: float) -> Fragment:
    return Fragment(
        "(earth_distance(ll_to_earth(d.lat, d.lng), ll_to_earth(%s, %s)) / 1000.0)", (lat, lng)
    )


def within_km(lat: float, lng: float, radius_km: float, *, text_driven: bool) -> Fragment:
    """Documents within `radius_km`: the exact distance, after a cheaper first cut. Without
    words the GiST index finds the cube around the point. With words the full-text index
    drives and the cut is a latitude band per match: otherwise the planner ANDs both
    bitmaps, and a city's cube holds a sixth of a million listings (lossy, rechecked)."""
    exact = Fragment(
        "earth_distance(ll_to_earth(d.lat, d.lng), ll_to_earth(%s, %s)) <= %s",
        (lat, lng, radius_km * 1000.0),
    )
    if text_driven:
        band = radius_km / 111.0
        return Fragment(
            "d.lat BETWEEN %s AND %s AND " + exact.sql, (lat - band, lat + band, *exact.params)
        )
    return Fragment(
        "d.lat IS NOT NULL AND d.lng IS NOT NULL"
        " AND earth_box(ll_to_earth(%s, %s), %s) @> ll_to_earth(d.lat, d.lng) AND " + exact.sql,
        (lat, lng, radius_km * 1000.0, *exact.params),
    )


def nearest_first(lat: float, lng: float) -> Fragment:
    """An order by distance the GiST index can walk nearest-first (cube `<->`, the
    straight-line distance, which orders exactly like the great-circle one)."""
    return Fragment("ll_to_earth(d.lat, d.lng) <-> ll_to_earth(%s, %s)", (lat, lng))


def term_candidates(cursor: Any, word: str, limit: int) -> list[str]:
    """The vocabulary words nearest to `word` by trigram distance (a GiST KNN scan)."""
    cursor.execute(
        "SELECT term FROM search_searchterm ORDER BY term <-> %s LIMIT %s", (word, limit)
    )
    return [row[0] for row in cursor.fetchall()]


def estimate_rows(cursor: Any, sql: str, params: tuple[Any, ...]) -> int | None:
    """The planner's estimate of how many rows `sql` returns."""
    cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
    plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])
