"""The notification centre and preferences pages of the customer, vendor and operator
portals: content, mark all as read, opening a notification (local links only), cursor pages,
access, and preferences saved through the same service as the API."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from agora.core import clock
from agora.notifications.models import Notification, NotificationPreference
from tests.notifications.centre.conftest import NOW, People, notify, signed_in

pytestmark = pytest.mark.django_db

PORTALS = [
    ("customer", "/account/notifications/"),
    ("owner", "/vendor/notifications/"),
    ("operator", "/operator/notifications/"),
]


def html(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def centre_items(page: str) -> list[tuple[str, bool]]:
    """(title, unread) of each notification, in page order."""
    return [
        (title.strip(), "unread" in classes)
        for classes, title in re.findall(
            r'<li class="(notification[^"]*)" id="notification-\d+">.*?'
            r'<button type="submit" class="link notification-title">'
            r'(?:<span class="visually-hidden">Unread: </span>)?([^<]*)</button>',
            page,
            flags=re.S,
        )
    ]


@pytest.mark.parametrize(("who", "path"), PORTALS)
def test_each_portal_shows_the_persons_notifications_newest_first(
    people: People, who: str, path: str
) -> None:
    person = getattr(people, who)
    notify(person, "Older and read", read=True, minutes_ago=90)
    notify(person, "Newer and unread", body="Tuesday at 10:00", minutes_ago=5)
    notify(people.bystander, "Someone else's")

    page = html(signed_in(person).get(path))

    assert "<h1>Notifications</h1>" in page
    assert centre_items(page) == [("Newer and unread", True), ("Older and read", False)]
    assert "Tuesday at 10:00" in page
    assert "Someone else" not in page
    assert '<p class="muted" id="notification-summary">1 unread</p>' in page
    assert "Mark all as read" in page
    assert f'href="{path}preferences/"' in page
    assert f'<a href="{path}" aria-current="page">Notifications</a>' in page
    assert '<time datetime="2026-01-05T07:55:00+00:00"' in page
    assert "5\xa0minutes ago" in page
    assert "1\xa0hour ago" in page  # one unit is enough


def test_an_empty_centre_says_so(people: People) -> None:
    page = html(signed_in(people.customer).get("/account/notifications/"))

    assert "No notifications yet." in page
    assert "Mark all as read" not in page
    assert "Nothing unread" in page


def test_the_vendor_centre_wears_the_vendor_portal(people: People) -> None:
    page = html(signed_in(people.owner).get("/vendor/notifications/"))

    assert "Camden Motors" in page
    assert 'href="/vendor/calendar/"' in page


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("customer", "/vendor/notifications/"),
        ("customer", "/operator/notifications/"),
        ("owner", "/operator/notifications/"),
    ],
)
def test_a_portal_without_the_role_is_403(people: People, who: str, path: str) -> None:
    assert signed_in(getattr(people, who)).get(path).status_code == 403


@pytest.mark.parametrize(
    "path",
    [
        "/account/notifications/",
        "/vendor/notifications/",
        "/operator/notifications/",
        "/account/notifications/preferences/",
    ],
)
def test_signed_out_visitors_are_sent_to_sign_in(client: Client, db: Any, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"


def test_signed_out_actions_go_to_sign_in(client: Client, people: People) -> None:
    notification = notify(people.customer)

    for path in ("/notifications/read/", f"/notifications/{notification.pk}/open/"):
        response = client.post(path, {"all": "1"})
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")
    notification.refresh_from_db()
    assert notification.read_at is None


def test_the_centre_pages_with_a_cursor(people: People) -> None:
    for n in range(25):
        notify(people.customer, f"Notice {n:02d}", minutes_ago=100 - n)
    client = signed_in(people.customer)

    first = html(client.get("/account/notifications/"))
    next_url = re.search(r'<a href="([^"]+)" rel="next">Older', first)
    assert next_url is not None
    second = html(client.get(next_url.group(1).replace("&amp;", "&")))

    assert [t for t, _ in centre_items(first)] == [f"Notice {n:02d}" for n in range(24, 4, -1)]
    assert [t for t, _ in centre_items(second)] == [f"Notice {n:02d}" for n in range(4, -1, -1)]
    assert 'rel="next"' not in second
    assert '<a href="/account/notifications/">← Newest</a>' in second


def test_the_centre_costs_a_fixed_number_of_queries(
    people: People, django_assert_max_num_queries: Any
) -> None:
    client = signed_in(people.customer)
    notify(people.customer)
    with django_assert_max_num_queries(10) as few:
        client.get("/account/notifications/")
    for n in range(19):
        notify(people.customer, f"More {n}")

    with django_assert_max_num_queries(len(few.captured_queries)):
        page = html(client.get("/account/notifications/"))

    assert len(centre_items(page)) == 20


@pytest.mark.parametrize(("who", "path"), PORTALS)
def test_mark_all_as_read_marks_the_persons_own(people: People, who: str, path: str) -> None:
    person = getattr(people, who)
    mine = [notify(person) for _ in range(3)]
    theirs = notify(people.bystander)
    client = signed_in(person)

    with clock.frozen(NOW.replace(hour=9)):
        response = client.post("/notifications/read/", {"all": "1", "next": path})

    assert response.status_code == 302
    assert response["Location"] == path
    assert all(
        n.read_at == NOW.replace(hour=9)
        for n in Notification.objects.filter(pk__in=[m.pk for m in mine])
    )
    theirs.refresh_from_db()
    assert theirs.read_at is None
    page = html(client.get(path))
    assert "Marked 3 notifications as read." in page
    assert "Nothing unread" in page


def test_mark_all_needs_the_csrf_token(people: People) -> None:
    notification = notify(people.customer)
    client = Client(enforce_csrf_checks=True)
    client.force_login(people.customer)

    response = client.post("/notifications/read/", {"all": "1"})

    assert response.status_code == 403
    notification.refresh_from_db()
    assert notification.read_at is None


def test_mark_read_goes_back_only_to_a_local_page(people: People) -> None:
    client = signed_in(people.customer)

    response = client.post("/notifications/read/", {"all": "1", "next": "https://evil.example/"})

    assert response["Location"] == "/account/notifications/"


def test_marking_chosen_ids_ignores_other_peoples(people: People) -> None:
    mine = notify(people.customer)
    theirs = notify(people.bystander)

    signed_in(people.customer).post(
        "/notifications/read/", {"ids": [str(mine.pk), str(theirs.pk), "x", "9" * 40]}
    )

    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.read_at == NOW
    assert theirs.read_at is None


@pytest.mark.parametrize(("who", "path"), PORTALS)
def test_opening_marks_read_and_follows_the_local_link(people: People, who: str, path: str) -> None:
    person = getattr(people, who)
    notification = notify(person, url="/account/bookings/7/")

    response = signed_in(person).post(
        f"/notifications/{notification.pk}/open/", {"portal": path.split("/")[1]}
    )

    assert response.status_code == 302
    assert response["Location"] == "/account/bookings/7/"
    notification.refresh_from_db()
    assert notification.read_at == NOW


def test_opening_twice_keeps_the_first_read_time(people: People) -> None:
    notification = notify(people.customer)
    client = signed_in(people.customer)

    client.post(f"/notifications/{notification.pk}/open/")
    with clock.frozen(NOW.replace(hour=11)):
        client.post(f"/notifications/{notification.pk}/open/")

    notification.refresh_from_db()
    assert notification.read_at == NOW


def test_an_absolute_link_to_this_site_is_followed_as_its_path(
    people: People, settings: Any
) -> None:
    notification = notify(people.customer, url=f"{settings.AGORA_BASE_URL}/account/orders/3/")

    response = signed_in(people.customer).post(f"/notifications/{notification.pk}/open/")

    assert response["Location"] == "/account/orders/3/"


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/phish",
        "//evil.example/phish",
        "/\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "javascript:alert(1)",
        "account/bookings/7/",
        "",
    ],
)
def test_opening_never_leaves_the_site(people: People, url: str) -> None:
    notification = notify(people.owner, url=url)

    response = signed_in(people.owner).post(
        f"/notifications/{notification.pk}/open/", {"portal": "vendor"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/vendor/notifications/"
    notification.refresh_from_db()
    assert notification.read_at == NOW  # opened all the same


def test_another_persons_notification_is_404_and_stays_unread(people: People) -> None:
    theirs = notify(people.bystander, url="/account/bookings/9/")

    response = signed_in(people.customer).post(f"/notifications/{theirs.pk}/open/")

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_opening_is_a_post(people: People) -> None:
    notification = notify(people.customer)

    response = signed_in(people.customer).get(f"/notifications/{notification.pk}/open/")

    assert response.status_code == 405
    notification.refresh_from_db()
    assert notification.read_at is None


# --- preferences ---------------------------------------------------------------------------


def checkbox(page: str, name: str) -> str:
    match = re.search(rf'<input type="checkbox" name="{re.escape(name)}"[^>]*>', page)
    assert match is not None, name
    return match.group(0)


@pytest.mark.parametrize(("who", "path"), PORTALS)
def test_the_preferences_page_shows_every_group_by_channel(
    people: People, who: str, path: str
) -> None:
    person = getattr(people, who)
    NotificationPreference.objects.create(
        user=person, group="reviews", channel="email", enabled=False
    )

    page = html(signed_in(person).get(f"{path}preferences/"))

    assert "<h1>Notification preferences</h1>" in page
    assert "checked" not in checkbox(page, "email:reviews")
    assert "checked" in checkbox(page, "in_app:reviews")
    # all transactional: the box is on and cannot be changed
    assert "disabled" in checkbox(page, "email:account")
    assert "checked" in checkbox(page, "email:account")
    assert "Always e-mailed, even with e-mail off: Booking paid" in page
    assert "Transactional e-mails" in page
    assert '<label for="email-reviews" class="visually-hidden">Reviews by e-mail</label>' in page


def test_saving_preferences_stores_every_shown_group(people: People) -> None:
    client = signed_in(people.customer)
    # the form as a browser sends it: every group, ticked boxes only, locked boxes never
    page = html(client.get("/account/notifications/preferences/"))
    groups = re.findall(r'<input type="hidden" name="group" value="([^"]+)">', page)
    form: dict[str, Any] = {"group": groups}
    for group in groups:
        if group != "reviews" and group != "account":
            form[f"email:{group}"] = "on"
        if group != "messages":
            form[f"in_app:{group}"] = "on"

    response = client.post("/account/notifications/preferences/", form)

    assert response.status_code == 302
    assert response["Location"] == "/account/notifications/preferences/"
    off = set(
        NotificationPreference.objects.filter(user=people.customer, enabled=False).values_list(
            "group", "channel"
        )
    )
    assert off == {("reviews", "email"), ("messages", "in_app")}
    assert not NotificationPreference.objects.filter(
        user=people.customer, group="account", channel="email"
    ).exists()
    saved = html(client.get("/account/notifications/preferences/"))
    assert "Your notification preferences are saved." in saved
    assert "checked" not in checkbox(saved, "email:reviews")
    assert "checked" not in checkbox(saved, "in_app:messages")


def test_a_forged_unknown_group_is_refused_on_the_page(people: People) -> None:
    client = signed_in(people.customer)

    response = client.post("/account/notifications/preferences/", {"group": ["reviews", "spam"]})

    assert response.status_code == 200
    assert "There is no notification group &#x27;spam&#x27;." in response.content.decode()
    assert not NotificationPreference.objects.exists()
