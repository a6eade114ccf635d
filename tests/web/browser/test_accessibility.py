"""Accessibility of the pages people use most, checked by axe-core in Chromium.

The demo marketplace is loaded, and each page — public, customer, vendor, operator — is
opened in the browser and audited with axe-core (WCAG 2.x A and AA rules). A serious or
critical violation (a field without a label, text without enough contrast, a button
without a name, a broken landmark or heading structure) fails the test with the rule, the
page and the offending elements.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command

from agora.accounts.models import User
from agora.catalog.models import Category, City, Listing, ListingKind, ListingStatus
from agora.vendors.models import Vendor, VendorStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
BLOCKING = {"serious", "critical"}


def audit(page: Any, path: str) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    response = page.goto(path)
    assert response is not None
    assert response.status == 200, f"{path} answered {response.status}"
    page.wait_for_load_state("networkidle")
    results = Axe().run(page, options=WCAG_AA)
    return [
        f"{path}: {violation['id']} ({violation['impact']}) — "
        + ", ".join(node["target"][0] for node in violation["nodes"][:3])
        for violation in results.response["violations"]
        if violation["impact"] in BLOCKING
    ]


def test_the_main_pages_of_every_portal_pass_axe(page: Any, sign_in: Any, screenshot: Any) -> None:
    call_command("demo", verbosity=0)
    vendor = Vendor.objects.filter(status=VendorStatus.ACTIVE).order_by("pk").first()
    service = Listing.objects.filter(
        status=ListingStatus.ACTIVE, kind=ListingKind.SERVICE, vendor=vendor
    ).first()
    product = Listing.objects.filter(status=ListingStatus.ACTIVE, kind=ListingKind.PRODUCT).first()
    assert vendor is not None
    assert service is not None
    assert product is not None
    category = service.category
    city = City.objects.get(pk=vendor.city_id)
    root = Category.objects.filter(parent=None).order_by("pk").first()
    assert root is not None

    public = [
        "/",
        "/search?q=service",
        f"/c/{root.slug}/",
        f"/c/{category.slug}/{city.slug}/",
        f"/v/{vendor.slug}/",
        f"/l/{service.pk}/",
        f"/l/{product.pk}/",
        "/login/",
        "/signup/",
        "/password-reset/",
    ]
    portals = {
        "customer@agora.test": ["/account/", "/account/cart/", "/account/reviews/"],
        "vendor@agora.test": [
            "/vendor/",
            "/vendor/calendar/",
            "/vendor/bookings/",
            "/vendor/orders/",
            "/vendor/listings/",
            "/vendor/schedule/",
            "/vendor/money/",
            "/vendor/analytics/",
            "/vendor/staff/",
            "/vendor/profile/",
        ],
        "operator@agora.test": [
            "/operator/",
            "/operator/vendors/",
            "/operator/reviews/",
        ],
    }

    problems = [problem for path in public for problem in audit(page, path)]
    for email, paths in portals.items():
        page.context.clear_cookies()
        sign_in(User.objects.get(email=email))
        problems += [problem for path in paths for problem in audit(page, path)]

    screenshot("last-page-audited")
    assert problems == []


def test_the_audit_catches_an_unlabelled_field(page: Any) -> None:
    """The control: the same audit does flag a page that breaks the rules."""
    from axe_playwright_python.sync_playwright import Axe

    page.set_content(
        '<html lang="en"><head><title>t</title></head><body><main>'
        '<form><input type="text" name="q"><button></button></form></main></body></html>'
    )

    results = Axe().run(page, options=WCAG_AA)

    flagged = {v["id"] for v in results.response["violations"] if v["impact"] in BLOCKING}
    assert {"label", "button-name"} <= flagged
