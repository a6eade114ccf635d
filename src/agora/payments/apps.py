from typing import Any

from django.apps import AppConfig
from django.db.backends.signals import connection_created


def _register_sqlite_functions(sender: Any, connection: Any, **kwargs: Any) -> None:
    # The SQLite immutability triggers (migration 0002) call agora_ledger_maintenance();
    # without it (e.g. in the sqlite3 shell) every UPDATE or DELETE of a ledger row fails
    # with "no such function", which keeps the ledger immutable there too.
    if connection.vendor == "sqlite":
        from agora.payments.guard import ledger_maintenance_active

        connection.connection.create_function(
            "agora_ledger_maintenance", 0, ledger_maintenance_active
        )


class PaymentsConfig(AppConfig):
    name = "agora.payments"
    label = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        connection_created.connect(
            _register_sqlite_functions, dispatch_uid="agora.payments.sqlite_functions"
        )
        from agora.payments import tasks  # noqa: F401  (registers periodic jobs)
