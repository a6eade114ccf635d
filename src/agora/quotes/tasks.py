from datetime import timedelta

from django_tasks import task

from agora.core import periodic
from agora.quotes.services import assign, offers, requests


@task()
def expire_quote_requests() -> int:
    return requests.requests_expire_due()


@task()
def invite_next_waves() -> int:
    """Requests nobody quoted within the SLA get their next wave of vendors."""
    return requests.requests_next_wave_due()


@task()
def expire_quotes() -> int:
    return offers.quotes_expire_due()


@task()
def lapse_assignments() -> int:
    return assign.assignments_lapse_due()


@task()
def assign_requests() -> int:
    """One automatic-assignment batch (on-demand categories)."""
    return assign.assignment_batch_run().assigned


periodic.register(expire_quote_requests, every=timedelta(minutes=5))
periodic.register(invite_next_waves, every=timedelta(minutes=5))
periodic.register(expire_quotes, every=timedelta(minutes=5))
periodic.register(lapse_assignments, every=timedelta(minutes=1))
periodic.register(assign_requests, every=timedelta(seconds=10))
