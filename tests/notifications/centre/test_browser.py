"""The notification centre in Chromium: the bell, opening a notice, mark all as read, the
preferences table and the unsubscribe page — and axe-core finds no serious or critical
WCAG 2.1 AA violation on any of them."""

from __future__ import annotations

from typing import Any

import pytest

from agora.notifications.models import Notification
from agora.notifications.unsubscribe import unsubscribe_path
from tests.factories import UserFactory, VendorFactory
from tests.notifications.centre.conftest import notify

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
BLOCKING = {"serious", "critical"}


def audit(page: Any, path: str) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    response = page.goto(path)
    assert response is not None
    assert response.status == 200, f"{path} answered {response.status}"
    results = Axe().run(page, options=WCAG_AA)
    return [
        f"{path}: {violation['id']} ({violation['impact']}) — "
        + ", ".join(node["target"][0] for node in violation["nodes"][:3])
        for violation in results.response["violations"]
        if violation["impact"] in BLOCKING
    ]


def test_a_customer_opens_a_notice_and_marks_the_rest_read(
    page: Any, sign_in: Any, screenshot: Any
) -> None:
    customer = UserFactory(name="Alice Buyer")
    notify(customer, "Welcome to Agora", read=True, minutes_ago=600)
    notify(customer, "Your order has shipped", url="/account/orders/", minutes_ago=30)
    opened = notify(customer, "Camden Motors accepted your booking", url="/account/reviews/")
    sign_in(customer)

    page.goto("/account/")
    bell = page.locator("#notification-bell")
    assert bell.get_attribute("aria-label") == "Notifications, 2 unread"
    bell.click()
    page.wait_for_url("**/account/notifications/")
    screenshot("centre")
    page.get_by_role("button", name="Unread: Camden Motors accepted your booking").click()

    page.wait_for_url("**/account/reviews/")
    assert page.locator("#notification-bell").get_attribute("aria-label") == (
        "Notifications, 1 unread"
    )
    opened.refresh_from_db()
    assert opened.read_at is not None

    page.goto("/account/notifications/")
    page.get_by_role("button", name="Mark all as read").click()
    page.wait_for_load_state()
    assert page.locator("#notification-summary").inner_text() == "Nothing unread"
    assert not Notification.objects.filter(user=customer, read_at__isnull=True).exists()


def test_the_centre_pages_pass_axe(page: Any, sign_in: Any) -> None:
    customer = UserFactory(name="Alice Buyer")
    owner = UserFactory(name="Wendy Workshop")
    VendorFactory(name="Camden Motors", owner=owner)
    operator = UserFactory(name="Olivia Operator", is_operator=True)
    for person in (customer, owner, operator):
        notify(person, "An older notice", read=True, minutes_ago=90)
        notify(person, "A notice with a body", body="Tuesday at 10:00", minutes_ago=5)

    problems = audit(page, unsubscribe_path(user_id=customer.pk, group="reviews"))
    for person, prefix in ((customer, "/account/"), (owner, "/vendor/"), (operator, "/operator/")):
        page.context.clear_cookies()
        sign_in(person)
        problems += audit(page, f"{prefix}notifications/")
        problems += audit(page, f"{prefix}notifications/preferences/")
    problems += audit(page, "/")

    assert problems == []
