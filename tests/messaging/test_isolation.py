"""Tenant isolation of every messaging endpoint (ARCHITECTURE.md invariant 5).

A conversation is its customer's and its vendor's staff's (and readable by operators).
Another customer, another vendor's staff and another customer of the same vendor get 404
from every endpoint — reading, writing, marking read, downloading a file — exactly as for
a booking or order that does not exist, and nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from agora.api import api
from agora.messaging.models import Attachment
from tests.conftest import ApiClient, assert_problem
from tests.messaging.helpers import PDF_BYTES, World, rows
from tests.vendors.helpers import body_of, multipart

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Endpoint:
    method: str
    route: str
    path: Callable[[World, Attachment], str]
    multipart: bool = False

    @property
    def name(self) -> str:
        return f"{self.method} {self.route}"


def _file(attachment: Attachment) -> str:
    return f"/messages/{attachment.message_id}/attachments/{attachment.pk}"


ENDPOINTS = [
    Endpoint(
        "GET", "/bookings/{booking_id}/messages", lambda w, a: f"/bookings/{w.booking.pk}/messages"
    ),
    Endpoint(
        "POST", "/bookings/{booking_id}/messages", lambda w, a: f"/bookings/{w.booking.pk}/messages"
    ),
    Endpoint(
        "POST",
        "/bookings/{booking_id}/messages",
        lambda w, a: f"/bookings/{w.booking.pk}/messages",
        multipart=True,
    ),
    Endpoint(
        "POST",
        "/bookings/{booking_id}/messages/read",
        lambda w, a: f"/bookings/{w.booking.pk}/messages/read",
    ),
    Endpoint("GET", "/orders/{order_id}/messages", lambda w, a: f"/orders/{w.order.pk}/messages"),
    Endpoint("POST", "/orders/{order_id}/messages", lambda w, a: f"/orders/{w.order.pk}/messages"),
    Endpoint(
        "POST",
        "/orders/{order_id}/messages/read",
        lambda w, a: f"/orders/{w.order.pk}/messages/read",
    ),
    Endpoint("GET", "/messages/{message_id}/attachments/{attachment_id}", lambda w, a: _file(a)),
]

OUTSIDERS = {
    "another customer": lambda w: w.as_bob,
    "another vendor's owner": lambda w: w.as_rival,
    "a customer of the same vendor": lambda w: w.as_carol,
}


def _conversation_with_a_file(world: World) -> Attachment:
    """Alice's booking and order conversations, the booking's with a PDF attached."""
    response = multipart(
        world.as_alice,
        f"/bookings/{world.booking.pk}/messages",
        {"text": "the quote", "files": [SimpleUploadedFile("quote.pdf", PDF_BYTES)]},
    )
    assert response.status_code == 201, response.content
    world.send(world.as_alice, f"/orders/{world.order.pk}/messages", "about the order")
    return Attachment.objects.get()


def _call(client: ApiClient, endpoint: Endpoint, path: str) -> object:
    if endpoint.method == "GET":
        return client.get(path)
    if endpoint.multipart:
        return multipart(
            client, path, {"text": "sneaky", "files": [SimpleUploadedFile("x.pdf", PDF_BYTES)]}
        )
    return client.post(path, {"text": "sneaky"})


@pytest.mark.parametrize("outsider", list(OUTSIDERS))
@pytest.mark.parametrize(
    "endpoint", ENDPOINTS, ids=lambda e: e.name + (" multipart" if e.multipart else "")
)
def test_outsiders_get_404_and_change_nothing(
    world: World, media_root: object, endpoint: Endpoint, outsider: str
) -> None:
    attachment = _conversation_with_a_file(world)
    before = rows()
    files_before = sorted(p.name for p in media_root.rglob("*") if p.is_file())  # type: ignore[attr-defined]

    response = _call(OUTSIDERS[outsider](world), endpoint, endpoint.path(world, attachment))

    assert_problem(response, 404, "not_found")
    assert rows() == before
    assert sorted(p.name for p in media_root.rglob("*") if p.is_file()) == files_before  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "endpoint", ENDPOINTS, ids=lambda e: e.name + (" multipart" if e.multipart else "")
)
def test_the_customer_and_the_vendors_staff_are_let_in(world: World, endpoint: Endpoint) -> None:
    attachment = _conversation_with_a_file(world)
    path = endpoint.path(world, attachment)

    for client in (world.as_alice, world.as_staff, world.as_owner):
        response = _call(client, endpoint, path)
        assert response.status_code in (200, 201), response.content  # type: ignore[attr-defined]
        if endpoint.method == "GET" and "attachments" in endpoint.route:
            assert body_of(response) == PDF_BYTES


def test_an_operator_may_read_and_download_but_never_as_a_side(world: World) -> None:
    attachment = _conversation_with_a_file(world)

    assert world.as_operator.get(f"/bookings/{world.booking.pk}/messages").status_code == 200
    response = world.as_operator.get(_file(attachment))
    assert response.status_code == 200
    assert body_of(response) == PDF_BYTES


def test_a_file_is_found_only_under_its_own_message(world: World) -> None:
    attachment = _conversation_with_a_file(world)
    other = world.send(world.as_alice, f"/bookings/{world.booking.pk}/messages", "another")

    response = world.as_alice.get(f"/messages/{other['id']}/attachments/{attachment.pk}")

    assert_problem(response, 404, "not_found")


def test_the_staff_of_a_vendor_lose_the_conversation_when_they_leave(world: World) -> None:
    attachment = _conversation_with_a_file(world)
    world.staff.vendor_memberships.all().delete()

    assert_problem(world.as_staff.get(f"/bookings/{world.booking.pk}/messages"), 404, "not_found")
    assert_problem(world.as_staff.get(_file(attachment)), 404, "not_found")


def test_every_messaging_route_is_covered() -> None:
    schema = api.get_openapi_schema(path_prefix="")
    routes = {
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if operation["operationId"].startswith("agora_messaging_api_")
    }
    assert routes == {endpoint.name for endpoint in ENDPOINTS} | {"GET /conversations"}
