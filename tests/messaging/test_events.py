"""Every message announces itself: one `message.created` event in the message's own
transaction, whose delivery reaches the other side (never the author) by mail and in the
app, with the masked preview while the subject is unpaid."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.db import transaction

from agora.core import clock
from agora.messaging import services
from agora.messaging.models import Conversation, Message
from agora.notifications import delivery
from agora.notifications.models import Event, Notification
from tests.messaging.helpers import World, rows

pytestmark = pytest.mark.django_db


def _booking(world: World) -> str:
    return f"/bookings/{world.booking.pk}/messages"


def test_a_message_emits_one_event_for_both_sides(world: World) -> None:
    sent = world.send(world.as_alice, _booking(world), "Call me: 07700 900123")

    event = Event.objects.get(name="message.created")
    conversation = Conversation.objects.get()
    assert (event.subject, event.stream_name) == (f"message:{sent['id']}", "message.created")
    assert (event.user_id, event.vendor_id, event.operators) == (
        world.alice.pk,
        world.vendor.pk,
        False,
    )
    assert event.data == {
        "id": sent["id"],
        "conversation_id": conversation.pk,
        "subject": f"booking:{world.booking.pk}",
        "subject_title": f"Booking #{world.booking.pk}: Full service",
        "vendor_name": "Camden Motors",
        "url": f"/account/messages/booking/{world.booking.pk}/",
        "vendor_url": f"/vendor/messages/booking/{world.booking.pk}/?vendor={world.vendor.pk}",
        "preview": "Call me: [phone number hidden until booking is paid]",
        "preview_truncated": False,
        "author_id": world.alice.pk,
        "author_name": "Alice",
        "author_role": "customer",
        "attachments": 0,
    }


def test_the_preview_is_the_first_140_characters(world: World) -> None:
    world.pay_booking()
    world.send(world.as_staff, _booking(world), "x" * 139 + "yz and more")

    data = Event.objects.get(name="message.created").data
    assert data["preview"] == "x" * 139 + "y"
    assert data["preview_truncated"] is True
    assert (data["author_name"], data["author_role"]) == ("Sam", "vendor")


def test_a_rolled_back_send_emits_nothing(world: World) -> None:
    before = rows()

    emitted: list[int] = []

    def failing_change() -> None:
        with transaction.atomic():
            services.message_send(
                actor=world.alice,
                subject_kind="booking",
                subject_id=world.booking.pk,
                text="this never happened",
            )
            emitted.append(Event.objects.filter(name="message.created").count())
            raise RuntimeError("the caller's change failed")

    with pytest.raises(RuntimeError):
        failing_change()

    assert emitted == [1]  # it was in the transaction, and went with it

    assert rows() == before
    assert not Message.objects.exists()
    delivery.run_once()
    assert mail.outbox == []


def test_the_other_side_hears_of_it_and_the_author_does_not(world: World, settings: Any) -> None:
    # When Alice writes
    world.send(world.as_alice, _booking(world), "Is 07700 900123 ok to text?")
    delivery.run_once()

    # Then the workshop's owner and staff are told, with the vendor portal's link and the
    # masked preview, and Alice is not
    assert sorted(m.to[0] for m in mail.outbox) == sorted([world.owner.email, world.staff.email])
    message = next(m for m in mail.outbox if m.to[0] == world.staff.email)
    assert message.subject == f"New message from Alice: Booking #{world.booking.pk}: Full service"
    link = f"{settings.AGORA_BASE_URL}/vendor/messages/booking/{world.booking.pk}/?vendor="
    assert link in message.body
    assert "[phone number hidden until booking is paid]" in message.body
    assert "07700" not in message.body
    html, _ = message.alternatives[0]
    assert "[phone number hidden until booking is paid]" in html
    notices = {n.user_id: n for n in Notification.objects.all()}
    assert set(notices) == {world.owner.pk, world.staff.pk}
    assert notices[world.staff.pk].url == (
        f"/vendor/messages/booking/{world.booking.pk}/?vendor={world.vendor.pk}"
    )
    assert notices[world.staff.pk].body.startswith("Alice, the customer, wrote about Booking #")

    # When a staff member replies
    mail.outbox.clear()
    with clock.frozen(clock.now() + timedelta(minutes=5)):
        world.send(world.as_staff, _booking(world), "Yes, any time.")
        delivery.run_once()

    # Then Alice and the owner hear of it, the staff member who wrote does not
    assert sorted(m.to[0] for m in mail.outbox) == sorted([world.alice.email, world.owner.email])
    to_alice = next(m for m in mail.outbox if m.to[0] == world.alice.email)
    assert to_alice.subject == (
        f"New message from Camden Motors: Booking #{world.booking.pk}: Full service"
    )
    assert f"{settings.AGORA_BASE_URL}/account/messages/booking/{world.booking.pk}/" in (
        to_alice.body
    )
    assert "Sam of Camden Motors wrote" in to_alice.body
    assert Notification.objects.filter(user=world.alice).get().url == (
        f"/account/messages/booking/{world.booking.pk}/"
    )
