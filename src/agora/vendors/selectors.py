"""Reads of vendor data, always through the acting user: tenant isolation lives here.

Every handler that touches a vendor goes through one of these. A user who is not on the
vendor's staff gets NotFound (404) — the same answer as for a vendor that does not exist,
so ids reveal nothing; a staff member without the needed role gets Forbidden (403).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from agora.core.errors import Forbidden, NotFound
from agora.core.pagination import Page, paginate
from agora.vendors.models import (
    StaffRole,
    Vendor,
    VendorMembership,
    VendorStatus,
    VerificationDocument,
)

ALL_ROLES: frozenset[str] = frozenset(StaffRole.values)
MANAGER_ROLES: frozenset[str] = frozenset({StaffRole.OWNER, StaffRole.MANAGER})


def _user_id(user: Any) -> int | None:
    return user.pk if user is not None and getattr(user, "is_authenticated", False) else None


def staff_vendor_ids(*, user: Any) -> list[int]:
    user_id = _user_id(user)
    if user_id is None:
        return []
    return list(
        VendorMembership.objects.filter(user_id=user_id).values_list("vendor_id", flat=True)
    )


def membership_get(*, user: Any, vendor_id: int) -> VendorMembership | None:
    user_id = _user_id(user)
    if user_id is None:
        return None
    return (
        VendorMembership.objects.select_related("vendor", "vendor__city")
        .filter(user_id=user_id, vendor_id=vendor_id)
        .first()
    )


@dataclass(frozen=True)
class StaffContext:
    """A vendor together with the acting user's role there."""

    vendor: Vendor
    role: str


def staff_context_get(
    *, user: Any, vendor_id: int, roles: Collection[str] = ALL_ROLES
) -> StaffContext:
    """The vendor and the user's role, if `user` is on its staff with one of `roles`.

    Not staff → NotFound (indistinguishable from a missing vendor); staff with too small a
    role → Forbidden.
    """
    membership = membership_get(user=user, vendor_id=vendor_id)
    if membership is None:
        raise NotFound("No such vendor.")
    if membership.role not in roles:
        raise Forbidden(f"This needs the role {' or '.join(sorted(roles))} at this vendor.")
    return StaffContext(vendor=membership.vendor, role=membership.role)


def vendor_get_for_staff(
    *, user: Any, vendor_id: int, roles: Collection[str] = ALL_ROLES
) -> Vendor:
    """The vendor, if `user` is on its staff with one of `roles` (else 404 / 403)."""
    return staff_context_get(user=user, vendor_id=vendor_id, roles=roles).vendor


def vendor_get_visible(*, user: Any, vendor_id: int) -> Vendor:
    """The vendor as `user` may see it: active vendors to anyone; any status to its own
    staff and to operators; otherwise NotFound."""
    vendor = Vendor.objects.select_related("city").filter(pk=vendor_id).first()
    if vendor is None:
        raise NotFound("No such vendor.")
    if vendor.status == VendorStatus.ACTIVE:
        return vendor
    if user is not None and getattr(user, "is_operator", False):
        return vendor
    if membership_get(user=user, vendor_id=vendor_id) is not None:
        return vendor
    raise NotFound("No such vendor.")


def vendor_get_for_operator(*, user: Any, vendor_id: int) -> Vendor:
    if not getattr(user, "is_operator", False):
        raise Forbidden("Only operators may do this.")
    vendor = Vendor.objects.select_related("city").filter(pk=vendor_id).first()
    if vendor is None:
        raise NotFound("No such vendor.")
    return vendor


def vendors_public(
    *,
    city: str | None = None,
    vertical: str | None = None,
    q: str | None = None,
    cursor: str | None = None,
    limit: int = 20,
) -> Page[Vendor]:
    vendors: QuerySet[Vendor] = Vendor.objects.select_related("city").filter(
        status=VendorStatus.ACTIVE
    )
    if city:
        vendors = vendors.filter(city__slug=city)
    if vertical:
        vendors = vendors.filter(vertical=vertical)
    if q:
        vendors = vendors.filter(Q(name__icontains=q) | Q(description__icontains=q))
    return paginate(vendors, ordering=("name", "id"), cursor=cursor, limit=limit)


def vendor_review_queue(*, status: str | None, cursor: str | None, limit: int = 20) -> Page[Vendor]:
    """Vendors for operators, oldest application first (the review queue by default)."""
    vendors = Vendor.objects.select_related("city").filter(status=status or VendorStatus.PENDING)
    return paginate(vendors, ordering=("created_at", "id"), cursor=cursor, limit=limit)


def staff_list(*, vendor: Vendor) -> list[VendorMembership]:
    return list(
        VendorMembership.objects.select_related("user").filter(vendor=vendor).order_by("id")
    )


def documents_list(*, vendor: Vendor) -> list[VerificationDocument]:
    return list(VerificationDocument.objects.filter(vendor=vendor).order_by("-uploaded_at", "-id"))


def document_get(*, vendor: Vendor, document_id: int) -> VerificationDocument:
    document = VerificationDocument.objects.filter(vendor=vendor, pk=document_id).first()
    if document is None:
        raise NotFound("No such document.")
    return document
