"""The demo's notifications: a few for each demo account, some read and some not, each
leading to a page that person can open; marked dispatched; loaded once."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from agora.accounts.models import User
from agora.demo import accounts
from agora.demo import notifications as demo_notifications
from agora.notifications import delivery
from agora.notifications.models import EmailDelivery, Event, Notification
from tests.factories import VendorFactory

pytestmark = pytest.mark.django_db


def test_demo_notifications_lead_to_real_pages_and_load_once(db: Any) -> None:
    accounts.load()
    owner = User.objects.get(email="vendor@agora.test")
    VendorFactory(name="Camden MOT & Service Centre", owner=owner)
    VendorFactory(name="Kings Cross Auto Glass", status="pending")

    summary = demo_notifications.load()

    by_person = {
        email: list(Notification.objects.filter(user__email=email).order_by("-created_at"))
        for email in ("customer@agora.test", "vendor@agora.test", "operator@agora.test")
    }
    assert all(by_person.values()), summary
    everyone = [n for notices in by_person.values() for n in notices]
    assert any(n.read_at is None for n in everyone)
    assert any(n.read_at is not None for n in everyone)
    assert summary == f"{len(everyone)} demo notifications ({len(everyone)} new)"
    # newest first by id, as the centre lists them, is newest first by time
    for notices in by_person.values():
        assert [n.pk for n in notices] == sorted((n.pk for n in notices), reverse=True)
    for email, notices in by_person.items():
        client = Client()
        client.force_login(User.objects.get(email=email))
        for notification in notices:
            assert client.get(notification.url).status_code == 200, notification.url
    # history, not news: the delivery engine leaves them alone
    assert not Event.objects.filter(dispatched_at__isnull=True).exists()
    delivery.run_once()
    assert not EmailDelivery.objects.exists()

    assert demo_notifications.load() == f"{len(everyone)} demo notifications (0 new)"
    assert Notification.objects.count() == len(everyone)
