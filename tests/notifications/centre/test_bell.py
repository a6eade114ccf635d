"""The bell in the header of every page a signed-in person sees: the unread count for one
query, an accessible label, a link to the portal's centre; its fragment for live updates;
and nothing at all — no bell, no query — for signed-out visitors."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.notifications.centre.conftest import People, notify, signed_in

pytestmark = pytest.mark.django_db


def bell(page: str) -> str:
    found = re.findall(r'<a id="notification-bell".*?</a>', page, flags=re.S)
    assert len(found) == 1, found
    return found[0]


def notification_queries(captured: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if "notifications_notification" in q["sql"]]


@pytest.mark.parametrize(
    ("who", "path", "centre"),
    [
        ("customer", "/account/", "/account/notifications/"),
        ("customer", "/account/reviews/", "/account/notifications/"),
        ("owner", "/vendor/", "/vendor/notifications/"),
        ("owner", "/vendor/staff/", "/vendor/notifications/"),
        ("operator", "/operator/", "/operator/notifications/"),
        ("operator", "/operator/reviews/", "/operator/notifications/"),
        ("customer", "/", "/account/notifications/"),
        ("customer", "/search?q=clutch", "/account/notifications/"),
        ("customer", "/c/automotive/", "/account/notifications/"),
    ],
)
def test_every_signed_in_page_has_the_bell_for_one_query(
    people: People, who: str, path: str, centre: str
) -> None:
    person = getattr(people, who)
    for _ in range(3):
        notify(person)
    notify(person, read=True)
    notify(people.bystander)
    client = signed_in(person)

    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)

    assert response.status_code == 200
    the_bell = bell(response.content.decode())
    assert 'aria-label="Notifications, 3 unread"' in the_bell
    assert f'href="{centre}"' in the_bell
    assert '<span class="notification-badge" aria-hidden="true">3</span>' in the_bell
    assert notification_queries(captured) == [
        q for q in notification_queries(captured) if q.startswith("SELECT COUNT(*)")
    ]
    assert len(notification_queries(captured)) == 1


def test_the_centre_shows_the_count_twice_for_one_query(people: People) -> None:
    notify(people.customer)
    client = signed_in(people.customer)

    with CaptureQueriesContext(connection) as captured:
        page = client.get("/account/notifications/").content.decode()

    assert 'aria-label="Notifications, 1 unread"' in page
    assert "1 unread</p>" in page
    # the COUNT once, the page of notifications once
    assert len(notification_queries(captured)) == 2


def test_nothing_unread_shows_a_quiet_bell(people: People) -> None:
    notify(people.customer, read=True)

    the_bell = bell(signed_in(people.customer).get("/account/").content.decode())

    assert 'aria-label="Notifications, 0 unread"' in the_bell
    assert "notification-badge" not in the_bell
    assert "has-unread" not in the_bell


def test_a_big_count_is_abbreviated_but_announced_exactly(people: People) -> None:
    for _ in range(100):
        notify(people.customer)

    the_bell = bell(signed_in(people.customer).get("/account/").content.decode())

    assert 'aria-label="Notifications, 100 unread"' in the_bell
    assert ">99+</span>" in the_bell


@pytest.mark.parametrize("path", ["/", "/search?q=clutch", "/c/automotive/", "/login/", "/signup/"])
def test_signed_out_pages_have_no_bell_and_pay_nothing_for_it(
    client: Client, db: Any, path: str
) -> None:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)

    page = response.content.decode()
    assert response.status_code == 200
    assert "notification-bell" not in page
    assert "notifications.css" not in page
    assert notification_queries(captured) == []


def test_the_bell_fragment_is_the_bell_alone(people: People) -> None:
    notify(people.owner)
    notify(people.owner)

    response = signed_in(people.owner).get("/notifications/bell/", {"portal": "vendor"})

    assert response.status_code == 200
    fragment = response.content.decode().strip()
    assert fragment.startswith('<a id="notification-bell"')
    assert fragment.endswith("</a>")
    assert "<html" not in fragment
    assert 'aria-label="Notifications, 2 unread"' in fragment
    assert 'href="/vendor/notifications/"' in fragment
    assert 'hx-get="/notifications/bell/?portal=vendor"' in fragment
    assert 'hx-swap="outerHTML"' in fragment
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_the_fragment_of_an_unknown_portal_leads_to_the_account(people: People) -> None:
    response = signed_in(people.customer).get("/notifications/bell/", {"portal": "nope"})

    assert 'href="/account/notifications/"' in response.content.decode()


def test_the_headers_bell_refetches_its_own_portals_fragment(people: People) -> None:
    the_bell = bell(signed_in(people.operator).get("/operator/").content.decode())

    assert 'hx-get="/notifications/bell/?portal=operator"' in the_bell
    assert 'hx-trigger="notification-created from:body"' in the_bell


def test_signed_out_visitors_get_no_fragment(client: Client, db: Any) -> None:
    response = client.get("/notifications/bell/")

    assert response.status_code == 204
    assert response.content == b""


def test_a_not_found_page_has_the_bell_too(people: People) -> None:
    notify(people.customer)

    response = signed_in(people.customer).get("/no-such-page/")

    assert response.status_code == 404
    assert 'aria-label="Notifications, 1 unread"' in bell(response.content.decode())


def test_a_portal_page_without_its_role_leads_the_bell_to_the_account(people: People) -> None:
    # someone not (yet) on a vendor's staff, applying at /vendor/onboarding/
    notify(people.customer)
    client = signed_in(people.customer)

    with CaptureQueriesContext(connection) as captured:
        page = client.get("/vendor/onboarding/")

    assert page.status_code == 200
    assert 'href="/account/notifications/"' in bell(page.content.decode())
    assert len(notification_queries(captured)) == 1
    fragment = client.get("/notifications/bell/", {"portal": "operator"}).content.decode()
    assert 'href="/account/notifications/"' in fragment
    assert 'hx-get="/notifications/bell/?portal=account"' in fragment
