import logging
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker

from agora.core import periodic

logger = logging.getLogger("agora.worker")


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
            while not stop.is_set():
                try:
                    periodic.enqueue_due()
                except Exception:  # keep scheduling whatever one round did
                    logger.exception("periodic scheduling failed")
                finally:
                    close_old_connections()
                stop.wait(options["schedule_every"])

        if options["batch"]:
            periodic.enqueue_due()
        else:
            threading.Thread(target=schedule, name="agora-scheduler", daemon=True).start()
        worker = Worker(
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
        finally:
            stop.set()
