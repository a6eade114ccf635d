"""Search reads: listings for a query with facets and counts, type-ahead suggestions, and
related listings. The only reads of search documents; what a person then books or buys is
re-checked by bookings and orders, so search can never oversell."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from math import isfinite
from typing import Any

from django.core import signing
from django.db import connections
from django.db.models import Count, Prefetch, Q

from agora.bookings.selectors import first_free_slots
from agora.catalog.models import Category, City, Listing, ListingImage, ListingKind
from agora.catalog.selectors import category_effective_schema
from agora.core import clock
from agora.core.errors import InvalidInput
from agora.core.pagination import MAX_LIMIT
from agora.core.validation import check_coordinates, field_error
from agora.search.backends import backend_for
from agora.search.engine import Statement
from agora.search.plan import Plan, plan_for
from agora.search.text import query_words
from agora.vendors.models import Vendor, VendorStatus

MAX_RADIUS_KM = 20_000
# Facets and totals are exact up to this many matches, estimated (and said so) above it.
FACET_SAMPLE = 2_000
# A page never starts deeper than this in the ranking.
MAX_OFFSET = 10_000
# Availability: how many ranked candidates one page may examine for a free slot.
AVAILABILITY_SCAN = 400
AVAILABILITY_BATCH = 60
MAX_WINDOW = timedelta(days=62)
# Words matching more listings than this are "broad" (see engine.Statement.page).
BROAD_MATCHES = 20_000

SORTS = ("relevance", "distance", "price", "-price", "rating", "soonest", "newest")
SORT_ALIASES = {"price_asc": "price", "price_desc": "-price"}

# Price bands, in minor units: (key, low, high).
PRICE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("0-25", 0, 2_500),
    ("25-50", 2_500, 5_000),
    ("50-100", 5_000, 10_000),
    ("100-250", 10_000, 25_000),
    ("250-500", 25_000, 50_000),
    ("500+", 50_000, None),
)
RATING_STEPS = (4, 3, 2, 1)


@dataclass(frozen=True)
class SearchQuery:
    q: str | None = None
    category: str | None = None
    city: str | None = None
    vendor_id: int | None = None
    kind: str | None = None
    min_price: int | None = None
    max_price: int | None = None
    min_rating: float | None = None
    lat: float | None = None
    lng: float | None = None
    radius_km: float | None = None
    sort: str | None = None
    available_from: datetime | None = None
    available_to: datetime | None = None
    attrs: tuple[tuple[str, str], ...] = ()
    # Categories the signed-in customer has bought from, nudged up in relevance.
    boost_categories: tuple[int, ...] = ()

    @property
    def wants_availability(self) -> bool:
        return self.available_from is not None or self.available_to is not None

    @property
    def effective_sort(self) -> str:
        sort = SORT_ALIASES.get(self.sort or "", self.sort or "")
        if sort:
            return sort
        return "relevance" if (self.q and query_words(self.q)) else "newest"


@dataclass(frozen=True)
class Hit:
    listing: Listing
    distance_km: float | None = None
    next_available: datetime | None = None


@dataclass(frozen=True)
class SearchResult:
    items: list[Hit]
    next_cursor: str | None
    total: int
    total_is_estimate: bool
    facets: dict[str, dict[str, int]]
    did_you_mean: str | None = None
    plan: Plan = field(default_factory=Plan)


def _invalid(name: str, message: str, kind: str = "value_error") -> InvalidInput:
    return field_error(name, message, kind, where="query")


def _check(query: SearchQuery) -> str:
    sort = query.effective_sort
    if sort not in SORTS:
        raise InvalidInput(
            f"Unknown sort {query.sort!r}.",
            errors=[
                {"loc": ["query", "sort"], "msg": f"one of {', '.join(SORTS)}", "type": "enum"}
            ],
        )
    for name in ("lat", "lng", "radius_km", "min_rating"):
        value = getattr(query, name)
        if value is not None and not isfinite(value):
            raise _invalid(name, "must be a finite number", "finite_number")
    if query.radius_km is not None:
        if query.lat is None or query.lng is None:
            raise _invalid("radius_km", "needs lat and lng", "missing")
        if not 0 < query.radius_km <= MAX_RADIUS_KM:
            raise _invalid("radius_km", f"more than 0 and at most {MAX_RADIUS_KM:,}")
    if query.lat is not None or query.lng is not None:
        check_coordinates(query.lat, query.lng, where="query")
    if sort == "distance" and query.lat is None:
        raise _invalid("sort", "sorting by distance needs lat and lng", "missing")
    if (
        query.min_price is not None
        and query.max_price is not None
        and (query.min_price > query.max_price)
    ):
        raise _invalid("max_price", "must not be below min_price")
    if query.wants_availability:
        start, end = _window(query)
        if end <= start:
            raise _invalid("available_to", "must be after available_from")
        if end - start > MAX_WINDOW:
            raise _invalid("available_to", "ask for at most 62 days at a time")
    return sort


def _window(query: SearchQuery) -> tuple[datetime, datetime]:
    now = clock.now()
    start = max(query.available_from or now, now)
    end = query.available_to or start + timedelta(days=14)
    return start, end


def _statement(query: SearchQuery, plan: Plan) -> Statement | None:
    """The query as SQL, or None when a filter names nothing that exists."""
    backend = backend_for()
    statement = Statement(
        backend=backend,
        vendor=connections["default"].vendor,
        boost_categories=query.boost_categories,
    )
    if not plan.empty:
        expression = backend.expression(plan.matchable())
        source, condition, score = backend.text_match(expression)
        statement.source = source
        statement.text_expression = expression
        statement.conditions.append(condition)
        statement.text_score = score
    if query.category:
        path = Category.objects.filter(slug=query.category).values_list("path", flat=True).first()
        if path is None:
            return None
        statement.category_subtree(path)
    if query.city:
        statement.where("d.city_id IN (SELECT id FROM catalog_city WHERE slug = %s)", query.city)
    if query.vendor_id is not None:
        statement.where("d.vendor_id = %s", query.vendor_id)
    if query.kind:
        statement.where("d.kind = %s", query.kind)
    if query.min_price is not None:
        statement.where(f"{statement.filter_column('d.price_amount')} >= %s", query.min_price)
    if query.max_price is not None:
        statement.where(f"{statement.filter_column('d.price_amount')} <= %s", query.max_price)
    if query.min_rating is not None:
        statement.where(
            "d.rating_count > 0 AND d.rating_sum >= d.rating_count * %s", float(query.min_rating)
        )
    for name, value in query.attrs:
        statement.attribute(name, value.casefold())
    if query.wants_availability:
        statement.where("d.kind IN (%s, %s)", ListingKind.SERVICE.value, ListingKind.PRODUCT.value)
    if query.lat is not None and query.lng is not None:
        statement.distance = backend.distance_km(query.lat, query.lng)
        statement.nearest = backend.nearest_first(query.lat, query.lng)
        if query.effective_sort == "distance":
            # Sorted by distance, a listing without a place has no place in the order.
            statement.where("d.lat IS NOT NULL AND d.lng IS NOT NULL")
        if query.radius_km is not None:
            statement.conditions.append(
                backend.within_km(query.lat, query.lng, query.radius_km, text_driven=not plan.empty)
            )
    return statement


# --- pages -------------------------------------------------------------------------------


def _cursor_salt(query: SearchQuery) -> str:
    # The personal nudge is left out: a page's link must work for whoever follows it.
    return f"agora.search:{replace(query, boost_categories=())!r}"


def _offset(cursor: str | None, query: SearchQuery) -> int:
    if not cursor:
        return 0
    try:
        offset = signing.loads(cursor, salt=_cursor_salt(query))
    except signing.BadSignature as error:
        raise InvalidInput(
            "The cursor is not valid.",
            errors=[{"loc": ["query", "cursor"], "msg": "invalid cursor", "type": "cursor"}],
        ) from error
    if not isinstance(offset, int) or not 0 <= offset <= MAX_OFFSET:
        raise _invalid("cursor", "invalid cursor", "cursor")
    return offset


def _cursor(offset: int, query: SearchQuery) -> str | None:
    return signing.dumps(offset, salt=_cursor_salt(query)) if offset <= MAX_OFFSET else None


def _listings(ids: list[int]) -> dict[int, Listing]:
    rows = (
        Listing.objects.filter(pk__in=ids)
        .select_related("vendor", "vendor__city", "category")
        .prefetch_related(
            # Images in their order; variants for stock and prices.
            _images(),
            "variants",
        )
    )
    return {listing.pk: listing for listing in rows}


def _images() -> Prefetch:
    return Prefetch("images", queryset=ListingImage.objects.order_by("position", "id"))


def _in_stock(listing: Listing) -> bool:
    variants = list(listing.variants.all())
    return any(v.stock > 0 for v in variants) if variants else listing.stock > 0


def _available(listings: list[Listing], start: datetime, end: datetime) -> dict[int, datetime]:
    """When each listing is next free in the window: its first free slot (asked of
    bookings), or now for a product in stock."""
    now = clock.now()
    free = {
        pk: slot.start
        for pk, slot in first_free_slots(listings=listings, start=start, end=end, now=now).items()
    }
    for listing in listings:
        if listing.kind == ListingKind.PRODUCT and _in_stock(listing):
            free[listing.pk] = max(start, now)
    return free


def listings_search(
    *, query: SearchQuery, cursor: str | None = None, limit: int = 20, with_facets: bool = True
) -> SearchResult:
    """One page of public listings for `query`, best first, with facets and the total.

    Queries: the vocabulary (one, plus one per word it does not know), the category when
    filtered by one, the page, the facet sample (with an estimate when it overflows),
    and three to hydrate the page — however many listings match. Availability adds a
    fixed few per batch of candidates it examines.
    """
    limit = max(1, min(limit, MAX_LIMIT))
    sort = _check(query)
    offset = _offset(cursor, query)
    plan = plan_for(query.q) if query.q else Plan()
    statement = _statement(query, plan)
    if statement is None:
        return SearchResult([], None, 0, False, _empty_facets(), plan.corrected, plan)

    sample: list[tuple[Any, ...]] | None = None
    estimate: int | None = None
    availability_total: tuple[int, int, bool] | None = None
    if query.wants_availability or sort == "soonest":
        items, next_offset, availability_total = _available_page(
            query, statement, sort, offset, limit
        )
    else:
        if with_facets or offset:
            sample, estimate = statement.sample(FACET_SAMPLE)
        if sample is not None and estimate is None:
            # Every match is in the sample: its page needs no second pass.
            rows = statement.in_order(sample, sort)[offset : offset + limit + 1]
        else:
            rows = _ranked(query, statement, sort=sort, limit=limit + 1, offset=offset)
        found = _listings([pk for pk, _ in rows[:limit]])
        items = [Hit(found[pk], distance) for pk, distance in rows[:limit] if pk in found]
        next_offset = offset + limit if len(rows) > limit else None

    if sample is None and (with_facets or next_offset is not None):
        sample, estimate = statement.sample(FACET_SAMPLE)
    facets: dict[str, dict[str, int]] = {}
    if sample is None:
        total, estimated = offset + len(items), False
    else:
        total = estimate if estimate is not None else len(sample)
        estimated = estimate is not None
        if with_facets:
            scale = total / len(sample) if estimated and sample else 1.0
            facets = _facets(sample, query, scale=scale)
    if availability_total is not None:
        matched, scanned, exhausted = availability_total
        if exhausted and not estimated:
            total = matched
        else:
            total, estimated = round(total * matched / max(scanned, 1)), True
    return SearchResult(
        items=items,
        next_cursor=_cursor(next_offset, query) if next_offset is not None else None,
        total=total,
        total_is_estimate=estimated,
        facets=facets,
        did_you_mean=plan.corrected,
        plan=plan,
    )


def _ranked(
    query: SearchQuery, statement: Statement, *, sort: str, limit: int, offset: int
) -> list[tuple[int, float | None]]:
    """One page in `sort` order; for relevance, a broad query ranks a window of its
    matches (engine.Statement.page)."""
    broad = sort == "relevance" and statement.is_broad(BROAD_MATCHES)
    return statement.page(sort=sort, limit=limit, offset=offset, broad=broad)


def _available_page(
    query: SearchQuery, statement: Statement, sort: str, offset: int, limit: int
) -> tuple[list[Hit], int | None, tuple[int, int, bool]]:
    """A page of listings free in the window, walking the ranking in batches.

    Returns the hits, the offset of the next page, and (free, examined, whether the
    ranking was exhausted) for the total. `soonest` ranks the first AVAILABILITY_SCAN
    candidates by when they are next free."""
    start, end = _window(query)
    ranking = "relevance" if sort == "soonest" else sort
    if sort == "soonest":
        rows = _ranked(query, statement, sort=ranking, limit=AVAILABILITY_SCAN, offset=0)
        found = _listings([pk for pk, _ in rows])
        free = _available(list(found.values()), start, end)
        ordered = sorted(
            (Hit(found[pk], distance, free[pk]) for pk, distance in rows if pk in free),
            key=lambda hit: (hit.next_available, hit.listing.pk),
        )
        page = ordered[offset : offset + limit]
        following = offset + limit if len(ordered) > offset + limit else None
        return page, following, (len(ordered), len(rows), len(rows) < AVAILABILITY_SCAN)
    hits: list[Hit] = []
    position, examined, matched, exhausted = offset, 0, 0, False
    next_offset: int | None = None
    while examined < AVAILABILITY_SCAN:
        rows = _ranked(query, statement, sort=ranking, limit=AVAILABILITY_BATCH, offset=position)
        if not rows:
            exhausted = True
            break
        found = _listings([pk for pk, _ in rows])
        free = _available(list(found.values()), start, end)
        for index, (pk, distance) in enumerate(rows):
            if pk not in free:
                continue
            matched += 1
            if len(hits) == limit:
                next_offset = position + index
                break
            hits.append(Hit(found[pk], distance, free[pk]))
        if next_offset is not None:
            examined += index + 1
            break
        examined += len(rows)
        position += len(rows)
        if len(rows) < AVAILABILITY_BATCH:
            exhausted = True
            break
    else:
        next_offset = position  # the scan budget ran out; the next page goes on from here
    return hits, next_offset, (matched, examined, exhausted)


# --- facets ------------------------------------------------------------------------------


def _empty_facets() -> dict[str, dict[str, int]]:
    return {"category": {}, "city": {}, "kind": {}, "price_band": {}, "rating": {}}


def price_band(amount: int) -> str:
    for key, low, high in PRICE_BANDS:
        if amount >= low and (high is None or amount < high):
            return key
    return PRICE_BANDS[-1][0]


def _filterable(schema: dict[str, Any]) -> list[str]:
    names = []
    for name, spec in (schema.get("properties") or {}).items():
        if not isinstance(spec, dict):
            continue
        items = spec.get("items") if spec.get("type") == "array" else None
        if (
            spec.get("type") == "boolean"
            or "enum" in spec
            or (isinstance(items, dict) and "enum" in items)
        ):
            names.append(name)
    return names


def _facets(
    rows: list[tuple[Any, ...]], query: SearchQuery, *, scale: float
) -> dict[str, dict[str, int]]:
    """Counts per value over the matches (the sample, scaled when it is one). A category
    counts its own listings and its descendants'; a rating step counts listings rated at
    least that; attribute facets are the filterable attributes of the chosen category."""
    category: Counter[str] = Counter()
    cities: Counter[str] = Counter()
    kind: Counter[str] = Counter()
    bands: Counter[str] = Counter()
    rating: Counter[str] = Counter()
    pairs: Counter[str] = Counter()
    for row in rows:
        _pk, path, city_slug, listing_kind, amount, rating_count, rating_sum, attr_pairs = row[:8]
        for slug in path.split("/"):
            category[slug] += 1
        if city_slug is not None:
            cities[city_slug] += 1
        kind[listing_kind] += 1
        bands[price_band(amount)] += 1
        if rating_count:
            average = rating_sum / rating_count
            for step in RATING_STEPS:
                if average >= step:
                    rating[str(step)] += 1
        if attr_pairs:
            pairs.update(attr_pairs.split())

    def scaled(counter: Iterable[tuple[Any, int]]) -> dict[str, int]:
        return {str(k): max(1, round(v * scale)) for k, v in counter}

    facets = {
        "category": scaled(category.most_common()),
        "city": scaled(cities.most_common()),
        "kind": scaled(kind.most_common()),
        "price_band": scaled((key, bands[key]) for key, _, _ in PRICE_BANDS if bands[key]),
        "rating": scaled(
            (str(step), rating[str(step)]) for step in RATING_STEPS if rating[str(step)]
        ),
    }
    if query.category:
        chosen = Category.objects.filter(slug=query.category).first()
        if chosen is not None:
            for name in _filterable(category_effective_schema(chosen)):
                values = {
                    pair.split("=", 1)[1]: n
                    for pair, n in pairs.items()
                    if pair.split("=", 1)[0] == name
                }
                if values:
                    facets[f"attr.{name}"] = scaled(sorted(values.items(), key=lambda kv: -kv[1]))
    return facets


# --- suggestions and related listings ----------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    text: str
    kind: str
    url: str


def suggest(*, q: str, limit: int = 8) -> list[Suggestion]:
    """Type-ahead: categories, cities, vendors and listing titles matching what was typed
    so far (the last word as a prefix, misspellings corrected)."""
    words = query_words(q)
    if len(q.strip()) < 2 or not words:
        return []
    plan = plan_for(q)
    suggestions: list[Suggestion] = []
    seen: set[str] = set()

    def add(text: str, kind: str, url: str) -> None:
        key = f"{kind}:{text.casefold()}"
        if key not in seen and len(suggestions) < limit:
            seen.add(key)
            suggestions.append(Suggestion(text=text, kind=kind, url=url))

    def matches(name: str) -> bool:
        name_words = set(query_words(name))
        return all(
            any(_stem_equal(w, candidate) for w in name_words for candidate in group.words)
            or any(w.startswith(group.prefix) for w in name_words if group.prefix)
            for group in plan.groups
        )

    for category in Category.objects.order_by("path"):
        if matches(category.name):
            add(category.name, "category", f"/c/{category.slug}/")
    for city in City.objects.order_by("name"):
        if matches(city.name):
            add(city.name, "city", f"/search?city={city.slug}")
    backend = backend_for()
    expression = backend.expression(plan.matchable())
    source, condition = backend.title_match(expression)
    first = words[0]
    vendors = (
        Vendor.objects.filter(status=VendorStatus.ACTIVE)
        .filter(Q(name__istartswith=first) | Q(name__icontains=f" {first}"))
        .order_by("-rating_count", "name")
        .values_list("name", "slug")[:3]
    )
    for name, slug in vendors:
        add(name, "vendor", f"/v/{slug}/")
    with connections["default"].cursor() as cursor:
        cursor.execute(
            f"SELECT d.title, d.listing_id, d.rating_score FROM {source.sql}"
            f" WHERE d.visible = %s AND {condition.sql} LIMIT 50",
            (*source.params, True, *condition.params),
        )
        titles = sorted(cursor.fetchall(), key=lambda row: (-row[2], row[0]))
    for title, listing_id, _score in titles:
        add(title, "listing", f"/l/{listing_id}/")
    return suggestions


def _stem_equal(a: str, b: str) -> bool:
    return a.rstrip("s") == b.rstrip("s")


def related(*, listing_id: int, limit: int = 8) -> list[Listing]:
    """Listings the customers of this one also booked or bought, most shared first; when
    there are too few, similar ones (same category) nearest the listing's vendor."""
    from agora.bookings.models import Booking
    from agora.orders.models import OrderLine

    customers = set(
        Booking.objects.filter(listing_id=listing_id, paid_at__isnull=False).values_list(
            "customer_id", flat=True
        )
    ) | set(
        OrderLine.objects.filter(listing_id=listing_id, order__paid_at__isnull=False).values_list(
            "order__customer_id", flat=True
        )
    )
    scores: Counter[int] = Counter()
    if customers:
        customers_list = list(customers)[:500]
        scores.update(
            dict(
                Booking.objects.filter(customer_id__in=customers_list, paid_at__isnull=False)
                .exclude(listing_id=listing_id)
                .values("listing_id")
                .annotate(n=Count("customer_id", distinct=True))
                .values_list("listing_id", "n")
            )
        )
        scores.update(
            dict(
                OrderLine.objects.filter(
                    order__customer_id__in=customers_list, order__paid_at__isnull=False
                )
                .exclude(listing_id=listing_id)
                .values("listing_id")
                .annotate(n=Count("order__customer_id", distinct=True))
                .values_list("listing_id", "n")
            )
        )
    visible = set(_visible_ids([pk for pk, _ in scores.most_common(limit * 3)]))
    chosen = [pk for pk, _ in scores.most_common() if pk in visible][:limit]
    if len(chosen) < limit:
        chosen += [pk for pk in _nearby_similar(listing_id, limit=limit * 2) if pk not in chosen][
            : limit - len(chosen)
        ]
    found = _listings(chosen)
    return [found[pk] for pk in chosen if pk in found]


def _visible_ids(ids: list[int]) -> list[int]:
    from agora.search.models import SearchDocument

    if not ids:
        return []
    return list(
        SearchDocument.objects.filter(listing_id__in=ids, visible=True).values_list(
            "listing_id", flat=True
        )
    )


def _nearby_similar(listing_id: int, *, limit: int) -> list[int]:
    from agora.search.models import SearchDocument

    document = SearchDocument.objects.filter(listing_id=listing_id).first()
    if document is None:
        return []
    statement = _statement(
        SearchQuery(
            category=None,
            lat=document.lat,
            lng=document.lng,
        ),
        Plan(),
    )
    assert statement is not None
    statement.where("d.category_id = %s", document.category_id)
    statement.where("d.listing_id <> %s", listing_id)
    sort = "distance" if document.lat is not None else "rating"
    return [pk for pk, _ in statement.page(sort=sort, limit=limit, offset=0)]


def customer_categories(user: Any) -> tuple[int, ...]:
    """Categories a signed-in customer has booked or bought from (most recent 20)."""
    if not getattr(user, "is_authenticated", False):
        return ()
    from agora.bookings.models import Booking
    from agora.orders.models import OrderLine

    ids = set(
        Booking.objects.filter(customer=user, paid_at__isnull=False)
        .values_list("listing__category_id", flat=True)
        .distinct()[:20]
    ) | set(
        OrderLine.objects.filter(order__customer=user, order__paid_at__isnull=False)
        .values_list("listing__category_id", flat=True)
        .distinct()[:20]
    )
    return tuple(sorted(ids))


def popular(*, user: Any, limit: int = 4) -> tuple[str | None, list[Listing]]:
    """The best-rated listings (Bayesian, so a single review does not count for much) in
    the city a signed-in customer last booked or bought in, else anywhere: (city name or
    None, listings)."""
    city: City | None = None
    if getattr(user, "is_authenticated", False):
        from agora.bookings.models import Booking

        city_id = (
            Booking.objects.filter(customer=user, vendor__city__isnull=False)
            .order_by("-created_at")
            .values_list("vendor__city_id", flat=True)
            .first()
        )
        city = City.objects.filter(pk=city_id).first() if city_id else None
    result = listings_search(
        query=SearchQuery(sort="rating", city=city.slug if city else None),
        limit=limit,
        with_facets=False,
    )
    return (city.name if city else None), [hit.listing for hit in result.items]
