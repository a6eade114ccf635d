"""The outbox's delivery: fan-out to the right people, preferences, mail, retries, failure."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.db import transaction

from agora.core import clock
from agora.notifications import delivery, fanout, mailer, outbox, sequencer
from agora.notifications.models import (
    DeliveryStatus,
    EmailDelivery,
    Event,
    Notification,
    NotificationPreference,
)
from tests.factories import UserFactory, VendorFactory, VendorMembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(db: Any) -> dict[str, Any]:
    customer = UserFactory(name="Cara Customer", email="cara@example.test")
    vendor = VendorFactory()
    owner = UserFactory(name="Olly Owner", email="olly@example.test")
    staff = UserFactory(name="Sam Staff", email="sam@example.test")
    VendorMembershipFactory(vendor=vendor, user=owner, role="owner")
    VendorMembershipFactory(vendor=vendor, user=staff, role="staff")
    other_vendor = VendorFactory()
    VendorMembershipFactory(vendor=other_vendor, user=UserFactory(email="rival@example.test"))
    operator = UserFactory(email="op@example.test", is_operator=True)
    UserFactory(email="bystander@example.test")
    return {
        "customer": customer,
        "vendor": vendor,
        "owner": owner,
        "staff": staff,
        "operator": operator,
    }


def ping(people: dict[str, Any], *, operators: bool = False, **data: Any) -> Event:
    with transaction.atomic():
        return outbox.emit(
            "test.ping",
            subject="booking:7",
            data={"id": 7, "status": "paid", "url": "/account/bookings/7/", **data},
            user_id=people["customer"].pk,
            vendor_id=people["vendor"].pk,
            operators=operators,
        )


def test_an_event_reaches_its_customer_and_vendor_staff_by_mail_and_in_app(
    people: dict[str, Any], ping_event: Any, settings: Any
) -> None:
    # Given an event about a customer's booking with a vendor
    event = ping(people, vendor_url="/vendor/bookings/7/")

    # When the worker's outbox round runs
    delivery.run_once()

    # Then the customer and both staff members (no one else) got one mail each...
    assert sorted(m.to[0] for m in mail.outbox) == [
        "cara@example.test",
        "olly@example.test",
        "sam@example.test",
    ]
    by_address = {m.to[0]: m for m in mail.outbox}
    customer_mail = by_address["cara@example.test"]
    assert customer_mail.subject == "Ping 7 for Cara (user)"
    assert f"Open {settings.AGORA_BASE_URL}/account/bookings/7/" in customer_mail.body
    html, mimetype = customer_mail.alternatives[0]
    assert mimetype == "text/html"
    assert f'href="{settings.AGORA_BASE_URL}/account/bookings/7/"' in html
    # ...the vendor side's link is the vendor portal's page
    assert f"{settings.AGORA_BASE_URL}/vendor/bookings/7/" in by_address["sam@example.test"].body
    # ...and one in-app notice each, with the audience's own path
    notices = {n.user.email: n for n in Notification.objects.select_related("user")}
    assert set(notices) == {"cara@example.test", "olly@example.test", "sam@example.test"}
    assert notices["cara@example.test"].title == "Ping 7 for Cara (user)"
    assert notices["cara@example.test"].body == "Hello Cara, ping 7 happened."
    assert notices["cara@example.test"].url == "/account/bookings/7/"
    assert notices["olly@example.test"].url == "/vendor/bookings/7/"
    # ...every mail is marked sent and the event dispatched
    assert set(EmailDelivery.objects.values_list("status", flat=True)) == {"sent"}
    event.refresh_from_db()
    assert event.dispatched_at is not None


def test_each_notice_is_announced_on_its_persons_stream(
    people: dict[str, Any], ping_event: Any
) -> None:
    ping(people)

    delivery.run_once()

    announced = Event.objects.filter(name="notification.created").order_by("seq")
    assert sorted(e.user_id for e in announced) == sorted(
        [people["customer"].pk, people["owner"].pk, people["staff"].pk]
    )
    assert all(e.stream_name == "notification.created" and e.seq for e in announced)
    notice = Notification.objects.get(user=people["customer"])
    assert announced.get(user=people["customer"]).data == {
        "id": notice.pk,
        "event": "test.ping",
        "title": notice.title,
        "url": "/account/bookings/7/",
    }


def test_operators_hear_only_of_events_meant_for_them(
    people: dict[str, Any], ping_event: Any
) -> None:
    ping(people, operators=False)
    ping(people, operators=True)

    delivery.run_once()

    assert Notification.objects.filter(user=people["operator"]).count() == 1
    assert [m.to[0] for m in mail.outbox].count("op@example.test") == 1


def test_fanning_out_twice_creates_nothing_twice(people: dict[str, Any], ping_event: Any) -> None:
    # Given an event fanned out once
    event = ping(people)
    sequencer.assign()
    fanout.dispatch()
    notices, mails = Notification.objects.count(), EmailDelivery.objects.count()

    # When a second worker (that saw the event before the first marked it) does it again
    Event.objects.filter(pk=event.pk).update(dispatched_at=None)
    fanout.dispatch()

    # Then nothing new exists
    assert (Notification.objects.count(), EmailDelivery.objects.count()) == (notices, mails)
    assert notices == 3


def test_preferences_switch_off_a_channel_per_group(
    people: dict[str, Any], ping_event: Any
) -> None:
    customer = people["customer"]
    NotificationPreference.objects.create(
        user=customer, group="bookings", channel="email", enabled=False
    )
    NotificationPreference.objects.create(
        user=people["staff"], group="bookings", channel="in_app", enabled=False
    )
    NotificationPreference.objects.create(
        user=people["owner"], group="orders", channel="email", enabled=False
    )
    ping(people)

    delivery.run_once()

    assert sorted(m.to[0] for m in mail.outbox) == ["olly@example.test", "sam@example.test"]
    assert sorted(Notification.objects.values_list("user__email", flat=True)) == [
        "cara@example.test",
        "olly@example.test",
    ]


def test_mandatory_mail_is_sent_whatever_the_preference(
    people: dict[str, Any], mandatory_ping_event: Any
) -> None:
    NotificationPreference.objects.create(
        user=people["customer"], group="bookings", channel="email", enabled=False
    )
    ping(people)

    delivery.run_once()

    assert "cara@example.test" in [m.to[0] for m in mail.outbox]
    customer_mail = next(m for m in mail.outbox if m.to[0] == "cara@example.test")
    assert "List-Unsubscribe" not in customer_mail.extra_headers


def test_a_messages_author_is_not_notified_of_their_own_message(
    people: dict[str, Any], ping_event: Any
) -> None:
    ping(people, author_id=people["customer"].pk)

    delivery.run_once()

    assert "cara@example.test" not in [m.to[0] for m in mail.outbox]
    assert not Notification.objects.filter(user=people["customer"]).exists()


def test_inactive_people_hear_nothing(people: dict[str, Any], ping_event: Any) -> None:
    people["staff"].is_active = False
    people["staff"].save()
    ping(people)

    delivery.run_once()

    assert "sam@example.test" not in [m.to[0] for m in mail.outbox]


def test_an_event_of_a_rolled_back_change_is_never_delivered(
    people: dict[str, Any], ping_event: Any
) -> None:
    def failing_change() -> None:
        with transaction.atomic():
            ping(people)
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        failing_change()

    delivery.run_once()

    assert mail.outbox == []
    assert not Event.objects.exists()


class BrokenBackend:
    """An e-mail backend whose relay refuses everything (for retry tests)."""

    sent: list[Any] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> BrokenBackend:
        return self

    def __exit__(self, *exc: Any) -> None:
        pass

    def send_messages(self, messages: list[Any]) -> int:
        raise ConnectionRefusedError("relay refused the connection")


def test_a_mail_that_cannot_be_sent_is_retried_with_backoff_and_finally_shown_as_failed(
    people: dict[str, Any], ping_event: Any, settings: Any
) -> None:
    # Given a relay that refuses every mail
    settings.EMAIL_BACKEND = "tests.notifications.test_delivery.BrokenBackend"
    settings.AGORA_EMAIL_MAX_ATTEMPTS = 4
    start = clock.now()
    with clock.frozen(start):
        ping(people)
        delivery.run_once()
    row = EmailDelivery.objects.get(to_email="cara@example.test")
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error == "ConnectionRefusedError: relay refused the connection"
    assert row.next_attempt_at == start + timedelta(seconds=30)

    # When the worker tries again at each due time
    waits = []
    for _ in range(3):
        due = EmailDelivery.objects.get(pk=row.pk).next_attempt_at
        waits.append(due)
        with clock.frozen(due - timedelta(seconds=1)):
            assert mailer.send_due() == 0  # not before it is due
        with clock.frozen(due):
            mailer.send_due()

    # Then the waits doubled, and after the last attempt the mail is failed — never sent
    assert [b - a for a, b in zip([start, *waits], waits, strict=False)] == [
        timedelta(seconds=30),
        timedelta(minutes=1),
        timedelta(minutes=2),
    ]
    row.refresh_from_db()
    assert (row.status, row.attempts, row.sent_at) == ("failed", 4, None)
    assert fanout.failed_email_count() == 3  # the customer's and both staff members'
    with clock.frozen(clock.now() + timedelta(days=1)):
        assert mailer.send_due() == 0

    # And an operator's retry puts it back in the queue
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    from agora.notifications.services import email_delivery_retry

    operator = UserFactory(is_operator=True)
    assert email_delivery_retry(actor=operator, delivery_id=row.pk)
    mailer.send_due()
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENT
    assert [m.to[0] for m in mail.outbox] == ["cara@example.test"]


def test_a_mail_leased_by_a_dead_worker_is_sent_once_the_lease_runs_out(
    people: dict[str, Any], ping_event: Any, settings: Any
) -> None:
    # Given mails claimed by a worker that then died before sending
    ping(people)
    sequencer.assign()
    fanout.dispatch()
    start = clock.now()
    with clock.frozen(start):
        claimed = mailer.claim()
    assert len(claimed) == 3

    # Then no other worker sends them during the lease...
    with clock.frozen(start + timedelta(seconds=settings.AGORA_OUTBOX_LEASE_SECONDS - 1)):
        assert mailer.send_due() == 0
    # ...and once it has run out, another does, each with the Message-ID of its first try
    with clock.frozen(start + timedelta(seconds=settings.AGORA_OUTBOX_LEASE_SECONDS + 1)):
        assert mailer.send_due() == 3
    assert sorted(m.extra_headers["Message-ID"] for m in mail.outbox) == sorted(
        mailer.message_id(row) for row in claimed
    )
    assert set(EmailDelivery.objects.values_list("attempts", flat=True)) == {2}


def test_old_events_are_pruned_but_notices_stay(people: dict[str, Any], ping_event: Any) -> None:
    from agora.notifications.tasks import prune_events

    start = clock.now()
    with clock.frozen(start):
        ping(people)
        delivery.run_once()
    with clock.frozen(start + timedelta(days=29)):
        assert prune_events() == 0
    with clock.frozen(start + timedelta(days=31)):
        # the ping and the three notification.created events
        assert prune_events() == 4

    assert not Event.objects.exists()
    assert not EmailDelivery.objects.exists()
    assert Notification.objects.count() == 3
    assert set(Notification.objects.values_list("event_id", flat=True)) == {None}


def test_switchable_mail_carries_a_one_click_unsubscribe_link(
    people: dict[str, Any], ping_event: Any, settings: Any
) -> None:
    from agora.notifications.unsubscribe import unsubscribe_url

    ping(people)

    delivery.run_once()

    customer_mail = next(m for m in mail.outbox if m.to[0] == "cara@example.test")
    link = unsubscribe_url(user_id=people["customer"].pk, group="bookings")
    assert link.startswith(settings.AGORA_BASE_URL)
    assert customer_mail.extra_headers["List-Unsubscribe"] == f"<{link}>"
    assert customer_mail.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link in customer_mail.alternatives[0][0]
