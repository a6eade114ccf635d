"""Template context shared by every page: which portals the visitor may open."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from agora.vendors import selectors as vendor_selectors


def portals(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)

    def vendor_staff() -> bool:
        # Lazy: public pages that never render the portal links pay no query.
        if user is None or not user.is_authenticated:
            return False
        return bool(vendor_selectors.staff_vendor_ids(user=user))

    return {"is_vendor_staff": SimpleLazyObject(vendor_staff)}
