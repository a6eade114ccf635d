"""Fixtures of the notification centre tests: a customer, a vendor's owner, an operator and
a bystander, signed-in page clients and API clients, and `notify` to give someone a
notification as the delivery engine would (an outbox event and its in-app notice)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from agora.accounts.models import User
from agora.core import clock
from agora.notifications import outbox
from agora.notifications.models import Notification
from agora.vendors.models import Vendor
from tests.conftest import ApiClient, token_for
from tests.factories import UserFactory, VendorFactory

NOW = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


@dataclass
class People:
    customer: User
    owner: User
    vendor: Vendor
    operator: User
    bystander: User


@pytest.fixture(autouse=True)
def _no_static_finders(settings: Any) -> None:
    # Pages link static files but these tests never fetch them: skip WhiteNoise's walk.
    settings.WHITENOISE_USE_FINDERS = False


@pytest.fixture
def now() -> Iterator[datetime]:
    with clock.frozen(NOW):
        yield NOW


@pytest.fixture
def people(db: Any, now: datetime) -> People:
    owner = UserFactory(name="Wendy Workshop", email="wendy@example.test")
    return People(
        customer=UserFactory(name="Alice Buyer", email="alice@example.test"),
        owner=owner,
        vendor=VendorFactory(name="Camden Motors", owner=owner),
        operator=UserFactory(name="Olivia Operator", is_operator=True, is_staff=True),
        bystander=UserFactory(name="Bob Buyer", email="bob@example.test"),
    )


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api_as(user: User) -> ApiClient:
    return ApiClient(token_for(user))


def notify(
    user: User,
    title: str = "Your booking is accepted",
    *,
    url: str = "/account/bookings/7/",
    name: str = "booking.accepted",
    body: str = "",
    read: bool = False,
    minutes_ago: int = 0,
) -> Notification:
    """A notification for `user`, written as the delivery engine writes one: an outbox event
    (in its own transaction) and the person's notice of it."""
    at = clock.now() - timedelta(minutes=minutes_ago)
    with transaction.atomic():
        event = outbox.emit(name, subject="booking:7", data={"id": 7, "url": url}, user_id=user.pk)
    return Notification.objects.create(
        user=user,
        event=event,
        name=name,
        title=title,
        body=body,
        url=url,
        created_at=at,
        read_at=at if read else None,
    )
