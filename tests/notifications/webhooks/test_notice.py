"""`webhook.disabled` reaches the endpoint's owners — the vendor's owners and managers, or
the operators — in the app and by e-mail, in its own words."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail

from agora.core import clock
from agora.notifications import catalogue, delivery
from agora.notifications.models import Notification
from agora.notifications.webhooks import services
from agora.notifications.webhooks.models import WebhookEndpoint
from tests.notifications.webhooks.conftest import Market, endpoint_for

pytestmark = pytest.mark.django_db

URL = "https://93.184.215.14/agora?source=marketplace&v=2"


def _failing_for_days(endpoint: WebhookEndpoint) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        failing_since=clock.now() - timedelta(days=5, minutes=1), consecutive_failures=24
    )
    assert services.webhook_endpoint_disable_if_failing(
        endpoint_id=endpoint.pk, last_error="HTTP 502"
    )


def test_the_event_type_is_registered_for_managers_and_operators() -> None:
    kind = catalogue.event_type("webhook.disabled")

    assert kind is not None
    assert kind.audiences == ("vendor", "operators")
    assert kind.mandatory is True
    assert kind.vendor_roles == catalogue.MANAGERS


def test_a_vendors_owners_and_managers_hear_of_a_disabled_endpoint(
    market: Market, settings: Any
) -> None:
    endpoint = endpoint_for(vendor=market.vendor, url=URL, events=["*"], actor=market.owner)
    _failing_for_days(endpoint)

    delivery.run_once()

    notices = Notification.objects.filter(name="webhook.disabled").order_by("user_id")
    assert [n.user_id for n in notices] == [market.owner.pk, market.manager.pk]
    assert notices[0].title == f"Webhook endpoint disabled: {URL}"
    assert notices[0].url == f"/vendor/webhooks/{endpoint.pk}/?vendor={market.vendor.pk}"
    mails = {m.to[0]: m for m in mail.outbox}
    assert sorted(mails) == ["mia@example.test", "olly@example.test"]
    message = mails["olly@example.test"]
    assert message.subject == f"Webhook endpoint disabled: {URL}"
    assert message.body.startswith(
        f"The webhook endpoint {URL} of Camden Motors has been disabled: "
        "Every attempt failed for 5 days (last: HTTP 502).\n"
    )
    link = f"{settings.AGORA_BASE_URL}/vendor/webhooks/{endpoint.pk}/?vendor={market.vendor.pk}"
    assert f"Open the endpoint: {link}" in message.body
    assert notices[0].body == (
        f"The webhook endpoint {URL} of Camden Motors has been disabled: "
        "Every attempt failed for 5 days (last: HTTP 502)."
    )
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert "Hi Olly," in html
    assert "https://93.184.215.14/agora?source=marketplace&amp;v=2</code>" in html
    assert "because you manage Camden Motors" in html


def test_the_operators_hear_of_their_disabled_endpoint(market: Market) -> None:
    endpoint = endpoint_for(vendor=None, url=URL, events=["*"], actor=market.operator)
    _failing_for_days(endpoint)

    delivery.run_once()

    [notice] = Notification.objects.filter(name="webhook.disabled")
    assert notice.user_id == market.operator.pk
    assert notice.title == f"Marketplace webhook endpoint disabled: {URL}"
    assert notice.url == f"/operator/webhooks/{endpoint.pk}/"
    [message] = [m for m in mail.outbox if m.to == ["otto@example.test"]]
    assert message.body.startswith(f"The marketplace's webhook endpoint {URL} has been disabled")
    assert "you are an operator of" in message.alternatives[0][0]
