"""Building and refreshing search documents.

Every refresh is set-based (a few queries per batch of listings, however many) and runs in
the caller's transaction, so what a search finds is what was committed with it: a renamed
listing or a suspended vendor is found — or gone — in the very next request.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from typing import Any

from django.conf import settings
from django.db.models import Q

from agora.catalog.models import Category, City, Listing, ListingStatus
from agora.search.models import SearchDocument, SearchTerm
from agora.search.synonyms import expand_for_index
from agora.search.text import terms, words
from agora.vendors.models import Vendor, VendorStatus

BATCH = 1000
_FIELDS = [f.name for f in SearchDocument._meta.concrete_fields if not f.primary_key]


def bayesian(count: int, total: int) -> float:
    """The reviews' Bayesian rating (reviews.ratings.bayesian): the same prior, read here
    from the same settings so search stays below reviews."""
    mean, weight = float(settings.AGORA_REVIEW_PRIOR_MEAN), int(settings.AGORA_REVIEW_PRIOR_WEIGHT)
    return (weight * mean + total) / (weight + count) if weight + count else 0.0


def chain_of(category_id: int, by_id: dict[int, Category]) -> list[Category]:
    """The category's ancestors and itself, root first."""
    chain = [by_id[category_id]]
    while chain[-1].parent_id is not None and chain[-1].parent_id in by_id:
        chain.append(by_id[chain[-1].parent_id])
    return list(reversed(chain))


def _chains(categories: Iterable[Category]) -> dict[int, list[Category]]:
    by_id = {c.pk: c for c in categories}
    chains: dict[int, list[Category]] = {}
    for category in by_id.values():
        chain, node = [category], category
        while node.parent_id is not None and node.parent_id in by_id:
            node = by_id[node.parent_id]
            chain.append(node)
        chains[category.pk] = list(reversed(chain))
    return chains


def _attribute_text(attributes: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(words, pairs): values people may type (strings, true flags by their name) and
    `name=value` pairs for attribute filters and facets."""
    text: list[str] = []
    pairs: list[str] = []
    for name, value in attributes.items():
        values = value if isinstance(value, list) else [value]
        for item in values:
            if isinstance(item, bool):
                pairs.append(f"{name}={'true' if item else 'false'}")
                if item:
                    text.append(name.replace("_", " "))
            elif isinstance(item, str | int) and not isinstance(item, bool):
                pairs.append(f"{name}={str(item).casefold()}")
                text.append(str(item))
    return text, pairs


def build(
    listing: Listing,
    *,
    vendor: Vendor,
    chain: list[Category],
    cities: dict[int, City],
) -> SearchDocument:
    city = cities.get(vendor.city_id) if vendor.city_id else None
    attribute_words, pairs = _attribute_text(listing.attributes or {})
    category_words = expand_for_index(words(" ".join(c.name for c in chain)))
    return SearchDocument(
        listing_id=listing.pk,
        vendor_id=vendor.pk,
        category_id=listing.category_id,
        category_path=chain[-1].path if chain else "",
        city_id=vendor.city_id,
        kind=listing.kind,
        visible=listing.status == ListingStatus.ACTIVE and vendor.status == VendorStatus.ACTIVE,
        price_amount=listing.price_amount,
        currency=listing.currency,
        rating_count=listing.rating_count,
        rating_sum=listing.rating_sum,
        rating_score=bayesian(listing.rating_count, listing.rating_sum),
        lat=float(vendor.lat) if vendor.lat is not None else None,
        lng=float(vendor.lng) if vendor.lng is not None else None,
        created_at=listing.created_at,
        title=listing.title,
        categories=" ".join(category_words),
        vendor_name=vendor.name,
        extra=" ".join([*attribute_words, city.name if city else ""]).strip(),
        description=listing.description,
        attr_pairs=f" {' '.join(pairs)} " if pairs else "",
    )


def _batches(ids: Collection[int]) -> Iterator[list[int]]:
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), BATCH):
        yield ordered[start : start + BATCH]


def save(documents: list[SearchDocument]) -> None:
    """Insert or replace documents, and add their words to the vocabulary."""
    if not documents:
        return
    SearchDocument.objects.bulk_create(
        documents, update_conflicts=True, unique_fields=["listing"], update_fields=_FIELDS
    )
    vocabulary: set[str] = set()
    for document in documents:
        for text in (document.title, document.categories, document.vendor_name, document.extra):
            vocabulary |= terms(text)
        vocabulary |= terms(document.description)
    SearchTerm.objects.bulk_create(
        [SearchTerm(term=term) for term in sorted(vocabulary)], ignore_conflicts=True
    )


def refresh_listings(listing_ids: Collection[int]) -> None:
    """Rebuild the documents of these listings (a deleted listing's goes with it)."""
    if not listing_ids:
        return
    chains = _chains(Category.objects.all())
    cities: dict[int, City] = {}
    for batch in _batches(listing_ids):
        listings = list(Listing.objects.filter(pk__in=batch).select_related("vendor"))
        city_ids = {x.vendor.city_id for x in listings if x.vendor.city_id} - set(cities)
        cities.update({c.pk: c for c in City.objects.filter(pk__in=city_ids)})
        save(
            [
                build(x, vendor=x.vendor, chain=chains.get(x.category_id, []), cities=cities)
                for x in listings
            ]
        )


def refresh_where(condition: Q) -> None:
    refresh_listings(list(Listing.objects.filter(condition).values_list("pk", flat=True)))


def refresh_vendor(vendor_id: int) -> None:
    refresh_where(Q(vendor_id=vendor_id))


def refresh_category(category: Category) -> None:
    """The category's subtree: its name is in each of their documents."""
    refresh_where(
        Q(category__path=category.path) | Q(category__path__startswith=f"{category.path}/")
    )


def refresh_city(city_id: int) -> None:
    refresh_where(Q(vendor__city_id=city_id))


def rebuild_all(*, progress: Callable[[int, int], None] | None = None) -> int:
    """Rebuild every document (after an upgrade or a bulk load); returns how many."""
    ids = list(Listing.objects.order_by("pk").values_list("pk", flat=True))
    done = 0
    for batch in _batches(ids):
        refresh_listings(batch)
        done += len(batch)
        if progress:
            progress(done, len(ids))
    SearchDocument.objects.exclude(listing_id__in=Listing.objects.values("pk")).delete()
    return done


def missing_count() -> int:
    return Listing.objects.count() - SearchDocument.objects.count()
