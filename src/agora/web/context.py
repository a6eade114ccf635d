"""Template context shared by every page: which portals the visitor may open, and the
notification bell."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from agora.vendors import selectors as vendor_selectors
from agora.web.notifications.bell import NotificationBell


def portals(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)

    def vendor_staff() -> bool:
        # Lazy: public pages that never render the portal links pay no query.
        if user is None or not user.is_authenticated:
            return False
        return bool(vendor_selectors.staff_vendor_ids(user=user))

    is_vendor_staff = SimpleLazyObject(vendor_staff)
    return {
        "is_vendor_staff": is_vendor_staff,
        # The header's bell: one COUNT when a page renders it, none for signed-out visitors.
        "notification_bell": NotificationBell(request, is_vendor_staff=is_vendor_staff),
    }
