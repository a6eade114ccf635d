"""Each deadline is scheduled for its moment when it is set (django-tasks `run_after`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django_tasks_db.models import DBTaskResult

from agora.bookings import timers
from agora.bookings.models import Booking, CancellationPolicy
from agora.bookings.services import lifecycle
from agora.core import clock
from tests.bookings.helpers import Shop, tuesday

pytestmark = pytest.mark.django_db


def scheduled() -> list[tuple[str, datetime, dict[str, Any]]]:
    return [
        (row.task_path.rsplit(".", 1)[-1], row.run_after, row.args_kwargs["kwargs"])
        for row in DBTaskResult.objects.order_by("run_after", "task_path")
    ]


def test_a_hold_schedules_the_expiry_sweep_at_the_end_of_its_bucket(
    shop: Shop, now: datetime
) -> None:
    booking = shop.held(tuesday(10))

    [(task, run_after, _)] = scheduled()

    assert task == "expire_holds"
    assert booking.hold_expires_at is not None
    assert booking.hold_expires_at <= run_after
    assert run_after - booking.hold_expires_at < timedelta(seconds=timers.HOLD_BUCKET_SECONDS)


def test_paying_schedules_the_acceptance_deadline_and_the_first_reminder(
    shop: Shop, now: datetime
) -> None:
    CancellationPolicy.objects.update_or_create(
        vendor=shop.vendor, defaults={"acceptance_timeout_hours": 6}
    )
    DBTaskResult.objects.all().delete()
    booking = shop.paid(tuesday(10))

    tasks = [(task, at, kwargs) for task, at, kwargs in scheduled() if task != "expire_holds"]

    assert booking.paid_at is not None
    assert tasks == [
        (
            "send_booking_reminder",
            tuesday(10) - timedelta(hours=24),
            {"booking_id": booking.pk, "kind": "24h", "start": booking.start.isoformat()},
        ),
        ("expire_unanswered_bookings", booking.paid_at + timedelta(hours=6, seconds=1), {}),
    ]


def test_a_reminder_task_sends_its_reminder_and_schedules_the_next(
    shop: Shop, now: datetime
) -> None:
    from agora.bookings.tasks import send_booking_reminder

    booking = shop.accepted(tuesday(10))
    DBTaskResult.objects.all().delete()

    with clock.frozen(tuesday(10) - timedelta(hours=24)):
        assert send_booking_reminder.call(
            booking_id=booking.pk, kind="24h", start=booking.start.isoformat()
        )

    assert scheduled() == [
        (
            "send_booking_reminder",
            tuesday(8),
            {"booking_id": booking.pk, "kind": "2h", "start": booking.start.isoformat()},
        )
    ]


def test_a_reschedule_schedules_reminders_for_the_new_start(shop: Shop, now: datetime) -> None:
    booking = shop.accepted(tuesday(10))
    DBTaskResult.objects.all().delete()

    shop.as_customer.post(f"/bookings/{booking.pk}/reschedule", {"start": tuesday(14).isoformat()})

    moved = Booking.objects.get(pk=booking.pk)
    assert moved.start == tuesday(14)
    assert (
        "send_booking_reminder",
        tuesday(14) - timedelta(hours=24),
        {"booking_id": booking.pk, "kind": "24h", "start": moved.start.isoformat()},
    ) in scheduled()


def test_completion_schedules_the_escrow_release_at_its_moment(
    shop: Shop, now: datetime, settings: Any
) -> None:
    settings.AGORA_ESCROW_RELEASE_HOURS = 0
    booking = shop.accepted(tuesday(10))
    DBTaskResult.objects.all().delete()

    lifecycle.booking_complete(actor=shop.owner, booking=booking)

    assert scheduled() == [("release_booking_escrow", now, {})]


def test_a_due_escrow_release_runs_at_once_not_at_the_next_sweep(
    shop: Shop, now: datetime, settings: Any
) -> None:
    # With no escrow window, the money is the vendor's as soon as the job is done: the
    # task scheduled at completion releases it on the worker's next poll.
    from agora.bookings.tasks import release_booking_escrow

    settings.AGORA_ESCROW_RELEASE_HOURS = 0
    booking = shop.accepted(tuesday(10))
    lifecycle.booking_complete(actor=shop.owner, booking=booking)
    [due] = [row for row in DBTaskResult.objects.all() if row.task_path.endswith("escrow")]
    assert due.run_after <= clock.now()

    assert release_booking_escrow.call() == 1

    assert Booking.objects.get(pk=booking.pk).escrow_released_at is not None
