import logging
import threading
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import (
    InterfaceError,
    OperationalError,
    close_old_connections,
    connection,
    connections,
)
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker

from agora.core import periodic

logger = logging.getLogger("agora.worker")

# What a database restart, failover or network cut looks like from Django (psycopg's errors
# arrive wrapped as these). Any other error is a bug and still stops the worker loudly.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
BACKOFF_FIRST_SECONDS = 0.5
BACKOFF_MAX_SECONDS = 10.0
# The backoff starts over only after the database has stayed up this long, so an error a
# fresh connection does not cure (disk full, a lock timeout on every claim) settles at the
# longest delay instead of logging twice a second.
BACKOFF_RESET_AFTER_SECONDS = 60.0


class _Outage:
    """One warning when a loop loses the database and one line when it is back, not a
    traceback per retry; also the loop's backoff delay."""

    def __init__(self, loop: str) -> None:
        self.loop = loop
        self.down_since: float | None = None
        self.up_since = time.monotonic()
        self.delay = BACKOFF_FIRST_SECONDS

    def began(self, error: Exception) -> None:
        if self.down_since is not None:
            return
        self.down_since = time.monotonic()
        if self.down_since - self.up_since > BACKOFF_RESET_AFTER_SECONDS:
            self.delay = BACKOFF_FIRST_SECONDS
        reason = " ".join(str(error).split())  # psycopg's messages span several lines
        logger.warning(
            "%s: database unavailable (%s: %s); retrying until it is back",
            self.loop,
            type(error).__name__,
            reason,
        )

    def ended(self) -> None:
        if self.down_since is None:
            return
        self.up_since = time.monotonic()
        logger.info("%s: database is back after %.1f s", self.loop, self.up_since - self.down_since)
        self.down_since = None

    def next_delay(self) -> float:
        delay = self.delay
        self.delay = min(delay * 2, BACKOFF_MAX_SECONDS)
        return delay


class OutageTolerantWorker(Worker):
    """django_tasks_db's worker, which outlives a database restart.

    `Worker.run()` re-raises every OperationalError but "database is locked", and a task
    whose result cannot be saved (`set_failed` with the database gone) raises out of it too;
    the queue (hold and reservation expiry, escrow release, payouts) would then stop until
    someone restarted the process. Here the loop waits for the database and resumes.

    The task claimed when the database vanished: its claim (status RUNNING) was committed
    before it ran, so if its result cannot be saved the row stays RUNNING, and
    django_tasks_db never runs a RUNNING row again (it cannot tell a dead worker from a slow
    one). Every Agora task is a periodic sweep, so nothing is lost: the scheduler enqueues
    the next run on the next period and that run picks up what this one left. Re-running
    the claimed row automatically could repeat side effects that did happen (a payout call,
    an e-mail), so it is left, visible in the admin.
    """

    def run(self) -> None:
        if self.batch:
            # `--batch` is one-shot (cron, deploy hooks, CI): a database error fails the
            # command with a traceback and a non-zero exit, so whoever runs it sees it, and
            # the next invocation is the retry. Waiting here could hang a cron job forever.
            super().run()
            return
        outage = _Outage("queue")
        while self.running:
            try:
                super().run()  # returns only after SIGTERM/SIGINT cleared self.running
            except DATABASE_UNAVAILABLE as error:
                outage.began(error)
                if not self.running:
                    return  # shutdown was asked for during the task whose result was lost
                self._wait_for_database(outage)
                outage.ended()

    def _wait_for_database(self, outage: _Outage) -> None:
        """Sleep with capped exponential backoff until a new connection succeeds.

        Shutdown stays prompt: no task is running, so `Worker.shutdown` (the SIGTERM/SIGINT
        handler) raises SystemExit straight out of `time.sleep`.
        """
        while True:
            # The broken connection would otherwise be reused (and fail) by the next query.
            connections.close_all()
            time.sleep(outage.next_delay())
            try:
                connection.ensure_connection()
            except DATABASE_UNAVAILABLE:
                continue
            return


class Command(BaseCommand):
    help = "Run background tasks: periodic jobs (expiry, escrow release, payouts) and queued tasks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--interval", type=float, default=1.0, help="Queue poll interval, seconds."
        )
        parser.add_argument(
            "--schedule-every", type=float, default=5.0, help="Seconds between periodic checks."
        )
        parser.add_argument(
            "--batch", action="store_true", help="Enqueue due jobs, run all queued tasks, exit."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()

        def schedule() -> None:
            outage = _Outage("scheduler")
            while not stop.is_set():
                try:
                    periodic.enqueue_due()
                    outage.ended()
                except DATABASE_UNAVAILABLE as error:
                    outage.began(error)  # the next round is the retry
                except Exception:  # keep scheduling whatever one round did
                    logger.exception("periodic scheduling failed")
                finally:
                    # Drops this thread's connection once it is broken, so the next round
                    # reconnects.
                    close_old_connections()
                stop.wait(options["schedule_every"])

        def run_loop(loop: periodic.Loop) -> None:
            outage = _Outage(loop.name)
            while not stop.is_set():
                busy = False
                try:
                    busy = bool(loop.once())
                    outage.ended()
                except DATABASE_UNAVAILABLE as error:
                    outage.began(error)
                except Exception:  # a bad round must not stop the loop
                    logger.exception("%s: round failed", loop.name)
                finally:
                    close_old_connections()
                if not busy:
                    stop.wait(loop.every_seconds)

        if options["batch"]:
            periodic.enqueue_due()
        else:
            threading.Thread(target=schedule, name="agora-scheduler", daemon=True).start()
            for loop in periodic.loops():
                threading.Thread(
                    target=run_loop, args=(loop,), name=f"agora-{loop.name}", daemon=True
                ).start()
        worker = OutageTolerantWorker(
            queue_names=["*"],
            interval=options["interval"],
            batch=options["batch"],
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=get_random_string(32),
            excluded_queue_names=[],
        )
        self.stdout.write(f"Agora worker: {len(periodic.jobs())} periodic job(s) registered.")
        try:
            if not options["batch"]:
                worker.configure_signals()
            worker.run()
            if options["batch"]:
                for loop in periodic.loops():
                    while loop.once():
                        pass
        finally:
            stop.set()
