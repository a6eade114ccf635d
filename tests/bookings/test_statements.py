"""How many SQL statements a hold costs, sent as the benchmark's clients send it (bearer
token, Idempotency-Key, through the idempotency middleware). The test's own transaction
turns the request's BEGIN/COMMIT into a savepoint pair, so the counts include those.

A contended hot slot is answered 409 almost every time: that path must stay short. On
PostgreSQL it is refused by a plain read before the unit's lock; on SQLite the request is
already the only writer and checks once. Before the lean path the same requests, counted
the same way, cost 20 (409) and 24 (201) statements on SQLite, 21 and 25 on PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.db import connection

from agora.bookings.models import Booking, Resource, ResourceAssignment
from tests.bookings.helpers import Shop, hold, tuesday
from tests.factories import UserFactory
from tests.vendors.helpers import client_for

pytestmark = pytest.mark.django_db

# whole request, savepoints included: (409 on a taken slot, 201). A 201 includes the
# INSERT that schedules the hold-expiry sweep: in production only the first hold of each
# 5-second expiry bucket per process pays it (bookings.timers), here every hold does,
# since the bucket is noted after a commit the test's transaction never makes.
MAX_STATEMENTS = {"sqlite": (11, 16), "postgresql": (8, 20)}


def tables_read(queries: Any) -> list[str]:
    """The main table of each SELECT, in order."""
    tables = []
    for query in queries.captured_queries:
        sql = query["sql"]
        if sql.startswith("SELECT"):
            tables.append(sql.split(" FROM ", 1)[1].split()[0].strip('"'))
    return tables


@pytest.fixture
def customers() -> tuple[Any, Any]:
    return client_for(UserFactory()), client_for(UserFactory())


@pytest.mark.parametrize("with_resource", [False, True], ids=["own-capacity", "shared-bay"])
def test_a_hold_reads_the_listing_once_and_a_refusal_stays_short(
    shop: Shop,
    customers: tuple[Any, Any],
    django_assert_max_num_queries: Any,
    with_resource: bool,
) -> None:
    if with_resource:
        bay = Resource.objects.create(vendor=shop.vendor, name="Bay 1", capacity=1)
        ResourceAssignment.objects.create(listing=shop.listing, resource=bay)
    first, second = customers
    # a first hold creates the capacity unit; the counted ones find it
    assert hold(first, shop.listing, tuesday(9), idempotency_key="warm").status_code == 201
    most_refused, most_held = MAX_STATEMENTS[connection.vendor]

    with django_assert_max_num_queries(most_held) as held:
        response = hold(first, shop.listing, tuesday(10), idempotency_key=str(uuid.uuid4()))
    assert response.status_code == 201, response.content

    with django_assert_max_num_queries(most_refused) as refused:
        response = hold(second, shop.listing, tuesday(10), idempotency_key=str(uuid.uuid4()))
    assert response.status_code == 409
    assert response.json()["code"] == "slot_unavailable"

    # the listing with its vendor, hours, unit and resource: one query, each time
    for queries in (held, refused):
        read = tables_read(queries)
        assert read.count("catalog_listing") == 1, read
        for joined in ("bookings_vendorschedule", "bookings_capacityunit", "vendors_vendor"):
            if connection.vendor == "sqlite" or queries is refused:
                assert joined not in read, read
    # the refusal wrote nothing but its idempotency record
    assert Booking.objects.filter(start=tuesday(10)).count() == 1
    assert not any(
        q["sql"].startswith(('INSERT INTO "bookings', 'UPDATE "bookings'))
        for q in refused.captured_queries
    )
    if connection.vendor == "postgresql":
        # refused before the lock: no SELECT ... FOR UPDATE, no lock_timeout
        assert not any("FOR UPDATE" in q["sql"] for q in refused.captured_queries)
        assert not any("lock_timeout" in q["sql"] for q in refused.captured_queries)
