from typing import Any

from django.core.management.base import BaseCommand

from agora.reviews import quality, ratings


class Command(BaseCommand):
    help = (
        "Rebuild every vendor's and listing's rating (count, average, distribution, Bayesian "
        "score) from the published reviews; with --quality, run the quality gate afterwards."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--quality", action="store_true", help="Run the vendor quality gate afterwards."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        vendors, listings = ratings.recompute_all()
        self.stdout.write(
            self.style.SUCCESS(
                f"Ratings recomputed: {vendors} vendors and {listings} listings with reviews."
            )
        )
        if options["quality"]:
            opened = quality.check_all()
            self.stdout.write(f"Quality gate: {opened} new flags.")
