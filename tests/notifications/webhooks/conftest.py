"""Webhook test fixtures: real HTTP receivers on loopback, a vendor with its owner,
manager and staff member, a rival vendor, a customer and an operator, and helpers to
emit events and run the sending loop.

Receivers are `http.server` servers in a thread: deliveries cross a real socket, and
the receivers verify signatures with the `standardwebhooks` library, never with ours.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from agora.accounts.models import User
from agora.core import clock
from agora.notifications import outbox
from agora.notifications.models import Event
from agora.notifications.webhooks import delivery, services
from agora.notifications.webhooks.models import WebhookDelivery, WebhookEndpoint
from agora.notifications.webhooks.selectors import WebhookOwner
from agora.vendors.models import Vendor
from tests.conftest import ApiClient, token_for
from tests.factories import UserFactory, VendorFactory, VendorMembershipFactory


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes


@dataclass
class Receiver:
    """Answers each POST with the next of `statuses` (the last one repeats)."""

    statuses: list[int]
    requests: list[Received] = field(default_factory=list)
    response_body: bytes = b"thanks"
    redirect_to: str = ""
    delay_seconds: float = 0.0
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/agora"

    def _next_status(self) -> int:
        index = min(len(self.requests) - 1, len(self.statuses) - 1)
        return self.statuses[index]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            receiver.requests.append(
                Received(
                    path=self.path,
                    headers={name.lower(): value for name, value in self.headers.items()},
                    body=body,
                )
            )
            status = receiver._next_status()
            time.sleep(receiver.delay_seconds)
            self.send_response(status)
            if receiver.redirect_to:
                self.send_header("Location", receiver.redirect_to)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(receiver.response_body)))
            self.end_headers()
            self.wfile.write(receiver.response_body)

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    return Handler


@pytest.fixture(autouse=True)
def _clock_stopped_now() -> Iterator[None]:
    """Agora's clock stopped at the real time: exact assertions on recorded times, while
    webhook timestamps stay within the five minutes a receiver's verify() allows."""
    with clock.frozen(timezone.now()):
        yield


@pytest.fixture
def receiver_factory() -> Iterator[Callable[..., Receiver]]:
    servers: list[ThreadingHTTPServer] = []

    def start(*statuses: int, response_body: bytes = b"thanks") -> Receiver:
        receiver = Receiver(statuses=list(statuses or (200,)), response_body=response_body)
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
        receiver.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return receiver

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def allow_private(settings: Any) -> None:
    """Receivers listen on loopback, which only this setting lets through."""
    settings.AGORA_WEBHOOK_ALLOW_PRIVATE = True


@dataclass
class Market:
    vendor: Vendor
    owner: User
    manager: User
    staff: User
    rival: Vendor
    rival_owner: User
    customer: User
    operator: User


@pytest.fixture
def market(db: Any) -> Market:
    vendor = VendorFactory(name="Camden Motors")
    owner = UserFactory(name="Olly Owner", email="olly@example.test")
    manager = UserFactory(name="Mia Manager", email="mia@example.test")
    staff = UserFactory(name="Sam Staff", email="sam@example.test")
    VendorMembershipFactory(vendor=vendor, user=owner, role="owner")
    VendorMembershipFactory(vendor=vendor, user=manager, role="manager")
    VendorMembershipFactory(vendor=vendor, user=staff, role="staff")
    rival = VendorFactory(name="Rival Garage")
    rival_owner = UserFactory(name="Rita Rival", email="rita@example.test")
    VendorMembershipFactory(vendor=rival, user=rival_owner, role="owner")
    return Market(
        vendor=vendor,
        owner=owner,
        manager=manager,
        staff=staff,
        rival=rival,
        rival_owner=rival_owner,
        customer=UserFactory(name="Cara Customer", email="cara@example.test"),
        operator=UserFactory(name="Otto Operator", email="otto@example.test", is_operator=True),
    )


def api_as(user: User) -> ApiClient:
    return ApiClient(token_for(user))


def page_as(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def endpoint_for(
    *, vendor: Vendor | None, url: str, events: list[str], actor: User
) -> WebhookEndpoint:
    """An endpoint made through the services, as the API would."""
    checked = services.webhook_endpoint_check(url=url, events=events)
    return services.webhook_endpoint_create(
        actor=actor, owner=WebhookOwner(vendor=vendor), checked=checked
    )


def emit(name: str, *, vendor: Vendor | None, number: int = 7, **data: Any) -> Event:
    """An event as a domain service announces it, in its own transaction."""
    with transaction.atomic():
        return outbox.emit(
            name,
            subject=f"booking:{number}",
            data={"id": number, "status": "paid", "url": f"/account/bookings/{number}/", **data},
            vendor_id=vendor.pk if vendor is not None else None,
        )


def fan_out(*events: Event) -> int:
    with transaction.atomic():
        return services.webhook_deliveries_create(events=list(events))


def send_next(item: WebhookDelivery) -> int:
    """Move the clock to the delivery's next attempt and run the sending loop once."""
    item.refresh_from_db()
    wait = item.next_attempt_at - clock.now()
    if wait.total_seconds() > 0:
        clock.advance(wait)
    return delivery.send_due()
