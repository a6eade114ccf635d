from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from agora.core import clock


class Cart(models.Model):
    """A signed-in customer's cart, or an anonymous session's (merged at sign-in)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="cart",
    )
    session_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    updated_at = models.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return f"cart {self.pk}"


class CartItem(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="items")
    listing = models.ForeignKey("catalog.Listing", on_delete=models.CASCADE, related_name="+")
    variant = models.ForeignKey(
        "catalog.ProductVariant", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    quantity = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cart", "listing", "variant"], name="cart_item_unique"),
            models.UniqueConstraint(
                fields=["cart", "listing"],
                condition=Q(variant__isnull=True),
                name="cart_item_unique_plain",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.listing_id}"


class CheckoutStatus(models.TextChoices):
    RESERVED = "reserved", "Reserved (awaiting payment)"
    PAID = "paid", "Paid"
    EXPIRED = "expired", "Expired"


class Checkout(models.Model):
    """One customer purchase across vendors: one payment, one VendorOrder per vendor."""

    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="checkouts"
    )
    status = models.CharField(
        max_length=16, choices=CheckoutStatus.choices, default=CheckoutStatus.RESERVED
    )
    currency = models.CharField(max_length=3)
    total_amount = models.PositiveIntegerField()
    shipping_address = models.JSONField()
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(default=clock.now)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "expires_at"])]

    def __str__(self) -> str:
        return f"checkout {self.pk} ({self.status})"

    @property
    def reference(self) -> str:
        return f"checkout:{self.pk}"


class OrderStatus(models.TextChoices):
    RESERVED = "reserved", "Reserved"
    PAID = "paid", "Paid"
    ACCEPTED = "accepted", "Accepted"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    REFUNDED = "refunded", "Refunded"
    EXPIRED = "expired", "Expired"


class VendorOrder(models.Model):
    """One vendor's part of a checkout, with its own lifecycle and ledger entries."""

    checkout = models.ForeignKey(Checkout, on_delete=models.PROTECT, related_name="orders")
    vendor = models.ForeignKey("vendors.Vendor", on_delete=models.PROTECT, related_name="orders")
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders"
    )
    status = models.CharField(
        max_length=16, choices=OrderStatus.choices, default=OrderStatus.RESERVED
    )
    currency = models.CharField(max_length=3)
    subtotal_amount = models.PositiveIntegerField()
    shipping_amount = models.PositiveIntegerField()
    total_amount = models.PositiveIntegerField()
    weight_grams = models.PositiveIntegerField(default=0)
    carrier = models.CharField(max_length=60, blank=True, default="")
    tracking_number = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(default=clock.now)
    paid_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    escrow_released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["vendor", "status", "-created_at"]),
            models.Index(fields=["customer", "-created_at"]),
            models.Index(fields=["status", "paid_at"]),
        ]

    def __str__(self) -> str:
        return f"order {self.pk} ({self.status})"

    @property
    def reference(self) -> str:
        return f"order:{self.pk}"


class OrderLine(models.Model):
    order = models.ForeignKey(VendorOrder, on_delete=models.CASCADE, related_name="lines")
    listing = models.ForeignKey("catalog.Listing", on_delete=models.PROTECT, related_name="+")
    variant = models.ForeignKey(
        "catalog.ProductVariant", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(max_length=300)
    unit_price_amount = models.PositiveIntegerField()
    quantity = models.PositiveIntegerField()
    line_total_amount = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.quantity} × {self.title}"


class ReservationStatus(models.TextChoices):
    LIVE = "live", "Live"
    CONSUMED = "consumed", "Consumed by payment"
    RELEASED = "released", "Released"


class StockReservation(models.Model):
    """Stock taken for a checkout until it is paid or `expires_at` passes. The units left
    the item's stock when reserved; releasing puts them back."""

    checkout = models.ForeignKey(Checkout, on_delete=models.CASCADE, related_name="reservations")
    listing = models.ForeignKey("catalog.Listing", on_delete=models.CASCADE, related_name="+")
    variant = models.ForeignKey(
        "catalog.ProductVariant", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    quantity = models.PositiveIntegerField()
    status = models.CharField(
        max_length=16, choices=ReservationStatus.choices, default=ReservationStatus.LIVE
    )
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["listing", "variant", "status", "expires_at"]),
            models.Index(fields=["status", "expires_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} of {self.listing_id}/{self.variant_id} ({self.status})"


class MovementKind(models.TextChoices):
    RESERVATION = "reservation", "Reserved for a checkout"
    RELEASE = "release", "Reservation released"
    SALE = "sale", "Sold directly (paid at checkout)"
    RESTOCK = "restock", "Restocked"
    ADJUSTMENT = "adjustment", "Adjusted"
    RETURN = "return", "Returned (order cancelled)"


class StockMovement(models.Model):
    """Every change to an item's stock, signed, so the level is explainable:
    current stock = sum of movements (the initial stock is the first adjustment)."""

    listing = models.ForeignKey("catalog.Listing", on_delete=models.CASCADE, related_name="+")
    variant = models.ForeignKey(
        "catalog.ProductVariant", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=MovementKind.choices)
    quantity = models.IntegerField()
    reference = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        indexes = [models.Index(fields=["listing", "variant", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.quantity:+d}"


class ShippingKind(models.TextChoices):
    FLAT = "flat", "Flat rate"
    WEIGHT_BAND = "weight_band", "By weight band"
    FREE_OVER = "free_over", "Free above a subtotal"


class ShippingRule(models.Model):
    """A vendor's shipping price for a destination country ('' = anywhere)."""

    vendor = models.ForeignKey(
        "vendors.Vendor", on_delete=models.CASCADE, related_name="shipping_rules"
    )
    country = models.CharField(max_length=2, blank=True, default="")
    kind = models.CharField(max_length=16, choices=ShippingKind.choices)
    amount = models.PositiveIntegerField(default=0)
    min_weight_grams = models.PositiveIntegerField(default=0)
    max_weight_grams = models.PositiveIntegerField(null=True, blank=True)
    threshold_amount = models.PositiveIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.country or '*'}"


class LowStockAlert(models.Model):
    vendor = models.ForeignKey(
        "vendors.Vendor", on_delete=models.CASCADE, related_name="low_stock_alerts"
    )
    listing = models.ForeignKey("catalog.Listing", on_delete=models.CASCADE, related_name="+")
    variant = models.ForeignKey(
        "catalog.ProductVariant", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    stock = models.IntegerField()
    threshold = models.IntegerField()
    created_at = models.DateTimeField(default=clock.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"low stock {self.listing_id}/{self.variant_id}: {self.stock}"
