"""No double booking, in the schema (ARCHITECTURE.md invariant 1), on PostgreSQL.

For capacity-1 units, two bookings in a state that takes capacity may not have
overlapping blocked spans (buffers included): an exclusion constraint over
(exclusive_unit_id WITH =, tstzrange(blocked_from, blocked_until) WITH &&), needing
btree_gist for the equality on a bigint. Bookings of units with more seats have
exclusive_unit_id NULL, which never conflicts; their seats are counted under the
unit's row lock. SQLite has no such constraints: there the IMMEDIATE write transaction
serialises bookers and the service checks inside it.

The predicate lists OCCUPYING_STATUSES; a hold past its expiry is still `held` here, so
the booking service turns overlapping stale holds into `expired` inside its transaction
before inserting.
"""

from django.db import migrations

CONSTRAINT = """
ALTER TABLE bookings_booking ADD CONSTRAINT booking_no_overlap EXCLUDE USING gist (
    exclusive_unit_id WITH =,
    tstzrange(blocked_from, blocked_until, '[)') WITH &&
) WHERE (status IN ('held', 'pending', 'accepted', 'in_progress'))
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    schema_editor.execute(CONSTRAINT)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("ALTER TABLE bookings_booking DROP CONSTRAINT IF EXISTS booking_no_overlap")


class Migration(migrations.Migration):
    dependencies = [("bookings", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
