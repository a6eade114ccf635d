"""Which portal's chrome a notification page wears.

A person has one notification centre; each portal shows it in its own frame, so the bell
leads to the page of the portal the person is in (the customer's account elsewhere).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpResponse

from agora.web.access import customer_required, operator_required, vendor_staff_required


@dataclass(frozen=True)
class Portal:
    key: str
    prefix: str
    template: str
    required: Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]

    @property
    def centre_url(self) -> str:
        return f"{self.prefix}notifications/"

    @property
    def preferences_url(self) -> str:
        return f"{self.prefix}notifications/preferences/"


ACCOUNT = Portal("account", "/account/", "web/account/portal.html", customer_required)
VENDOR = Portal("vendor", "/vendor/", "web/vendor/portal.html", vendor_staff_required)
OPERATOR = Portal("operator", "/operator/", "web/operator/portal.html", operator_required)
PORTALS = {portal.key: portal for portal in (ACCOUNT, VENDOR, OPERATOR)}


def portal_named(key: str | None) -> Portal:
    return PORTALS.get(key or "", ACCOUNT)


def portal_for_path(path: str) -> Portal:
    for portal in (VENDOR, OPERATOR):
        if path.startswith(portal.prefix):
            return portal
    return ACCOUNT
