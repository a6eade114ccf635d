"""Signed unsubscribe links: the link switches one group's e-mail off for one person, by a
confirmed POST or a mail program's one-click POST without CSRF; a changed link does nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import signing
from django.test import Client

from agora.core.audit import AuditLog
from agora.notifications.models import NotificationPreference
from agora.notifications.unsubscribe import (
    unsubscribe_path,
    unsubscribe_read,
    unsubscribe_token,
    unsubscribe_url,
)
from tests.notifications.centre.conftest import People, api_as

pytestmark = pytest.mark.django_db


def email_off(user: Any) -> set[str]:
    return set(
        NotificationPreference.objects.filter(
            user=user, channel="email", enabled=False
        ).values_list("group", flat=True)
    )


def swap_payload(people: People) -> str:
    mine = unsubscribe_token(user_id=people.customer.pk, group="reviews")
    theirs = unsubscribe_token(user_id=people.bystander.pk, group="reviews")
    return f"{theirs.rsplit(':', 1)[0]}:{mine.rsplit(':', 1)[1]}"


def one_click() -> Client:
    """A mail program: no session, no CSRF cookie, and CSRF checks enforced."""
    return Client(enforce_csrf_checks=True)


def test_the_url_is_absolute_on_the_base_url_and_names_person_and_group(
    people: People, settings: Any
) -> None:
    settings.AGORA_BASE_URL = "https://market.example"

    url = unsubscribe_url(user_id=people.customer.pk, group="reviews")

    token = unsubscribe_token(user_id=people.customer.pk, group="reviews")
    assert url == f"https://market.example/notifications/unsubscribe/{token}/"
    link = unsubscribe_read(token)
    assert (link.user_id, link.group) == (people.customer.pk, "reviews")


def test_opening_the_link_asks_first_and_changes_nothing(people: People) -> None:
    path = unsubscribe_path(user_id=people.customer.pk, group="reviews")

    response = one_click().get(path)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Unsubscribe from “Reviews” e-mails?" in page
    assert f'<form method="post" action="{path}">' in page
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"]
    assert email_off(people.customer) == set()


def test_the_one_click_post_switches_that_groups_mail_off_without_csrf(people: People) -> None:
    path = unsubscribe_path(user_id=people.customer.pk, group="reviews")

    response = one_click().post(path, {"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    assert "You are unsubscribed" in response.content.decode()
    assert email_off(people.customer) == {"reviews"}
    assert email_off(people.bystander) == set()
    # in-app notices of the group are left on
    prefs = api_as(people.customer).get("/me/notification-preferences").json()["groups"]
    reviews = next(g for g in prefs if g["group"] == "reviews")
    assert (reviews["email"], reviews["in_app"]) == (False, True)
    audit = AuditLog.objects.get(action="notification_preferences.updated")
    assert audit.data["via"] == "unsubscribe_link"
    assert audit.actor_id == people.customer.pk


def test_unsubscribing_twice_is_harmless(people: People) -> None:
    path = unsubscribe_path(user_id=people.customer.pk, group="messages")

    one_click().post(path)
    again = one_click().post(path)

    assert again.status_code == 200
    assert NotificationPreference.objects.filter(user=people.customer).count() == 1


def test_a_group_with_some_transactional_mail_says_what_still_comes(people: People) -> None:
    path = unsubscribe_path(user_id=people.customer.pk, group="bookings")

    page = one_click().post(path).content.decode()

    assert email_off(people.customer) == {"bookings"}
    assert "Transactional e-mails of this group are still sent" in page
    assert "Booking paid" in page


def test_mail_that_is_all_transactional_cannot_be_unsubscribed(people: People) -> None:
    path = unsubscribe_path(user_id=people.customer.pk, group="account")

    asked = one_click().get(path).content.decode()
    response = one_click().post(path)

    assert "cannot be switched off" in asked
    assert "<form" not in asked.split("<main", 1)[1]
    assert response.status_code == 200
    assert "These e-mails cannot be switched off" in response.content.decode()
    assert not NotificationPreference.objects.exists()


@pytest.mark.parametrize(
    "make_token",
    [
        # another person's id under this person's signature
        lambda people: swap_payload(people),
        # cut short by a mail program
        lambda people: unsubscribe_token(user_id=people.customer.pk, group="reviews")[:-6],
        # signed by us, but for something else (another salt)
        lambda people: signing.dumps([people.customer.pk, "reviews"], salt="agora.pagination"),
        # well signed, but a group that does not exist
        lambda people: unsubscribe_token(user_id=people.customer.pk, group="spam"),
        lambda people: "not-a-token",
    ],
)
def test_a_changed_link_is_404_and_changes_nothing(people: People, make_token: Any) -> None:
    path = f"/notifications/unsubscribe/{make_token(people)}/"

    asked = one_click().get(path)
    posted = one_click().post(path)

    assert asked.status_code == 404
    assert posted.status_code == 404
    assert "This unsubscribe link is not valid" in posted.content.decode()
    assert not NotificationPreference.objects.exists()


def test_a_link_of_a_deleted_person_is_404(people: People) -> None:
    path = unsubscribe_path(user_id=people.bystander.pk, group="reviews")
    people.bystander.delete()

    assert one_click().post(path).status_code == 404
