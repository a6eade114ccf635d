"""Pages that update themselves, in Chromium, against `agora serve` (the real streams; the
Django test server would only give the finite replay).

A customer watching a booking sees the vendor's acceptance appear by itself; a vendor
watching Today sees a booking the customer has just paid for.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.test import Client

from tests.bookings.helpers import Shop, make_shop
from tests.conftest import token_for
from tests.notifications.live.servers import Served, Servers
from tests.notifications.live.test_served import accept, next_weekday_slot, warm_up

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def served(servers: Servers) -> Served:
    return servers.start(workers=2)


@pytest.fixture
def page(browser: Any, served: Served) -> Iterator[Any]:
    context = browser.new_context(base_url=served.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == []


def sign_in(page: Any, served: Served, user: Any) -> None:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": served.url}]
    )


def wait_live(page: Any) -> None:
    """Until the page's stream is open (a locator: the CSP forbids evaluating strings)."""
    page.locator("html[data-live=open]").wait_for(state="attached")


def test_a_customers_booking_page_shows_the_vendors_acceptance_by_itself(
    page: Any, served: Served
) -> None:
    shop: Shop = make_shop()
    booking = shop.paid(next_weekday_slot())
    sign_in(page, served, shop.customer)
    page.goto(f"/account/bookings/{booking.pk}/")
    status = page.locator("#booking-live .facts .status")
    assert status.inner_text() == "Paid — waiting for the vendor to accept"
    wait_live(page)
    warm_up(served, token_for(shop.staff))

    began = accept(served, shop, booking)

    page.locator("#booking-live .facts .status", has_text="Confirmed by the vendor").wait_for(
        timeout=2000
    )
    assert time.monotonic() - began <= 2.0
    assert "Confirmed by the vendor" in page.locator("#booking-live .timeline").inner_text()


def test_the_vendors_today_page_shows_a_booking_just_paid_for(page: Any, served: Served) -> None:
    shop: Shop = make_shop()
    sign_in(page, served, shop.staff)
    page.goto("/vendor/")
    assert "No paid requests are waiting for you." in page.locator("#today-live").inner_text()
    wait_live(page)
    warm_up(served, token_for(shop.customer))

    with httpx.Client(
        base_url=f"{served.url}/api/v1",
        headers={"Authorization": f"Bearer {token_for(shop.customer)}"},
        timeout=10,
    ) as api:
        held = api.post(
            "/bookings",
            json={"listing_id": shop.listing.pk, "start": next_weekday_slot().isoformat()},
            headers={"Idempotency-Key": "live-browser-hold"},
        )
        assert held.status_code == 201, held.text
        booking_id = held.json()["id"]
        began = time.monotonic()
        paid = api.post(
            f"/bookings/{booking_id}/pay",
            json={"payment_method": "pm_card_visa"},
            headers={"Idempotency-Key": "live-browser-pay"},
        )
        assert paid.status_code == 200, paid.text

    row = page.locator(f"#booking-{booking_id}-row")
    row.wait_for(timeout=2000)
    assert time.monotonic() - began <= 2.0
    assert "Full service" in row.inner_text()
    stats = " ".join(page.locator("#ops-stats").inner_text().split())
    assert "1 request to answer" in stats


def test_the_bell_counts_a_new_notice_by_itself(page: Any, served: Served) -> None:
    from django.db import transaction

    from agora.notifications import outbox
    from agora.notifications.models import Notification
    from tests.factories import UserFactory

    alice = UserFactory()
    sign_in(page, served, alice)
    page.goto("/account/")
    page.locator('#notification-bell[data-unread-count="0"]').wait_for()
    wait_live(page)

    # What the delivery engine does for an event that concerns her: a notice, announced
    with transaction.atomic():
        cause = outbox.emit("account.welcome", subject=alice, data={"url": "/"}, user_id=alice.pk)
        notice = Notification.objects.create(
            user=alice, event=cause, name="account.welcome", title="Welcome", url="/account/"
        )
        outbox.emit(
            "notification.created",
            subject=notice,
            data={"id": notice.pk, "event": "account.welcome", "title": "Welcome", "url": "/"},
            user_id=alice.pk,
        )

    page.locator('#notification-bell[data-unread-count="1"]').wait_for(timeout=2000)
