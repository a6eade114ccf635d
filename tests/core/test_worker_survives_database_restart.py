"""`agora worker` outlives a real PostgreSQL restart and goes on running the queue.

Hold and reservation expiry, escrow release, payouts and escalations all run in the
worker; if it exits when PostgreSQL restarts they stop until someone notices. This test
restarts a real server under a running worker, so it uses a throwaway cluster of its own
(tests/pgcluster.py) and never pytest-django's database, which other tests share.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests import pgcluster

pytestmark = pytest.mark.race

# An hourly periodic job of core's: run once at start-up, then only when the test makes
# it due again, so the run after the restart is unmistakable.
JOB = "agora.core.tasks.prune_idempotency_keys"
DOWNTIME_SECONDS = 3.0


@pytest.fixture
def cluster() -> Iterator[pgcluster.PostgresCluster]:
    if os.environ.get("AGORA_EXPECT_DB") != "postgresql":
        pytest.skip(
            "restarts a PostgreSQL server of its own, so it runs once per `make test`: "
            "in the PostgreSQL run (AGORA_EXPECT_DB=postgresql)"
        )
    bindir = pgcluster.find_bindir()
    if bindir is None:
        pytest.fail(
            "AGORA_EXPECT_DB=postgresql, but PostgreSQL's server binaries (initdb, pg_ctl) "
            "are neither on PATH nor in /usr/lib/postgresql/*/bin"
        )
    with pgcluster.running_cluster(bindir) as running:
        yield running


def _query(cluster: pgcluster.PostgresCluster, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """A fresh connection per call: the test's own connections die in the restart too."""
    with psycopg.connect(cluster.url, autocommit=True, connect_timeout=5) as conn:
        cursor = conn.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def _wait_until(
    condition: Callable[[], bool], *, worker: subprocess.Popen[bytes], log: Path, what: str
) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert worker.poll() is None, (
            f"the worker exited ({worker.returncode}) waiting for {what}:\n{log.read_text()}"
        )
        assert time.monotonic() < deadline, f"timed out waiting for {what}:\n{log.read_text()}"
        time.sleep(0.2)


def test_worker_runs_tasks_again_after_postgresql_restarts(
    cluster: pgcluster.PostgresCluster, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": cluster.url,
        "AGORA_VAR_DIR": str(tmp_path / "var"),
        "AGORA_TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "DJANGO_SETTINGS_MODULE": "agora.settings",
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }
    agora = [sys.executable, "-m", "agora"]
    migrate = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [*agora, "migrate", "--no-input", "-v", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr

    def job_succeeded(since: object) -> bool:
        return bool(
            _query(
                cluster,
                "SELECT 1 FROM django_tasks_database_dbtaskresult"
                " WHERE task_path = %s AND status = 'SUCCESSFUL' AND enqueued_at >= %s",
                JOB,
                since,
            )
        )

    def queue_idle() -> bool:
        return not _query(
            cluster,
            "SELECT 1 FROM django_tasks_database_dbtaskresult WHERE status IN ('READY', 'RUNNING')",
        )

    started_at = _query(cluster, "SELECT now()")[0][0]
    log = tmp_path / "worker.log"
    with log.open("wb") as output:
        worker = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [*agora, "worker", "--interval", "0.2", "--schedule-every", "0.5"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        # Given a worker that has run the start-up round of periodic jobs
        _wait_until(
            lambda: job_succeeded(started_at) and queue_idle(),
            worker=worker,
            log=log,
            what="the start-up periodic jobs",
        )

        # When PostgreSQL goes down for a few seconds and comes back
        cluster.stop(mode="fast")
        time.sleep(DOWNTIME_SECONDS)
        cluster.start()
        restarted_at = _query(cluster, "SELECT now()")[0][0]
        time.sleep(1)
        assert worker.poll() is None, f"the worker died in the restart:\n{log.read_text()}"

        # Then it runs work enqueued after the restart: the job, made due, is enqueued by
        # the scheduler thread and run by the queue loop
        _query(
            cluster,
            "UPDATE core_periodicrun SET next_run_at = now() - interval '1 second' WHERE name = %s",
            JOB,
        )
        _wait_until(
            lambda: job_succeeded(restarted_at),
            worker=worker,
            log=log,
            what="the job made due after the restart",
        )

        # and still shuts down promptly on SIGTERM
        stopping_at = time.monotonic()
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=10) == 0, log.read_text()
        assert time.monotonic() - stopping_at < 5
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()

    # One warning for the outage and one line for the recovery, not one per retry.
    output_text = log.read_text()
    assert output_text.count("queue: database unavailable") == 1, output_text
    assert output_text.count("queue: database is back") == 1, output_text
    assert output_text.count("scheduler: database unavailable") <= 1, output_text
