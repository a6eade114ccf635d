from datetime import timedelta

from django_tasks import task

from agora.core import periodic, ratelimit
from agora.core.idempotency import prune_expired_keys


@task()
def prune_idempotency_keys() -> int:
    """Forget Idempotency-Keys older than 24 hours."""
    return prune_expired_keys()


@task()
def prune_rate_counters() -> int:
    return ratelimit.prune_expired()


periodic.register(prune_idempotency_keys, every=timedelta(hours=1))
periodic.register(prune_rate_counters, every=timedelta(hours=1))
