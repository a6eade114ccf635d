from datetime import timedelta

from django_tasks import task

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


periodic.register(expire_holds, every=timedelta(minutes=1))
periodic.register(expire_unanswered_bookings, every=timedelta(minutes=15))
periodic.register(release_booking_escrow, every=timedelta(minutes=15))
