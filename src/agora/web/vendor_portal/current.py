"""Which vendor a staff member is working for in the portal.

A person may be on the staff of several vendors. The choice travels as ``?vendor=<id>`` and
is remembered in the session; without one, the first membership is used. Every lookup goes
through ``staff_context_get``, so a stale or foreign id is a 404, never another tenant.
"""

from __future__ import annotations

from collections.abc import Collection

from django.http import HttpRequest

from agora.core.errors import NotFound
from agora.vendors import selectors as vendor_selectors
from agora.vendors.selectors import ALL_ROLES, StaffContext

SESSION_KEY = "vendor_portal_vendor_id"


def current_staff_context(
    request: HttpRequest, *, roles: Collection[str] = ALL_ROLES
) -> StaffContext:
    chosen = request.GET.get("vendor") or request.session.get(SESSION_KEY)
    vendor_id: int | None = None
    if chosen is not None:
        try:
            vendor_id = int(chosen)
        except (TypeError, ValueError):
            raise NotFound("No such vendor.") from None
    if vendor_id is None:
        ids = vendor_selectors.staff_vendor_ids(user=request.user)
        if not ids:
            raise NotFound("You are not on the staff of any vendor.")
        vendor_id = min(ids)
    context = vendor_selectors.staff_context_get(
        user=request.user, vendor_id=vendor_id, roles=roles
    )
    request.session[SESSION_KEY] = vendor_id
    return context
