"""`GET /api/v1/events` and `/listings/{id}/events` through plain Django (the test client):
the finite replay — every event concerning the caller past Last-Event-ID, then `retry:`."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from agora.api import api
from agora.notifications.live.selectors import stream_position
from tests.conftest import ApiClient, assert_problem
from tests.notifications.live.conftest import World, booking_event, emit, stream_seq
from tests.notifications.live.sse import Frame, parse_frames

# Committed events: on PostgreSQL only a finished transaction gets its stream position.
pytestmark = pytest.mark.django_db(transaction=True)


def replay(client: ApiClient | Client, path: str = "/events", **headers: str) -> list[Frame]:
    if isinstance(client, ApiClient):
        response = client.get(path, headers=headers)
    else:
        response = client.get(f"/api/v1{path}", headers=headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/event-stream; charset=utf-8"
    assert response["Cache-Control"] == "no-store"
    frames, _ = parse_frames(response.content.decode())
    assert frames[0].retry == 2000
    return frames


def events(frames: list[Frame]) -> list[tuple[int | None, str | None, dict[str, Any]]]:
    return [(f.id, f.event, f.json) for f in frames if f.event is not None]


def test_a_customer_gets_their_events_after_last_event_id_in_order_and_nothing_else(
    world: World,
) -> None:
    # Given a position, then events for Alice, for Bob at the rival, and Alice's notice
    start = stream_position()
    paid = booking_event("booking.paid", 11, customer=world.alice, vendor=world.vendor)
    booking_event("booking.paid", 12, customer=world.bob, vendor=world.rival)
    accepted = booking_event(
        "booking.accepted", 11, customer=world.alice, vendor=world.vendor, status="accepted"
    )
    notice = emit(
        "notification.created",
        subject="notification:7",
        data={"id": 7, "event": "booking.accepted", "title": "Booked!", "url": "/account/"},
        user_id=world.alice.pk,
    )
    as_alice = ApiClient(world.token(world.alice))

    # When Alice resumes after that position
    frames = replay(as_alice, **{"Last-Event-ID": str(start)})

    # Then exactly her three events, in stream order, each with its customer-side link and
    # none of the event's other data (no e-mail address, no titles)
    assert events(frames) == [
        (
            stream_seq(paid),
            "booking.updated",
            {"id": 11, "name": "booking.paid", "status": "pending", "url": "/account/bookings/11/"},
        ),
        (
            stream_seq(accepted),
            "booking.updated",
            {
                "id": 11,
                "name": "booking.accepted",
                "status": "accepted",
                "url": "/account/bookings/11/",
            },
        ),
        (
            stream_seq(notice),
            "notification.created",
            {
                "id": 7,
                "name": "notification.created",
                "url": "/account/",
                "event": "booking.accepted",
                "title": "Booked!",
            },
        ),
    ]

    # And resuming after the first gives the rest: nothing earlier, no gap
    later = replay(as_alice, **{"Last-Event-ID": str(stream_seq(paid))})
    assert [frame.id for frame in later if frame.event] == [
        stream_seq(accepted),
        stream_seq(notice),
    ]


def test_without_last_event_id_the_stream_starts_now(world: World) -> None:
    booking_event("booking.paid", 11, customer=world.alice, vendor=world.vendor)
    top = stream_position()

    frames = replay(ApiClient(world.token(world.alice)))

    # Only `retry:` and the position to resume from: a bare id, no event
    assert [(f.id, f.event, f.data) for f in frames] == [(None, None, ""), (top, None, "")]


def test_vendor_staff_get_their_vendors_events_with_the_vendor_side_link(world: World) -> None:
    start = stream_position()
    paid = booking_event("booking.paid", 11, customer=world.alice, vendor=world.vendor)
    rival = booking_event("booking.paid", 12, customer=world.bob, vendor=world.rival)
    since = {"Last-Event-ID": str(start)}

    seen_by_sam = events(replay(ApiClient(world.token(world.sam)), **since))
    seen_by_rita = events(replay(ApiClient(world.token(world.rita)), **since))

    assert seen_by_sam == [
        (
            stream_seq(paid),
            "booking.updated",
            {
                "id": 11,
                "name": "booking.paid",
                "status": "pending",
                "url": f"/vendor/bookings/11/?vendor={world.vendor.pk}",
            },
        )
    ]
    assert [seq for seq, _, _ in seen_by_rita] == [stream_seq(rival)]


def test_managers_only_events_skip_staff_and_operators_see_operator_events(world: World) -> None:
    # order.escalated is for the vendor's owners and managers, and for operators
    start = stream_position()
    escalated = emit(
        "order.escalated",
        subject="vendororder:5",
        data={
            "id": 5,
            "status": "paid",
            "url": "/account/orders/5/",
            "vendor_url": "/vendor/orders/5/",
            "operator_url": "/operator/sales/",
        },
        user_id=world.alice.pk,
        vendor_id=world.vendor.pk,
        operators=True,
    )
    since = {"Last-Event-ID": str(start)}
    seq = stream_seq(escalated)

    def urls(user: Any) -> list[str]:
        return [data["url"] for _, _, data in events(replay(ApiClient(world.token(user)), **since))]

    assert urls(world.ann) == ["/vendor/orders/5/"]
    assert urls(world.sam) == []
    assert urls(world.olga) == ["/operator/sales/"]
    assert urls(world.rita) == []
    assert urls(world.bob) == []
    # The staff member's replay still resumes past what it skipped
    frames = replay(ApiClient(world.token(world.sam)), **since)
    assert frames[-1].id == seq


def test_a_signed_in_session_may_read_its_stream_and_nobody_else_may(world: World) -> None:
    start = stream_position()
    booking_event("booking.paid", 11, customer=world.alice, vendor=world.vendor)
    page = Client()
    page.force_login(world.alice)

    frames = replay(page, **{"Last-Event-ID": str(start)})
    assert [data["id"] for _, _, data in events(frames)] == [11]

    assert_problem(Client().get("/api/v1/events"), 401, "not_authenticated")
    # A bearer token decides alone: a bad one is refused even beside a good session
    refused = page.get("/api/v1/events", headers={"Authorization": "Bearer nonsense"})
    assert_problem(refused, 401, "not_authenticated")


def test_last_event_id_comes_from_the_header_or_the_query_and_must_be_a_number(
    world: World,
) -> None:
    start = stream_position()
    paid = booking_event("booking.paid", 11, customer=world.alice, vendor=world.vendor)
    as_alice = ApiClient(world.token(world.alice))

    by_query = as_alice.get("/events", last_event_id=str(start))
    assert [f.id for f in parse_frames(by_query.content.decode())[0] if f.event] == [
        stream_seq(paid)
    ]
    # the header wins over the query (an EventSource reconnecting keeps its first URL)
    both = as_alice.get(
        f"/events?last_event_id={start}", headers={"Last-Event-ID": str(stream_seq(paid))}
    )
    assert [f for f in parse_frames(both.content.decode())[0] if f.event] == []

    for bad in ("x", "-1", "1.5", "9" * 30):
        response = as_alice.get("/events", headers={"Last-Event-ID": bad})
        assert_problem(response, 422, "validation_error")


def test_an_id_past_the_top_of_the_stream_restarts_from_now(world: World) -> None:
    booking_event("booking.paid", 11, customer=world.alice, vendor=world.vendor)
    top = stream_position()

    frames = replay(ApiClient(world.token(world.alice)), **{"Last-Event-ID": str(top + 1000)})

    assert [(f.id, f.event) for f in frames] == [(None, None), (top, None)]


def test_the_replay_reads_a_fixed_number_of_statements(
    world: World, django_assert_max_num_queries: Any
) -> None:
    start = stream_position()
    for booking_id in range(30):
        booking_event("booking.paid", booking_id, customer=world.alice, vendor=world.vendor)
    as_alice = ApiClient(world.token(world.alice))

    # token, memberships, position, events (+ the session and middleware bookkeeping)
    with django_assert_max_num_queries(6):
        frames = replay(as_alice, **{"Last-Event-ID": str(start)})
    assert len(events(frames)) == 30


def test_a_public_listing_stream_says_only_that_slots_changed(world: World) -> None:
    start = stream_position()
    booking_event("booking.paid", 11, customer=world.alice, vendor=world.vendor)
    last = booking_event(
        "booking.cancelled", 11, customer=world.alice, vendor=world.vendor, status="cancelled"
    )
    booking_event("booking.paid", 12, customer=world.bob, vendor=world.rival)
    anonymous = Client()

    frames = replay(
        anonymous, f"/listings/{world.listing.pk}/events", **{"Last-Event-ID": str(start)}
    )

    # One `slots.changed` stands for both changes at the listing's vendor, with the
    # listing's id and nothing about the booking or its customer
    assert events(frames) == [(stream_seq(last), "slots.changed", {"listing_id": world.listing.pk})]
    rival = replay(
        anonymous,
        f"/listings/{world.rival_listing.pk}/events",
        **{"Last-Event-ID": str(stream_seq(last))},
    )
    assert [data for _, _, data in events(rival)] == [{"listing_id": world.rival_listing.pk}]


def test_a_listing_stream_exists_only_for_public_listings(world: World) -> None:
    world.listing.status = "draft"
    world.listing.save(update_fields=["status"])

    assert_problem(Client().get(f"/api/v1/listings/{world.listing.pk}/events"), 404, "not_found")
    assert_problem(Client().get("/api/v1/listings/987654/events"), 404, "not_found")


def test_the_api_document_describes_both_streams() -> None:
    paths = api.get_openapi_schema(path_prefix="")["paths"]
    for path in ("/events", "/listings/{listing_id}/events"):
        operation = paths[path]["get"]
        assert "text/event-stream" in operation["responses"]["200"]["content"]
        assert {p["name"] for p in operation["parameters"]} >= {"Last-Event-ID", "last_event_id"}
    events_op = paths["/events"]["get"]
    assert events_op["responses"]["401"]["content"].keys() == {"application/problem+json"}
    assert {next(iter(scheme)) for scheme in events_op["security"]} == {"SessionAuth", "BearerAuth"}
