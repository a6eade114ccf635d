"""Periodic jobs: each due job is enqueued once per period, however many workers ask."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django_tasks import task, task_backends

from agora.core import clock, periodic
from agora.core.models import PeriodicRun
from agora.core.tasks import prune_idempotency_keys, prune_rate_counters
from tests.race import run_concurrently

NOON = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


@task()
def sweep_holds() -> None:
    """A stand-in for a frequent job (hold expiry)."""


@task()
def release_escrow() -> None:
    """A stand-in for an hourly job."""


SWEEP = f"{__name__}.sweep_holds"
RELEASE = f"{__name__}.release_escrow"


@pytest.fixture
def dummy_tasks(settings: Any) -> Any:
    """Tasks go to django_tasks' DummyBackend, which only records what was enqueued.

    Changing settings.TASKS fires setting_changed, on which django_tasks drops its cached
    backends, so the next lookup builds the dummy one (per thread).
    """
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend", "QUEUES": ["default"]}
    }
    backend = task_backends["default"]
    backend.clear()
    return backend


@pytest.fixture
def two_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only our two jobs in the registry, whatever the apps register."""
    monkeypatch.setattr(periodic, "_registry", {})
    periodic.register(sweep_holds, every=timedelta(minutes=10))
    periodic.register(release_escrow, every=timedelta(hours=1))


def enqueued(backend: Any) -> list[str]:
    return [result.task.module_path for result in backend.results]


def test_core_registers_its_pruning_jobs() -> None:
    jobs = {job.name: job for job in periodic.jobs()}

    assert jobs["agora.core.tasks.prune_idempotency_keys"].task is prune_idempotency_keys
    assert jobs["agora.core.tasks.prune_idempotency_keys"].every == timedelta(hours=1)
    assert jobs["agora.core.tasks.prune_rate_counters"].task is prune_rate_counters
    assert jobs["agora.core.tasks.prune_rate_counters"].every == timedelta(hours=1)


@pytest.mark.django_db
@pytest.mark.usefixtures("two_jobs")
def test_each_job_is_enqueued_once_when_due_and_not_again_until_its_period_passes(
    dummy_tasks: Any,
) -> None:
    with clock.frozen(NOON):
        # The first round finds both jobs due
        assert periodic.enqueue_due() == [RELEASE, SWEEP]
        assert enqueued(dummy_tasks) == [RELEASE, SWEEP]

        # Asking again at once, or just before a period ends, enqueues nothing
        assert periodic.enqueue_due() == []
        clock.advance(timedelta(minutes=9, seconds=59))
        assert periodic.enqueue_due() == []

        # At ten minutes the sweep is due again, the hourly job is not
        clock.advance(timedelta(seconds=1))
        assert periodic.enqueue_due() == [SWEEP]
        assert periodic.enqueue_due() == []

        # At an hour both are
        clock.advance(timedelta(minutes=50))
        assert periodic.enqueue_due() == [RELEASE, SWEEP]

    assert Counter(enqueued(dummy_tasks)) == {SWEEP: 3, RELEASE: 2}
    runs = {run.name: run for run in PeriodicRun.objects.all()}
    assert set(runs) == {SWEEP, RELEASE}
    assert runs[SWEEP].last_enqueued_at == NOON + timedelta(hours=1)
    assert runs[SWEEP].next_run_at == NOON + timedelta(hours=1, minutes=10)
    assert runs[RELEASE].next_run_at == NOON + timedelta(hours=2)


@pytest.mark.django_db
@pytest.mark.usefixtures("two_jobs")
def test_a_worker_that_was_down_catches_up_with_one_run_not_many(dummy_tasks: Any) -> None:
    with clock.frozen(NOON):
        periodic.enqueue_due()
        clock.advance(timedelta(hours=5))  # the worker was stopped for five hours

        assert periodic.enqueue_due() == [RELEASE, SWEEP]
        assert periodic.enqueue_due() == []

    assert Counter(enqueued(dummy_tasks)) == {SWEEP: 2, RELEASE: 2}


@pytest.mark.race
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("two_jobs", "dummy_tasks")
def test_several_workers_asking_at_once_enqueue_each_job_once() -> None:
    # Each thread has its own dummy backend, so count what enqueue_due reports.
    with clock.frozen(NOON):
        rounds = run_concurrently(lambda _: periodic.enqueue_due(), threads=6)

    claimed = Counter(name for names in rounds for name in names)
    assert claimed == {SWEEP: 1, RELEASE: 1}
    assert PeriodicRun.objects.count() == 2
