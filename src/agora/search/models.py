"""The search document of each listing, and the vocabulary that typo tolerance corrects to.

A document copies what search filters, ranks and matches on — the listing's own fields,
its vendor's name, place and status, its category chain with synonyms — so a search reads
one table. Stock and slots are not copied: they change with every sale, and are read live
where a search asks for availability.

The full-text index lives beside the table and is kept by the database itself: on SQLite
an FTS5 table (external content) and an R*Tree of coordinates, synced by triggers; on
PostgreSQL a weighted `tsvector` column filled by a trigger, with GIN, trigram and
earthdistance indexes. Those objects are created by migration 0002 for each backend.
"""

from __future__ import annotations

from typing import Any

from django.db import models


class RowidOneToOneField(models.OneToOneField):
    """A one-to-one primary key that is SQLite's rowid (declared INTEGER, not bigint): the
    full-text index and every join then reach a document in one b-tree lookup instead of
    an index lookup and a table lookup. Other databases get the usual column type."""

    def db_type(self, connection: Any) -> str | None:
        if connection.vendor == "sqlite":
            return "integer"
        return super().db_type(connection)


class SearchDocument(models.Model):
    listing = RowidOneToOneField(
        "catalog.Listing", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    vendor = models.ForeignKey("vendors.Vendor", on_delete=models.CASCADE, related_name="+")
    # Filtered through the composite indexes below, so no index of their own.
    category = models.ForeignKey(
        "catalog.Category", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    # The category's slug chain, root first (`automotive/mot-servicing`): a subtree is one
    # indexed prefix range.
    category_path = models.CharField(max_length=400)
    city = models.ForeignKey("catalog.City", on_delete=models.SET_NULL, null=True, related_name="+")
    kind = models.CharField(max_length=16)
    # Listed and its vendor active: the only documents any search returns.
    visible = models.BooleanField()
    price_amount = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    rating_count = models.PositiveIntegerField(default=0)
    rating_sum = models.PositiveIntegerField(default=0)
    # The Bayesian rating (reviews.ratings.bayesian), so a single 5★ review does not rank
    # above two hundred at 4.8★.
    rating_score = models.FloatField(default=0)
    lat = models.FloatField(null=True)
    lng = models.FloatField(null=True)
    created_at = models.DateTimeField()

    # Matched text, most important first (the weights of the ranking follow this order).
    title = models.CharField(max_length=200)
    categories = models.TextField(help_text="Category names of the chain, with synonyms.")
    vendor_name = models.CharField(max_length=120)
    extra = models.TextField(help_text="Attribute values and the city's name.")
    description = models.TextField()
    # Filterable attributes as " name=value " pairs, for `attr.<name>=` filters and facets.
    attr_pairs = models.TextField(default="")

    class Meta:
        indexes = [
            models.Index(fields=["visible", "category_path"], name="search_doc_category"),
            models.Index(fields=["visible", "city", "price_amount"], name="search_doc_city"),
            models.Index(fields=["visible", "price_amount"], name="search_doc_price"),
            models.Index(fields=["visible", "created_at"], name="search_doc_newest"),
            models.Index(fields=["visible", "rating_score"], name="search_doc_rating"),
        ]

    def __str__(self) -> str:
        return f"search document of listing {self.listing_id}"


class SearchTerm(models.Model):
    """A word that occurs in some document: what a misspelt or half-typed word of a query
    is corrected or completed to. Words are only ever added (a stale one costs nothing but
    a correction that finds no listing)."""

    term = models.CharField(max_length=40, primary_key=True)

    def __str__(self) -> str:
        return self.term
