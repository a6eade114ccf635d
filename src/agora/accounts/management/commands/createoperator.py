from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from agora.accounts.services import operator_create
from agora.core.errors import DomainError


class Command(BaseCommand):
    help = "Create an operator (platform admin) account, non-interactively."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--password", required=True)
        parser.add_argument("--name", default="Operator")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user = operator_create(
                email=options["email"], password=options["password"], name=options["name"]
            )
        except DomainError as error:
            details = "; ".join(e["msg"] for e in error.extra.get("errors", []))
            raise CommandError(f"{error.detail} {details}".strip()) from error
        self.stdout.write(self.style.SUCCESS(f"Operator {user.email} is ready."))
