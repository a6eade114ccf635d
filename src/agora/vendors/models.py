from __future__ import annotations

from django.conf import settings
from django.db import models

from agora.core import clock
from agora.core.validation import is_web_url


class VendorStatus(models.TextChoices):
    PENDING = "pending", "Pending review"
    ACTIVE = "active", "Active"
    REJECTED = "rejected", "Rejected"
    SUSPENDED = "suspended", "Suspended"


class VendorTier(models.TextChoices):
    STANDARD = "standard", "Standard"
    PREMIUM = "premium", "Premium"


class Vendor(models.Model):
    """A vendor organisation: a workshop, an electrician's firm, a shop.

    Only `active` vendors are public. `status`, `tier` and the rating fields are never
    set from a vendor's own input: status moves through the onboarding state machine
    (services.vendor_approve & co.), ratings through reviews.
    """

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=140, unique=True)
    description = models.TextField(blank=True, default="")
    logo = models.ImageField(upload_to="vendors/logos/", blank=True, default="")
    address = models.CharField(max_length=255, blank=True, default="")
    city = models.ForeignKey(
        "catalog.City", on_delete=models.PROTECT, related_name="vendors", null=True, blank=True
    )
    postcode = models.CharField(max_length=16, blank=True, default="")
    lat = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    lng = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    timezone = models.CharField(max_length=64, default="Europe/London")
    currency = models.CharField(max_length=3, default="GBP")
    contact_email = models.EmailField(blank=True, default="")
    contact_phone = models.CharField(max_length=32, blank=True, default="")
    website = models.URLField(blank=True, default="")
    opening_summary = models.CharField(max_length=255, blank=True, default="")
    service_radius_km = models.PositiveIntegerField(default=0)
    vertical = models.CharField(max_length=32, blank=True, default="")

    status = models.CharField(
        max_length=16, choices=VendorStatus.choices, default=VendorStatus.PENDING, db_index=True
    )
    status_reason = models.CharField(max_length=500, blank=True, default="")
    tier = models.CharField(max_length=16, choices=VendorTier.choices, default=VendorTier.STANDARD)
    rating_count = models.PositiveIntegerField(default=0)
    rating_sum = models.PositiveIntegerField(default=0)

    created_at = models.DateTimeField(default=clock.now)
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "city"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=VendorStatus.values), name="vendor_status_valid"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def website_link(self) -> str:
        """The website as a page may link to it: only an http(s) address (a value stored
        before that was checked, `javascript:` say, is shown as no link at all)."""
        return self.website if is_web_url(self.website) else ""

    @property
    def is_public(self) -> bool:
        return self.status == VendorStatus.ACTIVE

    @property
    def rating_average(self) -> float | None:
        return round(self.rating_sum / self.rating_count, 2) if self.rating_count else None


class StaffRole(models.TextChoices):
    OWNER = "owner", "Owner"
    MANAGER = "manager", "Manager"
    STAFF = "staff", "Staff"


class VendorMembership(models.Model):
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="vendor_memberships"
    )
    role = models.CharField(max_length=16, choices=StaffRole.choices)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["vendor", "user"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.vendor_id} ({self.role})"


class VendorInvitation(models.Model):
    """An e-mailed invitation to join a vendor's staff; accepted by the invitee signed in
    with that e-mail. Only the token's hash is stored."""

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=StaffRole.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=clock.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.email} → {self.vendor_id} ({self.role})"


class DocumentKind(models.TextChoices):
    BUSINESS_REGISTRATION = "business_registration", "Business registration"
    INSURANCE = "insurance", "Insurance certificate"
    TRADE_LICENCE = "trade_licence", "Trade licence"
    OTHER = "other", "Other"


class VerificationDocument(models.Model):
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=32, choices=DocumentKind.choices)
    file = models.FileField(upload_to="vendors/documents/%Y/%m/")
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return f"{self.kind} for {self.vendor_id}"
