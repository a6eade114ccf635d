"""Conversations through the API: writing and reading both ways, masking of contact details
until payment, read state, operators, refusals of bad input and the lists."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from agora.core import clock
from agora.messaging.models import Conversation, Message
from tests.conftest import assert_problem
from tests.messaging.helpers import World, rows

pytestmark = pytest.mark.django_db

PHONE = "[phone number hidden until booking is paid]"
EMAIL = "[e-mail address hidden until booking is paid]"


def _booking(world: World) -> str:
    return f"/bookings/{world.booking.pk}/messages"


def _order(world: World) -> str:
    return f"/orders/{world.order.pk}/messages"


def _texts(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["text"] for item in response.json()["items"]]


def test_the_customer_writes_and_the_vendor_reads_and_replies(world: World) -> None:
    # When Alice writes about her booking
    response = world.as_alice.post(_booking(world), {"text": "Is parking <b>free</b>?"})

    # Then the message is hers, HTML removed
    assert response.status_code == 201, response.content
    sent = response.json()
    assert sent == {
        "id": sent["id"],
        "author": {"name": "Alice", "role": "customer"},
        "mine": True,
        "text": "Is parking free?",
        "created_at": "2026-01-05T08:00:00Z",
        "contact_hidden": False,
        "attachments": [],
        "notice": None,
    }
    conversation = Conversation.objects.get()
    assert (conversation.subject_kind, conversation.subject_id) == ("booking", world.booking.pk)
    assert (conversation.vendor_id, conversation.customer_id) == (world.vendor.pk, world.alice.pk)

    # and the workshop's staff read it, unread for them
    thread = world.as_staff.get(_booking(world)).json()
    assert thread == {
        "items": [
            {
                "id": sent["id"],
                "author": {"name": "Alice", "role": "customer"},
                "mine": False,
                "text": "Is parking free?",
                "created_at": "2026-01-05T08:00:00Z",
                "contact_hidden": False,
                "attachments": [],
            }
        ],
        "next_cursor": None,
        "conversation_id": conversation.pk,
        "subject": {
            "kind": "booking",
            "id": world.booking.pk,
            "title": f"Booking #{world.booking.pk}: Full service",
            "vendor_id": world.vendor.pk,
            "vendor_name": "Camden Motors",
            "contact_allowed": False,
        },
        "role": "vendor",
        "unread_count": 1,
    }

    # When the owner replies a minute later
    with clock.frozen(clock.now() + timedelta(minutes=1)):
        reply = world.send(world.as_owner, _booking(world), "Yes, two spaces at the back.")

    # Then Alice reads both, newest first, the reply unread for her
    thread = world.as_alice.get(_booking(world)).json()
    assert [(m["author"], m["text"], m["mine"]) for m in thread["items"]] == [
        ({"name": "Wendy", "role": "vendor"}, "Yes, two spaces at the back.", False),
        ({"name": "Alice", "role": "customer"}, "Is parking free?", True),
    ]
    assert thread["unread_count"] == 1
    assert reply["author"] == {"name": "Wendy", "role": "vendor"}
    # and the reply read the customer's message for the whole staff
    assert world.as_staff.get(_booking(world)).json()["unread_count"] == 0


def test_an_order_has_its_conversation_with_its_vendor(world: World) -> None:
    world.send(world.as_alice, _order(world), "Do these fit a 2014 Golf?")
    world.send(world.as_staff, _order(world), "They do.")

    assert _texts(world.as_alice.get(_order(world))) == ["They do.", "Do these fit a 2014 Golf?"]
    conversation = Conversation.objects.get()
    assert (conversation.subject_kind, conversation.subject_id) == ("order", world.order.pk)
    assert conversation.subject == f"order:{world.order.pk}"


# --- contact details ---------------------------------------------------------------------------


def test_contact_details_are_hidden_from_the_other_side_until_the_booking_is_paid(
    world: World,
) -> None:
    # When Alice writes her number and address before paying
    sent = world.send(
        world.as_alice, _booking(world), "Text me on 07700 900123 or alice at example dot com"
    )

    # Then she keeps her words and is told the vendor cannot see them yet
    assert sent["text"] == "Text me on 07700 900123 or alice at example dot com"
    assert sent["contact_hidden"] is True
    assert sent["notice"] == (
        "Phone numbers and e-mail addresses in your message are hidden from the vendor until "
        "the booking is paid."
    )
    # and what was written is stored as written
    stored = Message.objects.get()
    assert stored.text == "Text me on 07700 900123 or alice at example dot com"
    assert stored.masked_text == f"Text me on {PHONE} or {EMAIL}"
    # while the vendor reads it masked
    staff_view = world.as_staff.get(_booking(world)).json()["items"][0]
    assert staff_view["text"] == f"Text me on {PHONE} or {EMAIL}"
    assert staff_view["contact_hidden"] is True

    # and the vendor's own number is hidden from Alice the same way
    world.send(world.as_staff, _booking(world), "Or call us: (020) 7946-0958")
    assert _texts(world.as_alice.get(_booking(world)))[0] == f"Or call us: {PHONE}"

    # When Alice pays
    world.pay_booking()
    assert world.booking.status == "pending"

    # Then both sides read everything as it was written, earlier messages included
    assert _texts(world.as_staff.get(_booking(world))) == [
        "Or call us: (020) 7946-0958",
        "Text me on 07700 900123 or alice at example dot com",
    ]
    assert _texts(world.as_alice.get(_booking(world)))[0] == "Or call us: (020) 7946-0958"
    # and a new message with a number is not hidden at all
    after = world.send(world.as_alice, _booking(world), "New number: +44 7700 900999")
    assert (after["contact_hidden"], after["notice"]) == (False, None)
    assert _texts(world.as_staff.get(_booking(world)))[0] == "New number: +44 7700 900999"


def test_contact_details_in_an_order_show_once_it_is_paid(world: World) -> None:
    world.send(world.as_alice, _order(world), "My e-mail: alice@example.com")
    assert _texts(world.as_owner.get(_order(world))) == [
        "My e-mail: [e-mail address hidden until order is paid]"
    ]

    world.pay_order()

    assert world.order.status == "paid"
    assert _texts(world.as_owner.get(_order(world))) == ["My e-mail: alice@example.com"]


def test_a_cancelled_booking_hides_contact_details_again(world: World) -> None:
    world.pay_booking()
    world.send(world.as_alice, _booking(world), "07700 900123")
    assert _texts(world.as_staff.get(_booking(world))) == ["07700 900123"]

    response = world.as_alice.post(f"/bookings/{world.booking.pk}/cancel", {"reason": "no"})
    assert response.status_code == 200, response.content

    assert _texts(world.as_staff.get(_booking(world))) == [PHONE]


# --- read state --------------------------------------------------------------------------------


def test_marking_read_clears_the_unread_count_of_that_side_only(world: World) -> None:
    world.send(world.as_alice, _booking(world), "one")
    with clock.frozen(clock.now() + timedelta(minutes=1)):
        world.send(world.as_alice, _booking(world), "two")
    assert world.as_owner.get(_booking(world)).json()["unread_count"] == 2

    with clock.frozen(clock.now() + timedelta(minutes=2)):
        response = world.as_staff.post(f"/bookings/{world.booking.pk}/messages/read")

    assert response.status_code == 200, response.content
    assert response.json() == {"conversation_id": Conversation.objects.get().pk, "unread_count": 0}
    # the whole staff read it, the owner included
    assert world.as_owner.get(_booking(world)).json()["unread_count"] == 0
    assert world.as_alice.get(_booking(world)).json()["unread_count"] == 0
    # a later message is unread again
    with clock.frozen(clock.now() + timedelta(minutes=3)):
        world.send(world.as_alice, _booking(world), "three")
    assert world.as_owner.get(_booking(world)).json()["unread_count"] == 1


def test_marking_an_empty_conversation_read_writes_nothing(world: World) -> None:
    before = rows()

    response = world.as_alice.post(f"/orders/{world.order.pk}/messages/read")

    assert response.json() == {"conversation_id": None, "unread_count": 0}
    assert rows() == before


# --- operators ---------------------------------------------------------------------------------


def test_an_operator_reads_every_conversation_unmasked_and_writes_as_the_operator(
    world: World,
) -> None:
    world.send(world.as_alice, _booking(world), "My number is 07700 900123")

    # An operator reads what was written (for disputes), leaving the read state alone
    thread = world.as_operator.get(_booking(world)).json()
    assert thread["role"] == "operator"
    assert [(m["text"], m["contact_hidden"]) for m in thread["items"]] == [
        ("My number is 07700 900123", True)
    ]
    assert thread["unread_count"] == 0
    before = rows()
    world.as_operator.post(f"/bookings/{world.booking.pk}/messages/read")
    assert rows() == before

    # and writes as the operator, unmasked, unread for both sides
    with clock.frozen(clock.now() + timedelta(minutes=1)):
        sent = world.send(world.as_operator, _booking(world), "Mediation: call 0800 123 4567")
    assert sent["author"] == {"name": "Olivia", "role": "operator"}
    for client in (world.as_alice, world.as_staff):
        thread = client.get(_booking(world)).json()
        assert thread["items"][0]["text"] == "Mediation: call 0800 123 4567"
    assert world.as_alice.get(_booking(world)).json()["unread_count"] == 1
    assert world.as_staff.get(_booking(world)).json()["unread_count"] == 2


def test_a_staff_member_who_is_also_the_customer_writes_as_the_customer(world: World) -> None:
    # The API leaves the side to the subject: its customer first
    world.booking.customer = world.staff
    world.booking.save(update_fields=["customer"])

    sent = world.send(world.as_staff, _booking(world), "booking at my own workshop")

    assert sent["author"]["role"] == "customer"


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"text": ""}, ["body", "text"]),
        ({"text": "   <p> </p> "}, ["body", "text"]),
        ({"text": "x" * 5001}, ["body", "text"]),
        ({"text": "x" * 20_001}, ["body", "payload", "text"]),
        ({"text": 5}, ["body", "payload", "text"]),
        ({"text": "hi", "status": "x"}, ["body", "payload", "status"]),
        ({}, ["body", "text"]),
    ],
)
def test_bad_text_is_refused_and_writes_nothing(
    world: World, body: dict[str, Any], loc: list[str]
) -> None:
    before = rows()

    response = world.as_alice.post(_booking(world), body)

    problem = assert_problem(response, 422, "validation_error")
    assert [error["loc"] for error in problem["errors"]] == [loc]
    assert rows() == before


def test_a_body_that_is_not_json_is_refused(world: World) -> None:
    response = world.as_alice.post(_booking(world), "{not json", raw=True)

    assert_problem(response, 400, "validation_error")


def test_another_vendors_id_names_no_conversation(world: World) -> None:
    before = rows()

    response = world.as_alice.post(_booking(world), {"text": "hi", "vendor_id": world.rival.pk})

    assert_problem(response, 404, "not_found")
    assert rows() == before


def test_a_signed_out_caller_is_asked_to_authenticate(world: World) -> None:
    from tests.conftest import ApiClient

    assert_problem(ApiClient().get(_booking(world)), 401, "not_authenticated")
    assert_problem(ApiClient().post(_booking(world), {"text": "hi"}), 401, "not_authenticated")


# --- pages of a thread and the lists -----------------------------------------------------------


def test_a_long_thread_is_read_page_by_page(world: World) -> None:
    for minute in range(7):
        with clock.frozen(clock.now() + timedelta(minutes=minute)):
            world.send(world.as_alice, _booking(world), f"message {minute}")

    first = world.as_staff.get(_booking(world), limit=3).json()
    second = world.as_staff.get(_booking(world), limit=3, cursor=first["next_cursor"]).json()
    third = world.as_staff.get(_booking(world), limit=3, cursor=second["next_cursor"]).json()

    assert [m["text"] for m in first["items"]] == ["message 6", "message 5", "message 4"]
    assert [m["text"] for m in second["items"]] == ["message 3", "message 2", "message 1"]
    assert [m["text"] for m in third["items"]] == ["message 0"]
    assert third["next_cursor"] is None


def test_a_forged_cursor_is_refused(world: World) -> None:
    world.send(world.as_alice, _booking(world), "hi")

    assert_problem(world.as_alice.get(_booking(world), cursor="forged"), 422, "validation_error")


def test_the_lists_show_each_side_its_conversations_with_unread_counts(world: World) -> None:
    world.send(world.as_alice, _booking(world), "About the booking: 07700 900123")
    with clock.frozen(clock.now() + timedelta(minutes=1)):
        world.send(world.as_alice, _order(world), "About the order")
    with clock.frozen(clock.now() + timedelta(minutes=2)):
        world.send(world.as_staff, _order(world), "Noted")
    with clock.frozen(clock.now() + timedelta(minutes=3)):
        world.send(world.as_carol, f"/bookings/{world.carols_booking.pk}/messages", "Carol here")

    mine = world.as_alice.get("/conversations").json()
    theirs = world.as_owner.get("/conversations", **{"as": "vendor"}).json()

    assert [(c["subject"], c["unread_count"], c["preview"], c["url"]) for c in mine["items"]] == [
        (f"order:{world.order.pk}", 1, "Noted", f"/account/messages/order/{world.order.pk}/"),
        (
            f"booking:{world.booking.pk}",
            0,
            "About the booking: 07700 900123",
            f"/account/messages/booking/{world.booking.pk}/",
        ),
    ]
    assert [(c["subject"], c["unread_count"], c["preview"]) for c in theirs["items"]] == [
        (f"booking:{world.carols_booking.pk}", 1, "Carol here"),
        (f"order:{world.order.pk}", 0, "Noted"),
        (f"booking:{world.booking.pk}", 1, f"About the booking: {PHONE}"),
    ]
    assert theirs["items"][0]["url"] == (
        f"/vendor/messages/booking/{world.carols_booking.pk}/?vendor={world.vendor.pk}"
    )
    # as a customer the staff have none, and nobody else sees any
    assert world.as_owner.get("/conversations").json()["items"] == []
    assert world.as_bob.get("/conversations").json()["items"] == []
    assert world.as_rival.get("/conversations", **{"as": "vendor"}).json()["items"] == []
    # a vendor the caller does not staff is a 404
    response = world.as_rival.get(
        "/conversations", **{"as": "vendor", "vendor_id": world.vendor.pk}
    )
    assert_problem(response, 404, "not_found")


def test_the_conversation_list_pages_by_latest_message(world: World) -> None:
    world.send(world.as_alice, _booking(world), "first")
    with clock.frozen(clock.now() + timedelta(minutes=1)):
        world.send(world.as_alice, _order(world), "second")
    with clock.frozen(clock.now() + timedelta(minutes=2)):
        world.send(world.as_alice, _booking(world), "third")

    first = world.as_alice.get("/conversations", limit=1).json()
    second = world.as_alice.get("/conversations", limit=1, cursor=first["next_cursor"]).json()

    assert [c["preview"] for c in first["items"]] == ["third"]
    assert [c["preview"] for c in second["items"]] == ["second"]
    assert second["next_cursor"] is None


def test_the_routes_are_in_the_openapi_document(world: World) -> None:
    from agora.api import api

    paths = api.get_openapi_schema(path_prefix="")["paths"]

    post = paths["/bookings/{booking_id}/messages"]["post"]
    assert set(post["requestBody"]["content"]) == {"application/json", "multipart/form-data"}
    assert {"get", "post"} <= set(paths["/orders/{order_id}/messages"])
    assert "get" in paths["/messages/{message_id}/attachments/{attachment_id}"]
    assert "get" in paths["/conversations"]


def test_a_retried_post_with_its_idempotency_key_writes_once(world: World) -> None:
    first = world.as_alice.post(_booking(world), {"text": "once"}, idempotency_key="msg-1")
    again = world.as_alice.post(_booking(world), {"text": "once"}, idempotency_key="msg-1")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert list(Message.objects.values_list("text", flat=True)) == ["once"]


def test_a_multipart_post_without_files_is_a_plain_message(world: World) -> None:
    from tests.vendors.helpers import multipart

    response = multipart(world.as_alice, _booking(world), {"text": "from a form", "vendor_id": ""})

    assert response.status_code == 201, response.content
    assert response.json()["text"] == "from a form"
