from datetime import timedelta

from django_tasks import task

from agora.bookings import reminders, timers
from agora.bookings.models import Booking
from agora.bookings.services import lifecycle
from agora.core import periodic


@task()
def expire_holds() -> int:
    """Sweep held bookings past their expiry (bookers already treat them as free)."""
    return lifecycle.expire_stale_holds()


@task()
def expire_unanswered_bookings() -> int:
    return lifecycle.expire_unanswered()


@task()
def release_booking_escrow() -> int:
    return lifecycle.release_due_escrow()


@task()
def send_booking_reminder(*, booking_id: int, kind: str, start: str) -> bool:
    """One reminder at its moment; then the next one is scheduled."""
    sent = reminders.booking_remind(booking_id=booking_id, kind=kind, start=start)
    booking = Booking.objects.filter(pk=booking_id).first()
    if booking is not None and booking.start.isoformat() == start:
        timers.schedule_next_reminder(booking=booking, after=kind)
    return sent


@task()
def send_due_booking_reminders() -> int:
    """The safety net for reminder timers that were lost."""
    return reminders.send_due_reminders()


periodic.register(send_due_booking_reminders, every=timedelta(minutes=10))
periodic.register(expire_holds, every=timedelta(minutes=1))
periodic.register(expire_unanswered_bookings, every=timedelta(minutes=15))
periodic.register(release_booking_escrow, every=timedelta(minutes=15))
