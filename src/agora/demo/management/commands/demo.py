import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from agora.demo.steps import STEPS


class Command(BaseCommand):
    help = "Load a realistic demo marketplace. Safe to run again: nothing is duplicated."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        for index, (name, load) in enumerate(STEPS, start=1):
            self.stdout.write(f"[{index}/{len(STEPS)}] {name}… ", ending="")
            self.stdout.flush()
            with transaction.atomic():
                summary = load()
            self.stdout.write(self.style.SUCCESS(summary))
        self.stdout.write(
            f"Demo marketplace ready in {time.monotonic() - started:.1f}s. "
            "Sign in as operator@agora.test, vendor@agora.test or customer@agora.test "
            "(password agora-demo)."
        )
