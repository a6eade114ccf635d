"""`payments_post(...)`: the happy path of `ledger.post` as one PostgreSQL function.

A posting is one statement either way (ledger.py), but a plain statement is parsed and
planned on every call, which costs about as much as running it; PL/pgSQL keeps the plans
of its statements for the connection's lifetime. The function does exactly what the
statement in ledger.py does on SQLite: refuse a reference another owner already has
entries under, insert the journal transaction unless its idempotency key or reversal
exists (ON CONFLICT DO NOTHING, which waits for a concurrent insert of the same key to
commit or roll back), and insert one entry per line whose account exists, in line order.
It returns the new transaction's id (NULL when nothing was inserted) and how many entries
it wrote; `ledger.post` handles the rest (new accounts, replays, refusals).

The ledger's triggers and constraints (migration 0002) apply unchanged. No table is
altered, so SQLite's triggers are untouched (nothing runs there).
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION payments_post(
    p_kind text,
    p_reference text,
    p_idempotency_key text,
    p_fingerprint text,
    p_memo text,
    p_created_at timestamptz,
    p_reverses_id bigint,
    p_sole_owner_type text,
    p_sole_owner_id bigint,
    p_owner_types text[],
    p_owner_ids bigint[],
    p_purposes text[],
    p_currencies text[],
    p_amounts bigint[],
    OUT new_transaction_id bigint,
    OUT entries_written integer
) LANGUAGE plpgsql AS $$
BEGIN
    entries_written := 0;
    IF p_sole_owner_type IS NOT NULL AND EXISTS (
        SELECT 1 FROM payments_journaltransaction earlier
        WHERE earlier.reference = p_reference AND EXISTS (
            SELECT 1 FROM payments_journalentry entry
            JOIN payments_ledgeraccount owned ON owned.id = entry.account_id
            WHERE entry.transaction_id = earlier.id
              AND owned.owner_type = p_sole_owner_type AND owned.owner_id <> p_sole_owner_id
        )
    ) THEN
        RETURN;
    END IF;
    INSERT INTO payments_journaltransaction
        (kind, reference, idempotency_key, fingerprint, memo, created_at, reverses_id)
    VALUES (p_kind, p_reference, p_idempotency_key, p_fingerprint, p_memo, p_created_at,
            p_reverses_id)
    ON CONFLICT DO NOTHING
    RETURNING id INTO new_transaction_id;
    IF new_transaction_id IS NULL THEN
        RETURN;
    END IF;
    INSERT INTO payments_journalentry (transaction_id, account_id, amount, currency)
    SELECT new_transaction_id, account.id, line.amount, account.currency
    FROM unnest(p_owner_types, p_owner_ids, p_purposes, p_currencies, p_amounts)
         WITH ORDINALITY AS line(owner_type, owner_id, purpose, currency, amount, ord)
    JOIN payments_ledgeraccount account
      ON account.owner_type = line.owner_type AND account.owner_id = line.owner_id
     AND account.purpose = line.purpose AND account.currency = line.currency
    ORDER BY line.ord;
    GET DIAGNOSTICS entries_written = ROW_COUNT;
END
$$
"""

DROP = (
    "DROP FUNCTION IF EXISTS payments_post(text, text, text, text, text, timestamptz, bigint,"
    " text, bigint, text[], bigint[], text[], text[], bigint[])"
)


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # A bare cursor: schema_editor.execute() would pass parameters, and psycopg would
        # read the function body's characters as placeholders.
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(CREATE)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("payments", "0005_disputes")]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
