"""The demo step: one endpoint for vendor@agora.test's vendor with a small delivery log;
a second run adds nothing."""

from __future__ import annotations

import pytest

from agora.demo import steps
from agora.demo import webhooks as demo_webhooks
from agora.notifications.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tests.factories import UserFactory, VendorFactory, VendorMembershipFactory
from tests.notifications.webhooks.conftest import emit, page_as

pytestmark = pytest.mark.django_db


def test_the_demo_vendor_gets_an_endpoint_with_a_log_once() -> None:
    owner = UserFactory(email="vendor@agora.test", name="Victor Vendor")
    vendor = VendorFactory(name="Camden MOT & Service Centre")
    VendorMembershipFactory(vendor=vendor, user=owner, role="owner")
    first = emit("booking.paid", vendor=vendor, number=1)
    second = emit("order.paid", vendor=vendor, number=2)
    emit("booking.paid", vendor=VendorFactory(), number=3)

    summary = demo_webhooks.load()

    assert summary == "1 endpoint for Camden MOT & Service Centre with 2 deliveries in its log"
    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.vendor_id, endpoint.url, endpoint.enabled) == (
        vendor.pk,
        "https://hooks.example.test/agora",
        True,
    )
    assert endpoint.secret.startswith("whsec_")
    log = {
        item.event_id: [(a.status_code, a.error) for a in item.attempt_log.order_by("id")]
        for item in WebhookDelivery.objects.all()
    }
    assert log == {first.pk: [(200, "")], second.pk: [(503, "HTTP 503"), (200, "")]}
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"succeeded"}

    assert demo_webhooks.load() == "already there"
    assert WebhookEndpoint.objects.count() == 1
    assert WebhookDelivery.objects.count() == 2
    assert WebhookAttempt.objects.count() == 3

    page = page_as(owner).get(f"/vendor/webhooks/{endpoint.pk}/").content.decode()
    assert "hooks.example.test" in page
    assert page.count("/replay/") == 2


def test_the_step_is_part_of_the_demo() -> None:
    assert ("webhooks", demo_webhooks.load) in steps.STEPS
