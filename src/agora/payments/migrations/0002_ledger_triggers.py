"""Database-level guarantees for the ledger (hand-written; see payments/models.py).

Both databases:
  * journal transactions and entries reject UPDATE and DELETE; ledger accounts reject
    UPDATE (an account with entries cannot be deleted either: PROTECT foreign keys);
  * an entry's currency must equal its account's.
PostgreSQL only:
  * DEFERRABLE INITIALLY DEFERRED constraint triggers check, at COMMIT, that every
    transaction touched has entries and that they sum to zero per currency.
SQLite has no deferred (nor statement-level) triggers: the balance rule is enforced by
`ledger.post` there. Its DELETE triggers step aside only inside `ledger_maintenance()`
(the `flush` command), through the `agora_ledger_maintenance()` function that
`PaymentsConfig.ready` registers on every SQLite connection.

Caution for later migrations: on SQLite, Django applies most ALTERs by rebuilding the table,
which drops its triggers. A migration that alters these tables must run SQLITE_INSTALL
again (the statements are idempotent); tests/payments/test_ledger.py checks the triggers
are present.
"""

from django.db import migrations

_IMMUTABLE_SQLITE = """
CREATE TRIGGER IF NOT EXISTS {name} BEFORE {op} ON {table}
{when}
BEGIN
    SELECT RAISE(ABORT, 'ledger is append-only: {op} on {table} refused; post a reversal');
END
"""

SQLITE_INSTALL = [
    _IMMUTABLE_SQLITE.format(
        name="payments_journalentry_no_update", op="UPDATE", table="payments_journalentry",
        when="",
    ),
    _IMMUTABLE_SQLITE.format(
        name="payments_journalentry_no_delete", op="DELETE", table="payments_journalentry",
        when="WHEN NOT agora_ledger_maintenance()",
    ),
    _IMMUTABLE_SQLITE.format(
        name="payments_journaltransaction_no_update", op="UPDATE",
        table="payments_journaltransaction", when="",
    ),
    _IMMUTABLE_SQLITE.format(
        name="payments_journaltransaction_no_delete", op="DELETE",
        table="payments_journaltransaction", when="WHEN NOT agora_ledger_maintenance()",
    ),
    _IMMUTABLE_SQLITE.format(
        name="payments_ledgeraccount_no_update", op="UPDATE", table="payments_ledgeraccount",
        when="",
    ),
    """
    CREATE TRIGGER IF NOT EXISTS payments_journalentry_currency
    BEFORE INSERT ON payments_journalentry
    WHEN NEW.currency IS NOT (
        SELECT currency FROM payments_ledgeraccount WHERE id = NEW.account_id
    )
    BEGIN
        SELECT RAISE(ABORT, 'journal entry currency differs from its account''s currency');
    END
    """,
]

SQLITE_UNINSTALL = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "payments_journalentry_no_update",
        "payments_journalentry_no_delete",
        "payments_journaltransaction_no_update",
        "payments_journaltransaction_no_delete",
        "payments_ledgeraccount_no_update",
        "payments_journalentry_currency",
    )
]

POSTGRESQL_INSTALL = [
    """
    CREATE OR REPLACE FUNCTION payments_ledger_immutable() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'ledger is append-only: % on % refused; post a reversal',
            TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation';
    END
    $$
    """,
    """
    CREATE TRIGGER payments_journalentry_immutable
    BEFORE UPDATE OR DELETE ON payments_journalentry
    FOR EACH ROW EXECUTE FUNCTION payments_ledger_immutable()
    """,
    """
    CREATE TRIGGER payments_journaltransaction_immutable
    BEFORE UPDATE OR DELETE ON payments_journaltransaction
    FOR EACH ROW EXECUTE FUNCTION payments_ledger_immutable()
    """,
    """
    CREATE TRIGGER payments_ledgeraccount_immutable
    BEFORE UPDATE ON payments_ledgeraccount
    FOR EACH ROW EXECUTE FUNCTION payments_ledger_immutable()
    """,
    """
    CREATE OR REPLACE FUNCTION payments_entry_currency() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.currency IS DISTINCT FROM (
            SELECT currency FROM payments_ledgeraccount WHERE id = NEW.account_id
        ) THEN
            RAISE EXCEPTION 'journal entry currency % differs from account %''s currency',
                NEW.currency, NEW.account_id
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END
    $$
    """,
    """
    CREATE TRIGGER payments_journalentry_currency
    BEFORE INSERT ON payments_journalentry
    FOR EACH ROW EXECUTE FUNCTION payments_entry_currency()
    """,
    # Runs at COMMIT (or SET CONSTRAINTS ... IMMEDIATE) once per inserted row; one
    # grouped query per check, on the transaction_id index.
    """
    CREATE OR REPLACE FUNCTION payments_transaction_balanced() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        txn_id bigint;
        per_currency record;
        has_entries boolean := false;
    BEGIN
        IF TG_TABLE_NAME = 'payments_journalentry' THEN
            txn_id := NEW.transaction_id;
        ELSE
            txn_id := NEW.id;
        END IF;
        FOR per_currency IN
            SELECT currency, SUM(amount) AS total
            FROM payments_journalentry WHERE transaction_id = txn_id GROUP BY currency
        LOOP
            has_entries := true;
            IF per_currency.total <> 0 THEN
                RAISE EXCEPTION 'journal transaction % is unbalanced: % entries sum to %',
                    txn_id, per_currency.currency, per_currency.total
                    USING ERRCODE = 'check_violation';
            END IF;
        END LOOP;
        IF NOT has_entries THEN
            RAISE EXCEPTION 'journal transaction % has no entries', txn_id
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE CONSTRAINT TRIGGER payments_journalentry_balanced
    AFTER INSERT ON payments_journalentry
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION payments_transaction_balanced()
    """,
    """
    CREATE CONSTRAINT TRIGGER payments_journaltransaction_has_entries
    AFTER INSERT ON payments_journaltransaction
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION payments_transaction_balanced()
    """,
]

POSTGRESQL_UNINSTALL = [
    "DROP TRIGGER IF EXISTS payments_journaltransaction_has_entries"
    " ON payments_journaltransaction",
    "DROP TRIGGER IF EXISTS payments_journalentry_balanced ON payments_journalentry",
    "DROP TRIGGER IF EXISTS payments_journalentry_currency ON payments_journalentry",
    "DROP TRIGGER IF EXISTS payments_ledgeraccount_immutable ON payments_ledgeraccount",
    "DROP TRIGGER IF EXISTS payments_journaltransaction_immutable"
    " ON payments_journaltransaction",
    "DROP TRIGGER IF EXISTS payments_journalentry_immutable ON payments_journalentry",
    "DROP FUNCTION IF EXISTS payments_transaction_balanced()",
    "DROP FUNCTION IF EXISTS payments_entry_currency()",
    "DROP FUNCTION IF EXISTS payments_ledger_immutable()",
]

_STATEMENTS = {
    "sqlite": (SQLITE_INSTALL, SQLITE_UNINSTALL),
    "postgresql": (POSTGRESQL_INSTALL, POSTGRESQL_UNINSTALL),
}


def _run(schema_editor, index):
    vendor = schema_editor.connection.vendor
    if vendor not in _STATEMENTS:
        raise RuntimeError(f"the ledger's triggers are written for SQLite and PostgreSQL, not {vendor}")
    # A bare cursor, not schema_editor.execute(): that passes parameters, and psycopg would
    # then read plpgsql's RAISE '%' placeholders as its own.
    with schema_editor.connection.cursor() as cursor:
        for statement in _STATEMENTS[vendor][index]:
            cursor.execute(statement)


def install(apps, schema_editor):
    _run(schema_editor, 0)


def uninstall(apps, schema_editor):
    _run(schema_editor, 1)


class Migration(migrations.Migration):
    dependencies = [("payments", "0001_initial")]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
