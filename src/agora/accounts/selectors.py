from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps

from agora.accounts.models import User


@dataclass(frozen=True)
class UserProfile:
    user: User
    roles: list[str]
    vendor_ids: list[int]


def user_vendor_ids(*, user: User) -> list[int]:
    """Vendors this user is staff of (empty until the vendors app is installed)."""
    if not apps.is_installed("agora.vendors"):
        return []
    membership = apps.get_model("vendors", "VendorMembership")
    return list(
        membership.objects.filter(user=user)
        .order_by("vendor_id")
        .values_list("vendor_id", flat=True)
    )


def user_roles(*, user: User, vendor_ids: list[int]) -> list[str]:
    roles = ["customer"]
    if vendor_ids:
        roles.append("vendor_staff")
    if user.is_operator:
        roles.append("operator")
    return roles


def user_profile(*, user: User) -> UserProfile:
    vendor_ids = user_vendor_ids(user=user)
    return UserProfile(
        user=user, roles=user_roles(user=user, vendor_ids=vendor_ids), vendor_ids=vendor_ids
    )
