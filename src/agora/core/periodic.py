"""Periodic jobs (hold expiry sweeps, escrow release, pruning) for `agora worker`.

Each app registers its periodic tasks in its `tasks.py`; the worker's scheduler thread
calls `enqueue_due()` every few seconds. The claim is a conditional UPDATE on
`PeriodicRun`, so any number of workers enqueue each due run once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction

from agora.core import clock
from agora.core.models import PeriodicRun

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    task: Any  # a django_tasks Task taking no arguments
    every: timedelta


_registry: dict[str, PeriodicJob] = {}


def register(task: Any, *, every: timedelta) -> Any:
    name = f"{task.module_path}"
    _registry[name] = PeriodicJob(name=name, task=task, every=every)
    return task


def jobs() -> list[PeriodicJob]:
    return sorted(_registry.values(), key=lambda job: job.name)


def enqueue_due() -> list[str]:
    """Enqueue every job whose time has come; return their names."""
    now = clock.now()
    enqueued = []
    for job in jobs():
        try:
            with transaction.atomic():
                PeriodicRun.objects.get_or_create(name=job.name, defaults={"next_run_at": now})
        except IntegrityError:
            pass
        claimed = PeriodicRun.objects.filter(name=job.name, next_run_at__lte=now).update(
            next_run_at=now + job.every, last_enqueued_at=now
        )
        if claimed:
            job.task.enqueue()
            enqueued.append(job.name)
    if enqueued:
        logger.info("enqueued periodic jobs: %s", ", ".join(enqueued))
    return enqueued


@dataclass(frozen=True)
class Loop:
    """Work the worker does continuously in a thread of its own, not through the queue.

    `once` does a round and returns how much it did; the worker calls it again at once
    while it finds work, else every `every_seconds` (the outbox: mail within a second of
    the commit, whatever the task queue is busy with).
    """

    name: str
    once: Any  # Callable[[], int]
    every_seconds: float


_loops: dict[str, Loop] = {}


def register_loop(name: str, once: Any, *, every_seconds: float) -> None:
    _loops[name] = Loop(name=name, once=once, every_seconds=every_seconds)


def loops() -> list[Loop]:
    return sorted(_loops.values(), key=lambda loop: loop.name)
