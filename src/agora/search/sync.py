"""Documents follow the rows they copy, in the same transaction: listing, vendor, category
and city saves, lifecycle transitions (a vendor suspended) and rating changes — the last
two are conditional UPDATEs that bypass save(), so they send signals of their own.

Stock and slots are not in documents, so sales never write here."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_migrate, post_save

from agora.catalog.models import Category, City, Listing
from agora.core.statemachine import transitioned
from agora.search import documents
from agora.vendors.models import Vendor

# Vendor fields a document copies; saving only others (a logo, a phone) changes nothing.
_VENDOR_FIELDS = frozenset({"name", "status", "city", "city_id", "lat", "lng"})
_CATEGORY_FIELDS = frozenset({"name", "parent", "parent_id", "path", "slug"})


def _listing_saved(sender: Any, instance: Listing, raw: bool = False, **kwargs: Any) -> None:
    if not raw:
        documents.refresh_listings([instance.pk])


def _vendor_saved(
    sender: Any, instance: Vendor, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    fields = kwargs.get("update_fields")
    if raw or created or (fields is not None and not _VENDOR_FIELDS & set(fields)):
        return
    documents.refresh_vendor(instance.pk)


def _category_saved(
    sender: Any, instance: Category, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    fields = kwargs.get("update_fields")
    if raw or created or (fields is not None and not _CATEGORY_FIELDS & set(fields)):
        return
    documents.refresh_category(instance)


def _city_saved(
    sender: Any, instance: City, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    if not (raw or created):
        documents.refresh_city(instance.pk)


def _transitioned(sender: Any, instance: Any, **kwargs: Any) -> None:
    if sender is Vendor:
        documents.refresh_vendor(instance.pk)
    elif sender is Listing:
        documents.refresh_listings([instance.pk])


def _ratings_changed(sender: Any, listing_ids: list[int], **kwargs: Any) -> None:
    documents.refresh_listings(listing_ids)


def _migrated(sender: Any, app_config: Any, using: str = "default", **kwargs: Any) -> None:
    # Listings that existed before search did (or were bulk-loaded without documents) get
    # theirs once the schema is in place.
    if app_config.label == "search" and documents.missing_count():
        documents.rebuild_all()


def connect() -> None:
    from agora.reviews.ratings import ratings_changed

    post_save.connect(_listing_saved, sender=Listing, dispatch_uid="search.listing")
    post_save.connect(_vendor_saved, sender=Vendor, dispatch_uid="search.vendor")
    post_save.connect(_category_saved, sender=Category, dispatch_uid="search.category")
    post_save.connect(_city_saved, sender=City, dispatch_uid="search.city")
    ratings_changed.connect(_ratings_changed, dispatch_uid="search.ratings")
    transitioned.connect(_transitioned, dispatch_uid="search.transitions")
    post_migrate.connect(_migrated, dispatch_uid="search.backfill")
