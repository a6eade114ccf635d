"""Run the same callable from real threads at once, for race tests.

Each thread has its own database connection (Django's connections are per thread) and
closes it when done, so the test database can be flushed afterwards. Use it from tests
marked `@pytest.mark.django_db(transaction=True)`: a plain `django_db` test wraps
everything in one transaction that the threads' connections cannot see.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from django.db import connection

T = TypeVar("T")


def run_concurrently(work: Callable[[int], T], *, threads: int, timeout: float = 60) -> list[T]:
    """Call `work(i)` for i in range(threads), all released together by a barrier.

    Returns the results in thread order; re-raises the first exception a thread raised.
    """
    barrier = threading.Barrier(threads)
    results: list[T | None] = [None] * threads
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=timeout)
            results[index] = work(index)
        except BaseException as error:  # reported to the test below
            errors.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=run, args=(i,), name=f"race-{i}") for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout)
    assert not any(worker.is_alive() for worker in workers), "a racing thread hung"
    if errors:
        raise errors[0]
    return results  # type: ignore[return-value]
