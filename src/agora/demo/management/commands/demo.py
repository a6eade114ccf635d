import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from agora.demo.steps import STEPS


class Command(BaseCommand):
    help = "Load a realistic demo marketplace. Safe to run again: nothing is duplicated."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--listings",
            type=int,
            default=0,
            metavar="N",
            help="Also add N synthetic active listings (for search benchmarks).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        for index, (name, load) in enumerate(STEPS, start=1):
            self.stdout.write(f"[{index}/{len(STEPS)}] {name}… ", ending="")
            self.stdout.flush()
            with transaction.atomic():
                summary = load()
            self.stdout.write(self.style.SUCCESS(summary))
        if options["listings"]:
            self._bulk(options["listings"])
        self.stdout.write(
            f"Demo marketplace ready in {time.monotonic() - started:.1f}s. "
            "Sign in as operator@agora.test, vendor@agora.test or customer@agora.test "
            "(password agora-demo)."
        )

    def _bulk(self, count: int) -> None:
        from agora.demo import bulk

        if count < 0:
            raise CommandError("--listings must be a positive number.")
        width = 30

        def progress(done: int, total: int) -> None:
            filled = width * done // total
            bar = "#" * filled + "." * (width - filled)
            self.stdout.write(f"\r  listings [{bar}] {done:,}/{total:,}", ending="")
            self.stdout.flush()

        loaded = bulk.load(count, progress=progress)
        self.stdout.write(
            self.style.SUCCESS(
                f"\n  {loaded.listings:,} listings from {loaded.vendors:,} synthetic vendors "
                f"in {loaded.seconds:.0f}s"
            )
        )
