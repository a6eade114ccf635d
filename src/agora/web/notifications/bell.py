"""The bell in every page's header: the signed-in person's unread count, one query per page.

The count is read when a template first asks for it and kept for the rest of the request,
so a page that shows it twice (the header and the centre) pays once, a fragment that never
renders the header pays nothing, and a signed-out visitor's page pays nothing either.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest
from django.utils.functional import cached_property

from agora.notifications import selectors
from agora.vendors import selectors as vendor_selectors
from agora.web.notifications.portals import ACCOUNT, OPERATOR, VENDOR, Portal, portal_for_path

# Above this the badge says "99+"; the accessible label always has the exact number.
BADGE_MAX = 99


class NotificationBell:
    """`portal` is the portal whose centre the bell leads to (by default the one the page
    is in). A person on a portal page without its role — someone not yet on a vendor's
    staff on /vendor/onboarding/ — is led to their account's centre instead of a 403.
    `is_vendor_staff` is the page's own lazy answer, so asking it again costs nothing."""

    def __init__(
        self,
        request: HttpRequest,
        portal: Portal | None = None,
        *,
        is_vendor_staff: Any = None,
    ) -> None:
        self._user: Any = getattr(request, "user", None)
        self._wanted = portal or portal_for_path(request.path)
        self._is_vendor_staff = is_vendor_staff

    @cached_property
    def portal(self) -> Portal:
        if self._wanted is OPERATOR and not getattr(self._user, "is_operator", False):
            return ACCOUNT
        if self._wanted is VENDOR and not self._vendor_staff():
            return ACCOUNT
        return self._wanted

    def _vendor_staff(self) -> bool:
        if not self.signed_in:
            return False
        if self._is_vendor_staff is not None:
            return bool(self._is_vendor_staff)
        return bool(vendor_selectors.staff_vendor_ids(user=self._user))

    @property
    def signed_in(self) -> bool:
        return bool(self._user is not None and self._user.is_authenticated)

    @cached_property
    def unread_count(self) -> int:
        if not self.signed_in:
            return 0
        return selectors.unread_count(user=self._user)

    @property
    def badge(self) -> str:
        count = self.unread_count
        return f"{BADGE_MAX}+" if count > BADGE_MAX else str(count)

    @property
    def label(self) -> str:
        return f"Notifications, {self.unread_count} unread"

    @property
    def centre_url(self) -> str:
        return self.portal.centre_url

    @property
    def refresh_url(self) -> str:
        return f"/notifications/bell/?{urlencode({'portal': self.portal.key})}"
