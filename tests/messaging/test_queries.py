"""Reading a thread or a list of conversations costs a fixed number of queries, however
many messages, files and conversations there are."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agora.core import clock
from agora.messaging import selectors, services
from tests.factories import BookingFactory, UserFactory
from tests.messaging.helpers import PDF_BYTES, World
from tests.vendors.helpers import multipart

pytestmark = pytest.mark.django_db


def _queries(read: Any) -> int:
    with CaptureQueriesContext(connection) as captured:
        read()
    return len(captured.captured_queries)


def _thread(world: World) -> Any:
    return selectors.conversation_thread(
        actor=world.staff, subject_kind="booking", subject_id=world.booking.pk
    )


def test_a_thread_costs_the_same_with_one_message_or_thirty_with_files(
    world: World, django_assert_max_num_queries: Any
) -> None:
    path = f"/bookings/{world.booking.pk}/messages"
    world.send(world.as_alice, path, "first")
    one = _queries(lambda: _thread(world))

    for minute in range(1, 30):
        with clock.frozen(clock.now() + timedelta(minutes=minute)):
            if minute % 5 == 0:
                multipart(
                    world.as_alice,
                    path,
                    {"text": "file", "files": [SimpleUploadedFile("q.pdf", PDF_BYTES)]},
                )
            else:
                world.send(world.as_staff if minute % 2 else world.as_alice, path, f"m{minute}")

    # participation (staff ids, booking), conversation, page, files, unread count
    with django_assert_max_num_queries(6):
        thread = _thread(world)
    assert len(thread.messages) == 30
    assert sum(len(m.attachments) for m in thread.messages) == 5
    assert _queries(lambda: _thread(world)) == one
    # and through the API, the same again plus the token's look-up and use
    with django_assert_max_num_queries(9):
        assert world.as_staff.get(path).status_code == 200


def _conversations(world: World, count: int, *, first_day: int = 1) -> None:
    """`count` more conversations with the workshop: bookings and orders, all with replies."""
    for number in range(count):
        customer = UserFactory()
        booking = BookingFactory(
            listing=world.service,
            customer=customer,
            start=world.booking.start + timedelta(days=first_day + number),
        )
        services.message_send(
            actor=customer, subject_kind="booking", subject_id=booking.pk, text=f"hi {number}"
        )
        services.message_send(
            actor=world.staff, subject_kind="booking", subject_id=booking.pk, text="hello"
        )


def test_the_lists_cost_the_same_for_two_conversations_or_twenty(
    world: World, django_assert_max_num_queries: Any
) -> None:
    world.send(world.as_alice, f"/orders/{world.order.pk}/messages", "about the order")
    _conversations(world, 1)
    small_vendor = _queries(lambda: selectors.conversations_for(actor=world.owner, as_vendor=True))
    small_customer = _queries(lambda: selectors.conversations_for(actor=world.alice))

    _conversations(world, 19, first_day=2)

    # staff ids, the page with unread counts, bookings' titles, orders' titles
    with django_assert_max_num_queries(4):
        page = selectors.conversations_for(actor=world.owner, as_vendor=True, limit=50)
    assert len(page.items) == 21
    assert {item.unread_count for item in page.items} == {0, 1}
    assert _queries(
        lambda: selectors.conversations_for(actor=world.owner, as_vendor=True, limit=50)
    ) == (small_vendor)
    assert _queries(lambda: selectors.conversations_for(actor=world.alice)) == small_customer
    with django_assert_max_num_queries(3):
        selectors.unread_total(actor=world.owner, as_vendor=True)
    assert selectors.unread_total(actor=world.owner, as_vendor=True) == 1
    assert selectors.unread_total(actor=world.alice) == 0
