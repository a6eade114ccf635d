from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from agora.search import documents


class Command(BaseCommand):
    help = (
        "Rebuild every listing's search document (after changing synonyms, or to repair "
        "an index). Search keeps working meanwhile: each batch is its own transaction."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        def progress(done: int, total: int) -> None:
            self.stdout.write(f"\r  {done:,}/{total:,} documents", ending="")
            self.stdout.flush()

        with transaction.atomic():
            count = documents.rebuild_all(progress=progress)
        self.stdout.write(self.style.SUCCESS(f"\n{count:,} search documents rebuilt."))
