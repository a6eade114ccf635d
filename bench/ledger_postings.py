"""Ledger posting throughput: N `post_capture` postings at service level.

Each posting is its own transaction, as in production: BEGIN, one statement that inserts
the journal transaction and its four entries (two on SQLite), COMMIT — on PostgreSQL the
deferred balance check runs at each COMMIT. The figure to quote is that one: one posting
per transaction, one process.

    env -u DATABASE_URL .venv/bin/python bench/ledger_postings.py     # temporary SQLite
    scripts/with-postgres .venv/bin/python bench/ledger_postings.py   # throwaway PostgreSQL

BENCH_N      number of postings (default 5000)
BENCH_BATCH  postings per database transaction (default 1; e.g. 100 for a batch import)
BENCH_WORKERS processes posting at once, each with its own connection (default 1), as N
             app or task-worker processes would; vendors are spread over the workers.

It also prints the statements one posting sends (after its accounts exist).
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
import time
import uuid


def main() -> None:
    postings = int(os.environ.get("BENCH_N", "5000"))
    batch = max(1, int(os.environ.get("BENCH_BATCH", "1")))
    workers = max(1, int(os.environ.get("BENCH_WORKERS", "1")))
    scratch = None
    if not os.environ.get("DATABASE_URL"):
        # A fresh SQLite file in a temporary directory, never the developer's ./var/.
        scratch = tempfile.mkdtemp(prefix="agora-bench-")
        os.environ["AGORA_VAR_DIR"] = scratch
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agora.settings")
    try:
        run(postings, batch, workers)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def _setup() -> None:
    import django

    django.setup()


def _post(run_id: str, first: int, count: int, batch: int) -> None:
    """Post captures number first .. first+count-1, `batch` per database transaction."""
    from django.db import transaction

    from agora.core.money import Money
    from agora.payments import flows

    for start in range(first, first + count, batch):
        with transaction.atomic():
            for i in range(start, min(start + batch, first + count)):
                gross = Money(1_000 + (i * 7919) % 99_000, "GBP")
                flows.post_capture(
                    reference=f"bench:{run_id}:{i}",
                    vendor_id=1 + i % 50,
                    gross=gross,
                    commission=gross.percent(300),
                    processing_fee=gross.percent(290),
                    idempotency_key=f"bench:{run_id}:{i}",
                )


def _worker(run_id: str, first: int, count: int, batch: int, ready: object, go: object) -> None:
    _setup()
    from django.db import connection

    connection.ensure_connection()
    ready.release()  # type: ignore[attr-defined]
    go.wait()  # type: ignore[attr-defined]
    _post(run_id, first, count, batch)
    connection.close()


def _statements_per_posting(run_id: str) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _post(f"{run_id}-warm", 0, 50, 1)  # every vendor's accounts exist
    with CaptureQueriesContext(connection) as captured:
        _post(f"{run_id}-probe", 0, 1, 1)
    return [" ".join(query["sql"].split())[:60] for query in captured.captured_queries]


def run(postings: int, batch: int, workers: int) -> None:
    _setup()
    from django.core.management import call_command
    from django.db import connection

    from agora.payments import ledger
    from agora.payments.models import JournalTransaction

    call_command("migrate", verbosity=0, interactive=False)
    run_id = uuid.uuid4().hex[:8]  # a rerun on the same database posts anew
    statements = _statements_per_posting(run_id)
    before = JournalTransaction.objects.count()

    if workers == 1:
        started = time.perf_counter()
        _post(run_id, 0, postings, batch)
        elapsed = time.perf_counter() - started
    else:
        connection.close()
        context = multiprocessing.get_context("spawn")
        ready, go = context.Semaphore(0), context.Event()
        share = -(-postings // workers)
        processes = [
            context.Process(
                target=_worker,
                args=(run_id, n * share, min(share, postings - n * share), batch, ready, go),
            )
            for n in range(workers)
        ]
        for process in processes:
            process.start()
        for _ in processes:
            ready.acquire()
        started = time.perf_counter()
        go.set()
        for process in processes:
            process.join()
        elapsed = time.perf_counter() - started
        assert all(process.exitcode == 0 for process in processes)

    assert JournalTransaction.objects.count() - before == postings
    assert all(total == 0 for total in ledger.trial_balance().values())
    assert ledger.unbalanced_transactions() == []
    print(f"statements per posting ({len(statements)}): {statements}")
    print(
        f"{postings} postings in {elapsed:.2f} s "
        f"({batch} per transaction, {workers} process{'es' if workers > 1 else ''})"
    )
    print(f"ledger postings/s: {postings / elapsed:.0f} (db={connection.vendor})")


if __name__ == "__main__":
    main()
