"""The first messages of a conversation, written at the same moment by both sides, start
one conversation between them, never two (its unique constraint), and every one of them
is kept and announced."""

from __future__ import annotations

import pytest

from agora.messaging import services
from agora.messaging.models import Conversation, Message
from agora.notifications.models import Event
from tests.messaging.helpers import World
from tests.race import run_concurrently

pytestmark = [pytest.mark.race, pytest.mark.django_db(transaction=True)]


def test_simultaneous_first_messages_share_one_conversation(world: World) -> None:
    authors = [world.alice, world.staff, world.owner, world.alice, world.staff, world.owner]

    def write(index: int) -> int:
        sent = services.message_send(
            actor=authors[index],
            subject_kind="booking",
            subject_id=world.booking.pk,
            text=f"message {index}",
        )
        return sent.message.conversation_id

    conversation_ids = run_concurrently(write, threads=len(authors))

    conversation = Conversation.objects.get()
    assert set(conversation_ids) == {conversation.pk}
    assert sorted(Message.objects.values_list("text", flat=True)) == [
        f"message {index}" for index in range(len(authors))
    ]
    assert Event.objects.filter(name="message.created").count() == len(authors)
    assert conversation.last_message_id in set(Message.objects.values_list("pk", flat=True))
