from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from ninja import Schema
from pydantic import ConfigDict, Field

from agora.vendors.models import Vendor, VendorMembership, VerificationDocument


class StrictIn(Schema):
    """Input schemas refuse unknown fields (422), so a client learns that e.g. `status` is
    not theirs to set instead of having it silently ignored."""

    model_config = ConfigDict(extra="forbid")


class VendorApplyIn(StrictIn):
    name: str = Field(min_length=1, max_length=120)
    description: str = Field("", max_length=5000)
    timezone: str = Field(max_length=64, examples=["Europe/London"])
    address: str = Field("", max_length=255)
    city: str | None = Field(None, max_length=120, description="City slug or name (GET /cities).")
    postcode: str = Field("", max_length=16)
    lat: Decimal | None = Field(None, max_digits=9, decimal_places=6)
    lng: Decimal | None = Field(None, max_digits=9, decimal_places=6)
    currency: str = Field(pattern=r"^[A-Z]{3}$", examples=["GBP"])
    contact_email: str = Field("", max_length=254)
    contact_phone: str = Field("", max_length=32)
    website: str = Field("", max_length=200)
    opening_summary: str = Field("", max_length=255)
    service_radius_km: int = Field(0, ge=0, le=1000)
    vertical: str = Field("", max_length=32)


class VendorPatchIn(StrictIn):
    name: str | None = Field(None, min_length=1, max_length=120)
    description: str | None = Field(None, max_length=5000)
    timezone: str | None = Field(None, max_length=64)
    address: str | None = Field(None, max_length=255)
    city: str | None = Field(None, max_length=120)
    postcode: str | None = Field(None, max_length=16)
    lat: Decimal | None = Field(None, max_digits=9, decimal_places=6)
    lng: Decimal | None = Field(None, max_digits=9, decimal_places=6)
    contact_email: str | None = Field(None, max_length=254)
    contact_phone: str | None = Field(None, max_length=32)
    website: str | None = Field(None, max_length=200)
    opening_summary: str | None = Field(None, max_length=255)
    service_radius_km: int | None = Field(None, ge=0, le=1000)
    vertical: str | None = Field(None, max_length=32)


class VendorOut(Schema):
    id: int
    name: str
    slug: str
    description: str
    status: str
    address: str
    city: str | None
    city_name: str | None
    postcode: str
    lat: float | None
    lng: float | None
    timezone: str
    currency: str
    contact_email: str
    contact_phone: str
    website: str
    opening_summary: str
    service_radius_km: int
    vertical: str
    logo_url: str | None
    rating_average: float | None
    rating_count: int
    created_at: datetime

    @classmethod
    def of(cls, vendor: Vendor) -> VendorOut:
        return cls(
            id=vendor.pk,
            name=vendor.name,
            slug=vendor.slug,
            description=vendor.description,
            status=vendor.status,
            address=vendor.address,
            city=vendor.city.slug if vendor.city else None,
            city_name=vendor.city.name if vendor.city else None,
            postcode=vendor.postcode,
            lat=float(vendor.lat) if vendor.lat is not None else None,
            lng=float(vendor.lng) if vendor.lng is not None else None,
            timezone=vendor.timezone,
            currency=vendor.currency,
            contact_email=vendor.contact_email,
            contact_phone=vendor.contact_phone,
            website=vendor.website,
            opening_summary=vendor.opening_summary,
            service_radius_km=vendor.service_radius_km,
            vertical=vendor.vertical,
            logo_url=vendor.logo.url if vendor.logo else None,
            rating_average=vendor.rating_average,
            rating_count=vendor.rating_count,
            created_at=vendor.created_at,
        )


class VendorStatusOut(Schema):
    id: int
    status: str
    status_reason: str


class ReasonIn(StrictIn):
    reason: str = Field("", max_length=500)


class RequiredReasonIn(StrictIn):
    reason: str = Field(min_length=1, max_length=500)


class StaffOut(Schema):
    user_id: int
    email: str
    name: str
    role: str
    since: datetime

    @classmethod
    def of(cls, membership: VendorMembership) -> StaffOut:
        return cls(
            user_id=membership.user_id,
            email=membership.user.email,
            name=membership.user.name,
            role=membership.role,
            since=membership.created_at,
        )


class InviteIn(StrictIn):
    email: str = Field(max_length=254)
    role: str = Field(examples=["staff"])


class InvitationOut(Schema):
    id: int
    vendor_id: int
    email: str
    role: str
    expires_at: datetime


class AcceptInvitationIn(StrictIn):
    token: str = Field(min_length=1, max_length=100)


class MembershipOut(Schema):
    vendor_id: int
    role: str


class RoleIn(StrictIn):
    role: str


class DocumentOut(Schema):
    id: int
    kind: str
    original_name: str
    content_type: str
    size: int
    uploaded_at: datetime

    @classmethod
    def of(cls, document: VerificationDocument) -> DocumentOut:
        return cls(
            id=document.pk,
            kind=document.kind,
            original_name=document.original_name,
            content_type=document.content_type,
            size=document.size,
            uploaded_at=document.uploaded_at,
        )
