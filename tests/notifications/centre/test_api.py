"""The notification centre's API: the list with its unread count, marking read (the caller's
own only), and notification preferences."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction

from agora.core import clock
from agora.core.audit import AuditLog
from agora.notifications import delivery, outbox
from agora.notifications.catalogue import GROUPS
from agora.notifications.models import Notification, NotificationPreference
from tests.conftest import ApiClient, assert_problem
from tests.notifications.centre.conftest import NOW, People, api_as, notify

pytestmark = pytest.mark.django_db


# --- the list -----------------------------------------------------------------------------


def test_the_list_is_the_callers_newest_first_with_the_unread_count(people: People) -> None:
    older = notify(people.customer, "Booking paid", read=True, minutes_ago=60)
    newer = notify(
        people.customer, "Booking accepted", body="See you Tuesday.", url="/account/bookings/8/"
    )
    notify(people.bystander, "Not yours")

    response = api_as(people.customer).get("/notifications")

    assert response.status_code == 200
    assert response.json() == {
        "items": [
            {
                "id": newer.pk,
                "event": "booking.accepted",
                "title": "Booking accepted",
                "body": "See you Tuesday.",
                "url": "/account/bookings/8/",
                "created_at": "2026-01-05T08:00:00Z",
                "read_at": None,
            },
            {
                "id": older.pk,
                "event": "booking.accepted",
                "title": "Booking paid",
                "body": "",
                "url": "/account/bookings/7/",
                "created_at": "2026-01-05T07:00:00Z",
                "read_at": "2026-01-05T07:00:00Z",
            },
        ],
        "next_cursor": None,
        "unread_count": 1,
    }


def test_pages_follow_the_cursor_without_gaps_or_repeats(people: People) -> None:
    made = [notify(people.customer, f"Notice {n}", minutes_ago=50 - n) for n in range(7)]
    client = api_as(people.customer)

    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        body = client.get("/notifications", **params).json()
        pages += 1
        seen += [item["id"] for item in body["items"]]
        assert body["unread_count"] == 7  # the person's, not the page's
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert pages == 3
    assert seen == [n.pk for n in reversed(made)]


def test_the_list_costs_the_same_queries_for_three_items_or_forty(
    people: People, django_assert_max_num_queries: Any
) -> None:
    client = api_as(people.customer)
    for n in range(3):
        notify(people.customer, f"Notice {n}")
    with django_assert_max_num_queries(4) as few:
        assert len(client.get("/notifications", limit=50).json()["items"]) == 3
    for n in range(37):
        notify(people.customer, f"More {n}", read=n % 2 == 0)

    # the token (lookup, last-used), the page and the unread COUNT
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = client.get("/notifications", limit=50).json()

    assert len(body["items"]) == 40
    assert body["unread_count"] == 21


def test_the_unread_count_is_one_count_query(
    people: People, django_assert_num_queries: Any
) -> None:
    from agora.notifications import selectors

    notify(people.customer)
    notify(people.customer, read=True)

    with django_assert_num_queries(1) as captured:
        assert selectors.unread_count(user=people.customer) == 1

    sql = captured.captured_queries[0]["sql"]
    assert sql.startswith("SELECT COUNT(*)")
    assert '"read_at" IS NULL' in sql


def test_a_bad_cursor_is_a_422(people: People) -> None:
    response = api_as(people.customer).get("/notifications", cursor="forged")

    assert_problem(response, 422, "validation_error")


def test_the_centre_needs_a_token(anon: ApiClient) -> None:
    assert_problem(anon.get("/notifications"), 401, "not_authenticated")
    assert_problem(anon.post("/notifications/read", {"all": True}), 401, "not_authenticated")
    assert_problem(anon.get("/me/notification-preferences"), 401, "not_authenticated")
    assert_problem(
        anon.put("/me/notification-preferences", {"groups": []}), 401, "not_authenticated"
    )


def test_an_event_fanned_out_by_the_delivery_engine_is_listed(
    people: People, ping_event: Any
) -> None:
    with transaction.atomic():
        outbox.emit(
            "test.ping",
            subject="booking:7",
            data={"id": 7, "status": "paid", "url": "/account/bookings/7/"},
            user_id=people.customer.pk,
        )

    delivery.run_once()

    body = api_as(people.customer).get("/notifications").json()
    assert [item["event"] for item in body["items"]] == ["test.ping"]
    assert body["items"][0]["url"] == "/account/bookings/7/"
    assert body["unread_count"] == 1


# --- marking read --------------------------------------------------------------------------


def test_marking_some_read_changes_only_those(people: People) -> None:
    first, second, third = (notify(people.customer, f"N{n}") for n in range(3))

    with clock.frozen(NOW.replace(hour=9)):
        response = api_as(people.customer).post(
            "/notifications/read", {"ids": [first.pk, third.pk]}
        )

    assert response.status_code == 200
    assert response.json() == {"marked": 2, "unread_count": 1}
    read_at = dict(Notification.objects.values_list("pk", "read_at"))
    assert read_at == {
        first.pk: NOW.replace(hour=9),
        second.pk: None,
        third.pk: NOW.replace(hour=9),
    }


def test_marking_all_read_keeps_the_first_read_time(people: People) -> None:
    earlier = notify(people.customer, read=True, minutes_ago=30)
    unread = [notify(people.customer) for _ in range(3)]

    with clock.frozen(NOW.replace(hour=9)):
        response = api_as(people.customer).post("/notifications/read", {"all": True})

    assert response.json() == {"marked": 3, "unread_count": 0}
    earlier.refresh_from_db()
    assert earlier.read_at == NOW - timedelta(minutes=30)
    assert all(
        n.read_at == NOW.replace(hour=9)
        for n in Notification.objects.filter(pk__in=[u.pk for u in unread])
    )


def test_marking_is_one_update(people: People, django_assert_num_queries: Any) -> None:
    from agora.notifications import services

    notify(people.customer)
    notify(people.customer)

    with django_assert_num_queries(1) as captured:
        assert services.notifications_mark_read(user=people.customer, all_unread=True) == 2

    assert captured.captured_queries[0]["sql"].startswith("UPDATE")


def test_another_persons_ids_change_nothing_and_reveal_nothing(people: People) -> None:
    theirs = notify(people.bystander, "Bob's")
    mine = notify(people.customer, "Alice's")

    response = api_as(people.customer).post("/notifications/read", {"ids": [theirs.pk]})

    # Ignored rather than 404: the answer is the same as for an id that does not exist.
    assert response.status_code == 200
    assert response.json() == {"marked": 0, "unread_count": 1}
    theirs.refresh_from_db()
    mine.refresh_from_db()
    assert theirs.read_at is None
    assert mine.read_at is None
    missing = api_as(people.customer).post("/notifications/read", {"ids": [theirs.pk + 1000]})
    assert missing.json() == response.json()


def test_mark_all_does_not_reach_other_people(people: People) -> None:
    theirs = notify(people.bystander)
    notify(people.customer)

    api_as(people.customer).post("/notifications/read", {"all": True})

    theirs.refresh_from_db()
    assert theirs.read_at is None


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "nothing_to_mark"),
        ({"ids": ["1"]}, "validation_error"),
        ({"ids": [0]}, "validation_error"),
        ({"ids": [2**64]}, "validation_error"),
        ({"all": "yes"}, "validation_error"),
        ({"all": True, "status": "read"}, "validation_error"),
    ],
)
def test_bad_mark_read_bodies_are_422_and_change_nothing(
    people: People, body: dict[str, Any], code: str
) -> None:
    notification = notify(people.customer)

    response = api_as(people.customer).post("/notifications/read", body)

    assert_problem(response, 422, code)
    notification.refresh_from_db()
    assert notification.read_at is None


def test_an_empty_id_list_marks_nothing(people: People) -> None:
    notify(people.customer)

    response = api_as(people.customer).post("/notifications/read", {"ids": []})

    assert response.json() == {"marked": 0, "unread_count": 1}


# --- preferences ---------------------------------------------------------------------------


def test_preferences_are_all_on_without_rows(people: People) -> None:
    response = api_as(people.customer).get("/me/notification-preferences")

    assert response.status_code == 200
    groups = response.json()["groups"]
    assert [g["group"] for g in groups] == list(GROUPS)  # the catalogue's order
    assert {"account", "bookings", "reviews", "messages"} <= set(GROUPS)
    assert all(g["email"] and g["in_app"] for g in groups)
    by_group = {g["group"]: g for g in groups}
    account = by_group["account"]
    assert {k: v for k, v in account.items() if k != "mandatory_email_events"} == {
        "group": "account",
        "label": "Your account",
        "email": True,
        "in_app": True,
        "email_locked": True,  # every mail of it is transactional
    }
    assert {"account.welcome", "staff.invited"} <= set(account["mandatory_email_events"])
    assert by_group["reviews"] == {
        "group": "reviews",
        "label": "Reviews",
        "email": True,
        "in_app": True,
        "email_locked": False,
        "mandatory_email_events": [],
    }
    # partly mandatory: switchable, and says which mails still come
    assert by_group["bookings"]["email_locked"] is False
    assert "booking.paid" in by_group["bookings"]["mandatory_email_events"]
    assert "booking.started" not in by_group["bookings"]["mandatory_email_events"]
    assert "booking.reminder" not in by_group["bookings"]["mandatory_email_events"]


def test_preferences_round_trip(people: People) -> None:
    client = api_as(people.customer)
    got = client.get("/me/notification-preferences").json()
    for group in got["groups"]:
        if group["group"] == "reviews":
            group["email"] = False
        if group["group"] == "messages":
            group["in_app"] = False

    # what was got is put back, read-only members and all
    response = client.put("/me/notification-preferences", got)

    assert response.status_code == 200
    assert response.json() == got
    assert client.get("/me/notification-preferences").json() == got
    stored = set(
        NotificationPreference.objects.filter(user=people.customer, enabled=False).values_list(
            "group", "channel"
        )
    )
    assert stored == {("reviews", "email"), ("messages", "in_app")}


def test_a_channel_left_out_keeps_its_setting_and_rows_are_upserted(people: People) -> None:
    client = api_as(people.customer)
    client.put("/me/notification-preferences", {"groups": [{"group": "reviews", "email": False}]})

    client.put("/me/notification-preferences", {"groups": [{"group": "reviews", "in_app": False}]})
    response = client.put(
        "/me/notification-preferences", {"groups": [{"group": "reviews", "email": True}]}
    )

    reviews = next(g for g in response.json()["groups"] if g["group"] == "reviews")
    assert (reviews["email"], reviews["in_app"]) == (True, False)
    assert sorted(
        NotificationPreference.objects.filter(user=people.customer).values_list(
            "group", "channel", "enabled"
        )
    ) == [("reviews", "email", True), ("reviews", "in_app", False)]
    audit = AuditLog.objects.filter(action="notification_preferences.updated").order_by("id")
    assert [entry.data for entry in audit][-1] == {
        "via": "api",
        "changes": [{"group": "reviews", "channel": "email", "enabled": True}],
    }


def test_one_persons_preferences_are_not_anothers(people: People) -> None:
    api_as(people.customer).put(
        "/me/notification-preferences", {"groups": [{"group": "reviews", "email": False}]}
    )

    theirs = api_as(people.bystander).get("/me/notification-preferences").json()["groups"]

    assert all(g["email"] for g in theirs)


def test_an_unknown_group_is_422_and_changes_nothing(people: People) -> None:
    response = api_as(people.customer).put(
        "/me/notification-preferences",
        {"groups": [{"group": "reviews", "email": False}, {"group": "spam", "email": False}]},
    )

    body = assert_problem(response, 422, "unknown_notification_group")
    assert body["errors"] == [
        {
            "loc": ["body", "groups", 1, "group"],
            "msg": "unknown notification group",
            "type": "unknown_group",
        }
    ]
    assert not NotificationPreference.objects.exists()


def test_switching_off_mail_that_is_all_transactional_is_refused(people: People) -> None:
    client = api_as(people.customer)

    refused = client.put(
        "/me/notification-preferences", {"groups": [{"group": "account", "email": False}]}
    )
    allowed = client.put(
        "/me/notification-preferences", {"groups": [{"group": "account", "in_app": False}]}
    )

    assert_problem(refused, 422, "email_locked")
    account = next(g for g in allowed.json()["groups"] if g["group"] == "account")
    assert (account["email"], account["in_app"]) == (True, False)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"groups": [{"group": "reviews", "email": "no"}]},
        {"groups": [{"group": "reviews", "push": False}]},
        {"groups": [{"email": False}]},
        {"groups": "reviews"},
    ],
)
def test_malformed_preferences_are_422(people: People, body: dict[str, Any]) -> None:
    response = api_as(people.customer).put("/me/notification-preferences", body)

    assert_problem(response, 422, "validation_error")
    assert not NotificationPreference.objects.exists()


def test_in_app_off_stops_new_notices_but_mandatory_mail_still_goes(
    people: People, mandatory_ping_event: Any
) -> None:
    from django.core import mail

    api_as(people.customer).put(
        "/me/notification-preferences",
        {"groups": [{"group": "bookings", "email": False, "in_app": False}]},
    )
    with transaction.atomic():
        outbox.emit(
            "test.ping",
            subject="booking:7",
            data={"id": 7, "status": "paid", "url": "/account/bookings/7/"},
            user_id=people.customer.pk,
        )

    delivery.run_once()

    assert not Notification.objects.filter(user=people.customer).exists()
    assert [m.to for m in mail.outbox] == [["alice@example.test"]]


def test_openapi_describes_the_centre(client: Any) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]

    assert set(paths["/api/v1/notifications"]) == {"get"}
    assert set(paths["/api/v1/notifications/read"]) == {"post"}
    assert set(paths["/api/v1/me/notification-preferences"]) == {"get", "put"}
    assert paths["/api/v1/notifications"]["get"]["security"]
