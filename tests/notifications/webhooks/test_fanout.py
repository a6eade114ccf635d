"""From events to deliveries: a vendor's endpoints get that vendor's subscribed events,
the operators' endpoints every subscribed event, disabled endpoints nothing; twice is once;
the number of queries does not grow with the batch."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from agora.core import clock
from agora.notifications.webhooks.models import WebhookDelivery, WebhookEndpoint
from agora.notifications.webhooks.services import webhook_deliveries_create
from tests.notifications.webhooks.conftest import Market, emit, endpoint_for, fan_out

pytestmark = pytest.mark.django_db

PUBLIC = "https://93.184.215.14/agora"


def _pairs() -> set[tuple[int, int]]:
    return set(WebhookDelivery.objects.values_list("endpoint_id", "event_id"))


def test_each_endpoint_gets_its_vendors_subscribed_events_only(market: Market) -> None:
    # Given endpoints of the vendor, of a rival and of the operators
    paid_only = endpoint_for(
        vendor=market.vendor, url=PUBLIC, events=["booking.paid"], actor=market.owner
    )
    everything = endpoint_for(vendor=market.vendor, url=PUBLIC, events=["*"], actor=market.owner)
    rival = endpoint_for(vendor=market.rival, url=PUBLIC, events=["*"], actor=market.rival_owner)
    platform = endpoint_for(
        vendor=None, url=PUBLIC, events=["booking.paid", "account.welcome"], actor=market.operator
    )
    off = endpoint_for(vendor=market.vendor, url=PUBLIC, events=["*"], actor=market.owner)
    WebhookEndpoint.objects.filter(pk=off.pk).update(enabled=False)

    # When a batch of events is fanned out
    paid = emit("booking.paid", vendor=market.vendor, number=1)
    shipped = emit("order.shipped", vendor=market.vendor, number=2)
    rival_paid = emit("booking.paid", vendor=market.rival, number=3)
    welcome = emit("account.welcome", vendor=None, number=4)
    notice = emit("notification.created", vendor=market.vendor, number=5)
    wanted = fan_out(paid, shipped, rival_paid, welcome, notice)

    # Then exactly these deliveries exist
    expected = {
        (paid_only.pk, paid.pk),
        (everything.pk, paid.pk),
        (everything.pk, shipped.pk),
        (rival.pk, rival_paid.pk),
        (platform.pk, paid.pk),
        (platform.pk, rival_paid.pk),
        (platform.pk, welcome.pk),
    }
    assert _pairs() == expected
    assert wanted == len(expected)
    item = WebhookDelivery.objects.get(endpoint=everything, event=shipped)
    assert (item.webhook_id, item.status, item.attempts) == (f"msg_{shipped.pk}", "pending", 0)


def test_fanning_out_twice_creates_nothing_twice(market: Market) -> None:
    endpoint_for(vendor=market.vendor, url=PUBLIC, events=["*"], actor=market.owner)
    endpoint_for(vendor=None, url=PUBLIC, events=["*"], actor=market.operator)
    events = [emit("booking.paid", vendor=market.vendor, number=n) for n in range(3)]

    assert fan_out(*events) == 6
    first = _pairs()
    assert fan_out(*events) == 0

    assert _pairs() == first
    assert WebhookDelivery.objects.count() == 6


def test_nothing_without_endpoints_or_events(
    market: Market, django_assert_num_queries: Any
) -> None:
    event = emit("booking.paid", vendor=market.vendor)
    with django_assert_num_queries(0):
        assert webhook_deliveries_create(events=[]) == 0
    with django_assert_num_queries(1):
        assert webhook_deliveries_create(events=[event]) == 0


@pytest.mark.parametrize("size", [1, 40, 200])
def test_a_batch_takes_two_queries_whatever_its_size(
    market: Market, django_assert_num_queries: Any, size: int
) -> None:
    endpoint_for(vendor=market.vendor, url=PUBLIC, events=["*"], actor=market.owner)
    endpoint_for(vendor=None, url=PUBLIC, events=["*"], actor=market.operator)
    events = [emit("booking.paid", vendor=market.vendor, number=n) for n in range(size)]

    # One SELECT of the endpoints, one INSERT of the deliveries.
    with django_assert_num_queries(2):
        assert webhook_deliveries_create(events=events) == 2 * size

    assert WebhookDelivery.objects.count() == 2 * size


def test_an_endpoint_gets_only_events_from_after_its_creation(market: Market) -> None:
    # Given an event that happened (not yet fanned out) before the endpoint was added
    earlier = emit("booking.paid", vendor=market.vendor, number=1)
    clock.advance(timedelta(seconds=1))
    endpoint = endpoint_for(vendor=market.vendor, url=PUBLIC, events=["*"], actor=market.owner)
    later = emit("booking.paid", vendor=market.vendor, number=2)

    fan_out(earlier, later)

    assert _pairs() == {(endpoint.pk, later.pk)}


def test_private_events_never_go_to_webhooks(market: Market) -> None:
    """A password reset or an invitation carries a secret link: not even `*` gets it."""
    endpoint_for(vendor=None, url=PUBLIC, events=["*"], actor=market.operator)
    endpoint_for(vendor=market.vendor, url=PUBLIC, events=["*"], actor=market.owner)

    created = fan_out(
        emit("account.password_reset", vendor=None, number=1),
        emit("staff.invited", vendor=market.vendor, number=2),
    )

    assert created == 0
    assert not WebhookDelivery.objects.exists()
