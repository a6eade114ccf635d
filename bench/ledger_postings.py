"""Ledger posting throughput: N `post_capture` postings at service level.

Each posting is its own transaction, as in production (idempotency check, vendor check,
account lookup, one INSERT for the transaction and one for its four entries, COMMIT; on
PostgreSQL the deferred balance check runs at each COMMIT).

    env -u DATABASE_URL .venv/bin/python bench/ledger_postings.py     # temporary SQLite
    scripts/with-postgres .venv/bin/python bench/ledger_postings.py   # throwaway PostgreSQL

BENCH_N sets the number of postings (default 5000).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid


def main() -> None:
    postings = int(os.environ.get("BENCH_N", "5000"))
    scratch = None
    if not os.environ.get("DATABASE_URL"):
        # A fresh SQLite file in a temporary directory, never the developer's ./var/.
        scratch = tempfile.mkdtemp(prefix="agora-bench-")
        os.environ["AGORA_VAR_DIR"] = scratch
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agora.settings")
    try:
        run(postings)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def run(postings: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from agora.core.money import Money
    from agora.payments import flows, ledger
    from agora.payments.models import JournalTransaction

    call_command("migrate", verbosity=0, interactive=False)
    run_id = uuid.uuid4().hex[:8]  # a rerun on the same database posts anew
    before = JournalTransaction.objects.count()

    started = time.perf_counter()
    for i in range(postings):
        gross = Money(1_000 + (i * 7919) % 99_000, "GBP")
        with transaction.atomic():
            flows.post_capture(
                reference=f"bench:{run_id}:{i}",
                vendor_id=1 + i % 50,
                gross=gross,
                commission=gross.percent(300),
                processing_fee=gross.percent(290),
                idempotency_key=f"bench:{run_id}:{i}",
            )
    elapsed = time.perf_counter() - started

    assert JournalTransaction.objects.count() - before == postings
    assert all(total == 0 for total in ledger.trial_balance().values())
    print(f"{postings} postings in {elapsed:.2f} s")
    print(f"ledger postings/s: {postings / elapsed:.0f} (db={connection.vendor})")


if __name__ == "__main__":
    main()
