"""MOT-due reminders 28, 14 and 1 days before expiry (and once when it has expired): each
exactly once, whatever the number of sweeps, with the soonest MOT slots near the customer."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.core import mail

from agora.bookings.models import Booking
from agora.core import clock
from agora.notifications import delivery
from agora.notifications.models import EmailDelivery, Event, Notification
from agora.verticals.automotive import reminders, services
from agora.verticals.automotive.models import MotReminder, Vehicle
from tests.automotive.conftest import NOW
from tests.bookings.helpers import Shop, make_shop
from tests.factories import BookingFactory, ListingFactory, UserFactory
from tests.notifications.events.conftest import assert_well_formed, html_of
from tests.race import run_concurrently

pytestmark = pytest.mark.django_db

EXPIRY = date(2026, 12, 29)  # AB12CDE's in the offline fixture


def reminders_sent(vehicle: Vehicle) -> list[tuple[str, int, str]]:
    return list(
        Event.objects.filter(name="vehicle.mot_due", subject=f"vehicle:{vehicle.pk}")
        .order_by("id")
        .values_list("data__kind", "data__days_left", "data__expiry_date")
    )


@pytest.fixture
def shop(now: datetime) -> Shop:
    shop = make_shop()
    ListingFactory(
        vendor=shop.vendor,
        title="MOT test (class 4)",
        price_amount=5485,
        attributes={"mot_class": "4", "includes_mot": True},
    )
    return shop


@pytest.fixture
def vehicle(shop: Shop) -> Vehicle:
    return services.vehicle_add(owner=shop.customer, registration="AB12CDE")


def test_due_kind_is_the_nearest_threshold_reached() -> None:
    cases = {
        29: None,
        28: "28d",
        15: "28d",
        14: "14d",
        2: "14d",
        1: "1d",
        0: "1d",
        -1: "expired",
        -7: "expired",
        -8: None,
    }
    assert {
        left: reminders.due_kind(expiry_date=EXPIRY, today=EXPIRY - timedelta(days=left))
        for left in cases
    } == cases


def test_each_reminder_goes_once_over_weeks_of_hourly_sweeps(vehicle: Vehicle) -> None:
    # from 1 December (28 days left) to 10 January, sweeping every six hours
    for _ in range(41 * 4):
        reminders.send_due_mot_reminders()
        clock.advance(timedelta(hours=6))

    assert reminders_sent(vehicle) == [
        ("28d", 28, "2026-12-29"),
        ("14d", 14, "2026-12-29"),
        ("1d", 1, "2026-12-29"),
        ("expired", -1, "2026-12-29"),
    ]
    assert MotReminder.objects.filter(vehicle=vehicle).count() == 4


def test_a_second_sweep_the_same_day_sends_nothing(vehicle: Vehicle) -> None:
    assert reminders.send_due_mot_reminders() == 1
    assert reminders.send_due_mot_reminders() == 0
    assert reminders_sent(vehicle) == [("28d", 28, "2026-12-29")]


def test_a_sweep_that_missed_days_sends_the_reminder_that_fits(vehicle: Vehicle) -> None:
    clock.advance(timedelta(days=20))  # 8 days left: the 28-day reminder is past

    reminders.send_due_mot_reminders()

    assert reminders_sent(vehicle) == [("14d", 8, "2026-12-29")]


def test_no_reminder_for_a_removed_vehicle_or_one_with_an_mot_booked(shop: Shop) -> None:
    removed = services.vehicle_add(owner=shop.customer, registration="AB12CDE")
    services.vehicle_remove(owner=shop.customer, vehicle=removed)
    booked = services.vehicle_add(owner=shop.other_customer, registration="AB12CDE")
    BookingFactory(
        listing=shop.listing,
        customer=shop.other_customer,
        vehicle=booked,
        status="accepted",
        start=NOW + timedelta(days=10),
    )

    assert reminders.send_due_mot_reminders() == 0
    assert Event.objects.filter(name="vehicle.mot_due").count() == 0


def test_a_new_mot_moves_the_reminders_to_the_new_expiry(vehicle: Vehicle) -> None:
    reminders.send_due_mot_reminders()  # the 28-day one
    # Passed a new MOT: the saved data says so at the next refresh
    Vehicle.objects.filter(pk=vehicle.pk).update(
        mot_expiry_date=date(2027, 12, 29), refreshed_at=clock.now()
    )
    clock.advance(timedelta(days=14))

    assert reminders.send_due_mot_reminders() == 0
    assert reminders_sent(vehicle) == [("28d", 28, "2026-12-29")]


def test_stale_data_is_looked_up_again_before_a_reminder(vehicle: Vehicle) -> None:
    Vehicle.objects.filter(pk=vehicle.pk).update(
        mot_expiry_date=date(2026, 12, 20), refreshed_at=clock.now() - timedelta(days=3)
    )

    reminders.send_due_mot_reminders()

    vehicle.refresh_from_db()
    assert vehicle.mot_expiry_date == EXPIRY  # the provider's, not the stale copy
    assert vehicle.refreshed_at == clock.now()
    assert reminders_sent(vehicle) == [("28d", 28, "2026-12-29")]


def test_the_reminder_reaches_the_customer_with_the_soonest_mot_slots_near_them(
    shop: Shop, vehicle: Vehicle, settings: Any
) -> None:
    settings.AGORA_BASE_URL = "https://market.example"
    mail.outbox = []
    # the customer has booked in London before
    BookingFactory(listing=shop.listing, customer=shop.customer, status="completed")

    reminders.send_due_mot_reminders()
    delivery.run_once()

    event = Event.objects.get(name="vehicle.mot_due")
    assert event.user_id == shop.customer.pk
    assert event.vendor_id is None
    assert event.data["url"] == "/c/mot-servicing/london/first-free/"
    assert event.data["vehicle_url"] == f"/account/vehicles/{vehicle.pk}/"
    assert [(s["listing_title"], s["vendor_name"]) for s in event.data["slots"]] == [
        ("MOT test (class 4)", "Camden Motors")
    ]
    assert event.data["slots"][0]["start"] == "2026-12-01T09:00:00+00:00"
    notice = Notification.objects.get(user=shop.customer, event=event)
    assert notice.url == "/c/mot-servicing/london/first-free/"
    assert notice.title == "MOT due in 28 days: VAUXHALL ASTRA AB12 CDE"
    assert EmailDelivery.objects.get(event=event).to_email == shop.customer.email
    (message,) = mail.outbox
    assert_well_formed(message)
    assert message.subject == "MOT due in 28 days: VAUXHALL ASTRA AB12 CDE"
    assert "runs out on Tue 29 Dec 2026, in 28 days" in message.body
    assert "Find an MOT slot: https://market.example/c/mot-servicing/london/first-free/" in (
        message.body
    )
    assert "- MOT test (class 4) at Camden Motors, Tue 1 Dec 2026, 09:00, £54.85" in message.body
    assert f'href="https://market.example/account/vehicles/{vehicle.pk}/"' in html_of(message)


def test_without_a_known_city_the_link_is_the_mot_category(vehicle: Vehicle) -> None:
    reminders.send_due_mot_reminders()

    event = Event.objects.get(name="vehicle.mot_due")
    assert (event.data["url"], event.data["slots"]) == ("/c/mot-servicing/", [])


@pytest.mark.race
@pytest.mark.django_db(transaction=True)
def test_racing_sweeps_send_each_reminder_once() -> None:
    with clock.frozen(NOW):
        owner = UserFactory()
        vehicle = services.vehicle_add(owner=owner, registration="AB12CDE")

        sent = run_concurrently(lambda _: reminders.send_due_mot_reminders(), threads=4)

    assert sum(sent) == 1
    assert reminders_sent(vehicle) == [("28d", 28, "2026-12-29")]
    assert Booking.objects.count() == 0


@pytest.mark.parametrize(
    ("kind", "days_left", "subject"),
    [
        ("28d", 25, "MOT due in 25 days: VAUXHALL ASTRA AB12 CDE"),
        ("14d", 14, "MOT due in 14 days: VAUXHALL ASTRA AB12 CDE"),
        ("1d", 1, "MOT due tomorrow: VAUXHALL ASTRA AB12 CDE"),
        ("1d", 0, "MOT due today: VAUXHALL ASTRA AB12 CDE"),
        ("expired", -3, "The MOT of AB12 CDE has expired"),
    ],
)
@pytest.mark.parametrize("with_slots", [True, False])
def test_every_reminder_renders_cleanly(
    kind: str, days_left: int, subject: str, with_slots: bool
) -> None:
    from agora.notifications import rendering

    slot = {
        "listing_id": 1,
        "listing_title": "MOT test (class 4)",
        "vendor_name": "Camden Motors",
        "start": "2026-12-02T09:00:00+00:00",
        "timezone": "Europe/London",
        "price": {"amount": 5485, "currency": "GBP"},
    }
    data = {
        "id": 7,
        "status": kind,
        "kind": kind,
        "registration": "AB12 CDE",
        "title": "VAUXHALL ASTRA",
        "expiry_date": "2026-12-29",
        "days_left": days_left,
        "url": "/c/mot-servicing/london/first-free/" if with_slots else "/c/mot-servicing/",
        "vehicle_url": "/account/vehicles/7/",
        "city_name": "London" if with_slots else "",
        "slots": [slot, slot] if with_slots else [],
    }

    words = rendering.render(
        event_name="vehicle.mot_due",
        audience="user",
        data=data,
        recipient=UserFactory.build(name="Ann Example"),
        unsubscribe_url="https://market.example/notifications/unsubscribe/x/",
    )

    assert words.subject == subject
    for part in (words.text, words.html, words.notice):
        assert part.strip()
        assert "None" not in part
        for leftover in ("{{", "{%", "}}", "%}"):
            assert leftover not in part
    assert "\n\n\n" not in words.text
    assert ("The soonest MOT slots in London:" in words.text) is with_slots
    assert words.notice.startswith("The MOT of your VAUXHALL ASTRA (AB12 CDE)")
