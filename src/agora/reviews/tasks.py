from datetime import timedelta

from django_tasks import task

from agora.core import periodic
from agora.reviews import quality


@task()
def check_vendor_quality() -> int:
    """The quality gate over every active vendor: low ratings, low completion rates."""
    return quality.check_all()


periodic.register(check_vendor_quality, every=timedelta(hours=6))
