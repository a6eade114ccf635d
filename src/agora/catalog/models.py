from __future__ import annotations

from django.db import models

from agora.core import clock
from agora.core.money import Money


class City(models.Model):
    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=120)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")
    lat = models.DecimalField(max_digits=9, decimal_places=6)
    lng = models.DecimalField(max_digits=9, decimal_places=6)
    timezone = models.CharField(max_length=64)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "cities"

    def __str__(self) -> str:
        return self.name


class Category(models.Model):
    """A node of the category tree. `path` is the slug chain from the root
    (`automotive/mot-servicing`), so "this category and its descendants" is one indexed
    prefix query at any depth.

    `attribute_schema` is a JSON Schema (object) for listing attributes; a listing is
    validated against its category's schema merged over every ancestor's (inheritance).
    """

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=120)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    path = models.CharField(max_length=400, unique=True, editable=False)
    attribute_schema = models.JSONField(default=dict, blank=True)
    description = models.TextField(blank=True, default="")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["path"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class ListingKind(models.TextChoices):
    SERVICE = "service", "Bookable service"
    PRODUCT = "product", "Product"
    QUOTE = "quote", "Request for quote"


class ListingStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    ARCHIVED = "archived", "Archived"


class Listing(models.Model):
    """Something a vendor sells: a bookable service, a product, or a quote-based job.

    Public only when its own status and its vendor's status are both `active`; public
    queries join on the vendor, so suspending a vendor hides its listings at once.
    """

    vendor = models.ForeignKey("vendors.Vendor", on_delete=models.CASCADE, related_name="listings")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="listings")
    kind = models.CharField(max_length=16, choices=ListingKind.choices)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    status = models.CharField(
        max_length=16, choices=ListingStatus.choices, default=ListingStatus.ACTIVE
    )
    price_amount = models.PositiveIntegerField(help_text="Minor units; a 'from' price for quotes.")
    currency = models.CharField(max_length=3)
    attributes = models.JSONField(default=dict, blank=True)

    # service
    duration_minutes = models.PositiveIntegerField(null=True, blank=True)
    capacity = models.PositiveIntegerField(default=1)
    buffer_before_minutes = models.PositiveIntegerField(default=0)
    buffer_after_minutes = models.PositiveIntegerField(default=0)
    min_notice_minutes = models.PositiveIntegerField(default=60)
    horizon_days = models.PositiveIntegerField(default=365)
    slot_step_minutes = models.PositiveIntegerField(null=True, blank=True)
    auto_accept = models.BooleanField(default=False)

    # product
    sku = models.CharField(max_length=64, blank=True, default="")
    stock = models.PositiveIntegerField(default=0)
    low_stock_threshold = models.PositiveIntegerField(default=0)
    weight_grams = models.PositiveIntegerField(default=0)

    rating_count = models.PositiveIntegerField(default=0)
    rating_sum = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        indexes = [
            models.Index(fields=["status", "category", "price_amount"]),
            models.Index(fields=["vendor", "status"]),
            models.Index(fields=["status", "created_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind="service")
                | models.Q(duration_minutes__isnull=False, duration_minutes__gt=0),
                name="service_has_duration",
            ),
            models.CheckConstraint(condition=models.Q(capacity__gte=1), name="capacity_positive"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def price(self) -> Money:
        return Money(self.price_amount, self.currency)

    @property
    def rating_average(self) -> float | None:
        return round(self.rating_sum / self.rating_count, 2) if self.rating_count else None


class ProductVariant(models.Model):
    """A sellable variant of a product (size, colour, fitment) with its own stock and,
    optionally, its own price."""

    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="variants")
    name = models.CharField(max_length=120)
    sku = models.CharField(max_length=64, blank=True, default="")
    price_amount = models.PositiveIntegerField(null=True, blank=True)
    stock = models.PositiveIntegerField(default=0)
    low_stock_threshold = models.PositiveIntegerField(default=0)
    attributes = models.JSONField(default=dict, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.listing_id}: {self.name}"


class PriceDimension(models.TextChoices):
    SKILL_TIER = "skill_tier", "Skill tier"
    URGENCY = "urgency", "Urgency"
    COMPLEXITY = "complexity", "Complexity"


class AdjustmentKind(models.TextChoices):
    ADDON = "addon", "Add-on (fixed amount)"
    MULTIPLIER = "multiplier", "Multiplier"


class PriceRule(models.Model):
    """One option of a pricing dimension, e.g. urgency=emergency → ×1.5, or
    skill_tier=master → +£20. Resolved by catalog.pricing.resolve_price."""

    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="price_rules")
    dimension = models.CharField(max_length=32, choices=PriceDimension.choices)
    option = models.SlugField(max_length=64)
    label = models.CharField(max_length=120, blank=True, default="")
    adjustment = models.CharField(max_length=16, choices=AdjustmentKind.choices)
    amount = models.IntegerField(default=0, help_text="Add-on in minor units.")
    multiplier_bp = models.PositiveIntegerField(default=10000, help_text="10000 = ×1.0")

    class Meta:
        ordering = ["dimension", "option"]
        constraints = [
            models.UniqueConstraint(
                fields=["listing", "dimension", "option"], name="price_rule_unique_option"
            )
        ]

    def __str__(self) -> str:
        return f"{self.dimension}={self.option}"


class ListingImage(models.Model):
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(upload_to="listings/%Y/%m/")
    thumbnail = models.ImageField(upload_to="listings/thumbs/%Y/%m/")
    alt = models.CharField(max_length=200, blank=True, default="")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"image {self.pk} of {self.listing_id}"
