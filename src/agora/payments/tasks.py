from datetime import timedelta

from django_tasks import task

from agora.core import clock, periodic
from agora.payments import services


@task()
def run_scheduled_payouts() -> int:
    """Daily, weekly and monthly payouts; idempotent per vendor, currency and day."""
    return services.scheduled_payouts_run(today=clock.now().date())


periodic.register(run_scheduled_payouts, every=timedelta(hours=1))
