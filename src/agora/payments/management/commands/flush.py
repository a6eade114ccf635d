"""`flush`, allowed to empty the ledger tables.

Django's `flush` (also what TransactionTestCase runs after each test) empties every table.
On SQLite it does so with `DELETE FROM`, which the ledger's immutability triggers refuse;
this override runs the same command inside `ledger_maintenance()`, the one situation in
which they stand aside: wiping the whole database is not editing the books. On PostgreSQL
flush uses TRUNCATE, which row triggers do not see, so nothing changes there.
"""

from typing import Any

from django.core.management.commands import flush

from agora.payments.guard import ledger_maintenance


class Command(flush.Command):
    def handle(self, **options: Any) -> None:
        with ledger_maintenance():
            super().handle(**options)
