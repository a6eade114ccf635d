"""PostgreSQL: events committed out of insert order still stream in one gap-free order.

Transaction 1 inserts event A and stays open; transaction 2 inserts B (a higher id) and
commits first. A stream keyed on ids would send B, then — when A commits — either skip A
(a reader resuming "after B") or send it out of order. Keyed on `seq`, B waits until A's
transaction has finished, then both are placed, A before B, and sent in that order.
"""

from __future__ import annotations

import asyncio
import threading

import pytest
from django.db import connection, connections, transaction
from django.test import Client

from agora.notifications import outbox
from agora.notifications.models import Event
from tests.conftest import token_for
from tests.notifications.live.conftest import AsgiStream, World, run_async

pytestmark = pytest.mark.django_db(transaction=True)


def emit_for(world: World, booking_id: int) -> Event:
    return outbox.emit(
        "booking.paid",
        subject=f"booking:{booking_id}",
        data={"id": booking_id, "status": "pending", "url": f"/account/bookings/{booking_id}/"},
        user_id=world.alice.pk,
        vendor_id=world.vendor.pk,
    )


def test_a_later_insert_committed_first_waits_for_the_earlier_one(world: World) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("commit order differs from insert order only on PostgreSQL")
    token = token_for(world.alice)
    inserted, release = threading.Event(), threading.Event()
    ids: dict[str, int] = {}

    def slow_transaction() -> None:
        try:
            with transaction.atomic():
                ids["a"] = emit_for(world, 1).pk
                inserted.set()
                assert release.wait(10)
        finally:
            connections.close_all()

    def quick_transaction() -> None:
        try:
            with transaction.atomic():
                ids["b"] = emit_for(world, 2).pk
        finally:
            connections.close_all()

    def seqs() -> dict[str, int | None]:
        try:
            found = dict(Event.objects.filter(pk__in=ids.values()).values_list("pk", "seq"))
            return {name: found.get(pk) for name, pk in ids.items()}
        finally:
            connections.close_all()

    async def scenario() -> None:
        stream = AsgiStream("/api/v1/events", {"Authorization": f"Bearer {token}"})
        await stream.start().opened()
        slow = threading.Thread(target=slow_transaction)
        slow.start()
        assert await asyncio.to_thread(inserted.wait, 10)
        await asyncio.to_thread(quick_transaction)
        assert ids["a"] < ids["b"]

        # B is committed but not placed while A's transaction runs (A itself is not even
        # visible yet): nothing is streamed
        await asyncio.sleep(0.8)
        assert await asyncio.to_thread(seqs) == {"a": None, "b": None}
        assert stream.events() == []

        release.set()
        await asyncio.to_thread(slow.join)
        await stream.until(lambda s: len(s.events()) == 2, timeout=3)

        placed = await asyncio.to_thread(seqs)
        assert placed["a"] is not None
        assert placed["b"] == placed["a"] + 1
        assert [(f.id, f.json["id"]) for f in stream.events()] == [
            (placed["a"], 1),
            (placed["b"], 2),
        ]
        await stream.disconnect()

    run_async(scenario)

    # and a reader resuming after A gets B, after B nothing
    page = Client()
    page.force_login(world.alice)
    placed = seqs()
    after_a = page.get("/api/v1/events", headers={"Last-Event-ID": str(placed["a"])})
    assert f"id: {placed['b']}\nevent: booking.updated" in after_a.content.decode()
    after_b = page.get("/api/v1/events", headers={"Last-Event-ID": str(placed["b"])})
    assert "event:" not in after_b.content.decode()
