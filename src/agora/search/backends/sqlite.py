"""SQLite: FTS5 over the documents (external content, Porter stemming, prefix indexes,
bm25 with column weights), an R*Tree of coordinates for the radius, and an FTS5 trigram
index of the vocabulary for typo tolerance. Triggers on the document and term tables keep
all three in the writing transaction."""

from __future__ import annotations

from math import cos, radians
from typing import Any

from agora.core.sqlite_backend.base import EARTH_RADIUS_KM
from agora.search.backends import Fragment
from agora.search.text import MIN_TERM

_TEXT = "title, categories, vendor_name, extra, description"
_NEW = ", ".join(f"new.{c}" for c in _TEXT.split(", "))
_OLD = ", ".join(f"old.{c}" for c in _TEXT.split(", "))
_CHANGED = " OR ".join(f"old.{c} IS NOT new.{c}" for c in _TEXT.split(", "))
# Column weights for bm25, in the order of _TEXT.
WEIGHTS = "10.0, 6.0, 4.0, 2.0, 1.0"

# Which matches of a broad query are ranked (see engine.Statement.page).
BROAD_ORDER = "search_fts.rowid DESC"

CREATE: tuple[str, ...] = (
    f"""CREATE VIRTUAL TABLE search_fts USING fts5({_TEXT},
        content='search_searchdocument', content_rowid='listing_id',
        tokenize='porter unicode61 remove_diacritics 2', prefix='2 3 4')""",
    f"""CREATE TRIGGER search_fts_insert AFTER INSERT ON search_searchdocument BEGIN
        INSERT INTO search_fts(rowid, {_TEXT}) VALUES (new.listing_id, {_NEW});
    END""",
    f"""CREATE TRIGGER search_fts_delete AFTER DELETE ON search_searchdocument BEGIN
        INSERT INTO search_fts(search_fts, rowid, {_TEXT})
            VALUES ('delete', old.listing_id, {_OLD});
    END""",
    f"""CREATE TRIGGER search_fts_update AFTER UPDATE ON search_searchdocument
        WHEN {_CHANGED} BEGIN
        INSERT INTO search_fts(search_fts, rowid, {_TEXT})
            VALUES ('delete', old.listing_id, {_OLD});
        INSERT INTO search_fts(rowid, {_TEXT}) VALUES (new.listing_id, {_NEW});
    END""",
    "CREATE VIRTUAL TABLE search_geo USING rtree(id, min_lat, max_lat, min_lng, max_lng)",
    """CREATE TRIGGER search_geo_insert AFTER INSERT ON search_searchdocument
        WHEN new.lat IS NOT NULL AND new.lng IS NOT NULL BEGIN
        INSERT INTO search_geo VALUES (new.listing_id, new.lat, new.lat, new.lng, new.lng);
    END""",
    """CREATE TRIGGER search_geo_delete AFTER DELETE ON search_searchdocument BEGIN
        DELETE FROM search_geo WHERE id = old.listing_id;
    END""",
    """CREATE TRIGGER search_geo_update AFTER UPDATE ON search_searchdocument
        WHEN old.lat IS NOT new.lat OR old.lng IS NOT new.lng BEGIN
        DELETE FROM search_geo WHERE id = old.listing_id;
        INSERT INTO search_geo SELECT new.listing_id, new.lat, new.lat, new.lng, new.lng
            WHERE new.lat IS NOT NULL AND new.lng IS NOT NULL;
    END""",
    """CREATE VIRTUAL TABLE search_term_trigrams USING fts5(term,
        content='search_searchterm', tokenize='trigram')""",
    """CREATE TRIGGER search_term_trigrams_insert AFTER INSERT ON search_searchterm BEGIN
        INSERT INTO search_term_trigrams(rowid, term) VALUES (new.rowid, new.term);
    END""",
    """CREATE TRIGGER search_term_trigrams_delete AFTER DELETE ON search_searchterm BEGIN
        INSERT INTO search_term_trigrams(search_term_trigrams, rowid, term)
            VALUES ('delete', old.rowid, old.term);
    END""",
)

DROP: tuple[str, ...] = (
    "DROP TRIGGER IF EXISTS search_term_trigrams_delete",
    "DROP TRIGGER IF EXISTS search_term_trigrams_insert",
    "DROP TABLE IF EXISTS search_term_trigrams",
    "DROP TRIGGER IF EXISTS search_geo_update",
    "DROP TRIGGER IF EXISTS search_geo_delete",
    "DROP TRIGGER IF EXISTS search_geo_insert",
    "DROP TABLE IF EXISTS search_geo",
    "DROP TRIGGER IF EXISTS search_fts_update",
    "DROP TRIGGER IF EXISTS search_fts_delete",
    "DROP TRIGGER IF EXISTS search_fts_insert",
    "DROP TABLE IF EXISTS search_fts",
)


def expression(groups: list[tuple[frozenset[str], str | None]]) -> str:
    """An FTS5 MATCH expression: every group must match, a group by any of its words (or
    by its prefix). Words are letters and digits only, quoted, so no query syntax leaks."""
    parts = []
    for words, prefix in groups:
        alternatives = [f'"{word}"' for word in sorted(words)]
        if prefix:
            alternatives.append(f'"{prefix}"*')
        parts.append(f"({' OR '.join(alternatives)})")
    return " AND ".join(parts)


def text_match(expression: str) -> tuple[Fragment, Fragment, Fragment]:
    """(source, condition, score): the score grows with relevance (bm25 is negative).

    CROSS JOIN fixes the order: the full-text index finds the matches, then each document
    is read by its key. Left to itself the planner may walk a filter's index and probe
    the full-text index once per document, a hundred times slower."""
    return (
        Fragment(
            "search_fts CROSS JOIN search_searchdocument d ON d.listing_id = search_fts.rowid"
        ),
        Fragment("search_fts MATCH %s", (expression,)),
        Fragment(f"(-bm25(search_fts, {WEIGHTS}))"),
    )


def text_count_upto(cursor: Any, expression: str, limit: int) -> int:
    cursor.execute(
        "SELECT count(*) FROM (SELECT 1 FROM search_fts WHERE search_fts MATCH %s LIMIT %s)",
        (expression, limit + 1),
    )
    return int(cursor.fetchone()[0])


def title_match(expression: str) -> tuple[Fragment, Fragment]:
    return (
        Fragment(
            "search_fts CROSS JOIN search_searchdocument d ON d.listing_id = search_fts.rowid"
        ),
        Fragment("search_fts MATCH %s", (f"title : ({expression})",)),
    )


def distance_km(lat: float, lng: float) -> Fragment:
    """Haversine in SQLite's own math functions (a Python callback per row costs ten times
    more), on the radius PostgreSQL's earthdistance uses."""
    return Fragment(
        f"(2 * {EARTH_RADIUS_KM} * asin(min(1.0, sqrt(pow(sin((radians(d.lat) - %s) / 2), 2)"
        " + %s * cos(radians(d.lat)) * pow(sin((radians(d.lng) - %s) / 2), 2)))))",
        (radians(lat), cos(radians(lat)), radians(lng)),
    )


def within_km(lat: float, lng: float, radius_km: float, *, text_driven: bool) -> Fragment:
    """Documents within `radius_km`: a box around the point, then the exact distance to
    trim its corners. With words to match, the full-text index drives and the box is a
    plain comparison on each match; without, the R*Tree finds the box's documents (an
    R*Tree subquery under a full-text scan would list every document in the box first).
    A box that would wrap a pole or the antimeridian is left out (the exact test alone)."""
    distance = distance_km(lat, lng)
    exact = Fragment(f"{distance.sql} <= %s", (*distance.params, radius_km))
    lat_delta = radius_km / 111.0
    cos_lat = cos(radians(lat))
    if abs(lat) + lat_delta >= 89.0 or cos_lat < 0.05:
        return exact
    lng_delta = radius_km / (111.0 * cos_lat)
    if abs(lng) + lng_delta >= 180.0:
        return exact
    box = (lat - lat_delta, lat + lat_delta, lng - lng_delta, lng + lng_delta)
    if text_driven:
        return Fragment(
            "d.lat BETWEEN %s AND %s AND d.lng BETWEEN %s AND %s AND " + exact.sql,
            (*box, *exact.params),
        )
    # R*Tree coordinates are 32-bit floats, rounded outwards: the box errs on the wide side.
    return Fragment(
        "d.listing_id IN (SELECT id FROM search_geo WHERE min_lat >= %s AND max_lat <= %s"
        " AND min_lng >= %s AND max_lng <= %s) AND " + exact.sql,
        (*box, *exact.params),
    )


def nearest_first(lat: float, lng: float) -> Fragment:
    """The order by distance (SQLite's R*Tree cannot walk nearest-first)."""
    return distance_km(lat, lng)


def term_candidates(cursor: Any, word: str, limit: int) -> list[str]:
    """Vocabulary words sharing the most trigrams with `word`."""
    grams = sorted({word[i : i + 3] for i in range(len(word) - 2)})
    if len(word) < MIN_TERM + 1 or not grams:
        return []
    cursor.execute(
        "SELECT t.term FROM search_term_trigrams"
        " JOIN search_searchterm t ON t.rowid = search_term_trigrams.rowid"
        " WHERE search_term_trigrams MATCH %s ORDER BY rank LIMIT %s",
        (" OR ".join(f'"{g}"' for g in grams), limit),
    )
    return [row[0] for row in cursor.fetchall()]


def estimate_rows(cursor: Any, sql: str, params: tuple[Any, ...]) -> int | None:
    return None  # SQLite has no row estimates; the engine estimates from id density
