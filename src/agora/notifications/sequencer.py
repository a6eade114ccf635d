"""Stream positions in commit order (PostgreSQL).

Ids come from a sequence when a row is inserted, but transactions commit in any order: a
reader that saw event 11 may see event 10 commit a moment later. Resuming a stream from
"after 11" would then skip 10. So the stream uses `seq`, assigned only to events whose
transaction, and every transaction older than it, has finished (its `xid` is below the
oldest running transaction, `pg_snapshot_xmin`), by one sequencer at a time (an
advisory lock), in one transaction. Every reader sees all of one assignment or none of
it, and each assignment continues the last: `seq` grows in the order readers can see.

Events of the sequencer's own transaction count as finished too: they become visible
together with their positions, in one commit. (The worker's sequencer runs in a
transaction of its own and finds none; a caller that emits and then sequences in one
transaction — a test inside its transaction — gets its own events sequenced.)

On SQLite there is one writer at a time, so `emit` sets `seq` itself.
"""

from __future__ import annotations

from django.db import connection, transaction

from agora.notifications.models import Event

# Arbitrary, but fixed: the advisory lock that admits one sequencer at a time.
_SEQUENCER_LOCK = 0x61676F72  # "agor"
BATCH = 5000


def assign(*, limit: int = BATCH) -> int:
    """Give the next finished events their stream positions; return how many got one."""
    if connection.vendor != "postgresql":
        return 0
    table = connection.ops.quote_name(Event._meta.db_table)
    if not Event.objects.filter(seq__isnull=True).exists():
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_SEQUENCER_LOCK])
        (locked,) = cursor.fetchone()
        if not locked:
            return 0
        # Only our own table's quoted name is interpolated; values are parameters.
        cursor.execute(
            f"""
            WITH ready AS (
                SELECT id, row_number() OVER (ORDER BY id) AS n
                FROM {table}
                WHERE seq IS NULL
                  AND (xid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
                       OR xid = pg_current_xact_id_if_assigned()::text::bigint)
                ORDER BY id
                LIMIT %s
            ), top AS (SELECT COALESCE(MAX(seq), 0) AS last FROM {table})
            UPDATE {table} AS event SET seq = top.last + ready.n
            FROM ready, top
            WHERE event.id = ready.id
            """,  # noqa: S608
            [limit],
        )
        return cursor.rowcount
