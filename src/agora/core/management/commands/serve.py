import ctypes
import signal
import subprocess
import sys
from typing import Any

import uvicorn
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve Agora over HTTP with uvicorn (ASGI)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=1, help="Worker processes.")
        parser.add_argument("--log-level", default="info")
        parser.add_argument(
            "--with-worker",
            action="store_true",
            help="Also run `agora worker` (tasks, e-mail, webhooks) beside the server, as "
            "`make run` does on one machine; stopped with the server.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(
            f"Agora on http://{options['host']}:{options['port']}/ ({options['workers']} worker(s))"
        )
        background = None
        if options["with_worker"]:
            background = subprocess.Popen(
                [sys.executable, "-m", "agora", "worker"], preexec_fn=_die_with_parent
            )
            # uvicorn re-raises the SIGTERM it caught once it has shut down: exit through
            # `finally` then, so the worker is stopped with the server.
            signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
        try:
            uvicorn.run(
                "agora.asgi:application",
                host=options["host"],
                port=options["port"],
                workers=options["workers"],
                log_level=options["log_level"],
                access_log=False,
                lifespan="off",
            )
        finally:
            if background is not None:
                background.terminate()
                try:
                    background.wait(15)
                except subprocess.TimeoutExpired:
                    background.kill()


def _die_with_parent() -> None:
    """In the worker child (Linux): SIGTERM it if the server dies without cleaning up."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:  # another libc or system: `finally` still stops it on a clean exit
        pass
