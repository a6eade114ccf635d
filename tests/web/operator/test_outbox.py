"""Outgoing e-mail in the console: failed mail is shown, never as sent, and can be retried."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from agora.core.models import AuditLog
from agora.notifications import delivery, outbox
from agora.notifications.models import EmailDelivery
from tests.factories import UserFactory
from tests.notifications.conftest import mandatory_ping_event, ping_event, ping_templates

__all__ = ["mandatory_ping_event", "ping_event", "ping_templates"]

pytestmark = pytest.mark.django_db


def test_a_failed_mail_is_listed_and_can_be_tried_again(
    op: Client, ping_event: Any, settings: Any
) -> None:
    # Given a mail the relay refused until the last attempt
    settings.EMAIL_BACKEND = "tests.notifications.test_delivery.BrokenBackend"
    settings.AGORA_EMAIL_MAX_ATTEMPTS = 1
    customer = UserFactory(email="zoe@example.test")
    with transaction.atomic():
        outbox.emit("test.ping", subject="booking:1", data={"id": 1}, user_id=customer.pk)
    delivery.run_once()
    row = EmailDelivery.objects.get()
    assert row.status == "failed"

    # When the operator opens outgoing e-mail
    page = op.get("/operator/outbox/")

    # Then it is shown as failed with the relay's error and a retry button
    html = page.content.decode()
    assert page.status_code == 200
    assert "zoe@example.test" in html
    assert "ConnectionRefusedError: relay refused the connection" in html
    assert f'action="/operator/outbox/{row.pk}/retry/"' in html
    assert "Failed for good" in html

    # And retrying puts it back in the queue
    response = op.post(f"/operator/outbox/{row.pk}/retry/")
    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("pending", 0)
    assert AuditLog.objects.filter(action="email.retried", object_id=str(row.pk)).count() == 1
    # ...a second retry of a mail that is no longer failed changes nothing
    op.post(f"/operator/outbox/{row.pk}/retry/")
    assert EmailDelivery.objects.get().status == "pending"
    assert AuditLog.objects.filter(action="email.retried").count() == 1


def test_outgoing_email_is_for_operators_only(customer_client: Client, db: Any) -> None:
    assert customer_client.get("/operator/outbox/").status_code == 403
    assert customer_client.post("/operator/outbox/1/retry/").status_code == 403


def test_an_unknown_status_filter_is_a_clear_error(op: Client) -> None:
    assert op.get("/operator/outbox/?status=lost").status_code in (400, 422)
