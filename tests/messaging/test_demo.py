"""The demo's conversations: the demo customer with the demo workshop and a parts shop,
one reply unread, a number hidden on an unpaid order, no mail for history, loaded once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from agora.demo import messaging as demo_messaging
from agora.messaging import selectors
from agora.messaging.models import Conversation, Message
from agora.notifications.models import Event
from tests.factories import BookingFactory, ListingFactory, UserFactory, VendorFactory
from tests.messaging.helpers import NOW
from tests.reviews.helpers import vendor_order

pytestmark = pytest.mark.django_db


def test_demo_conversations_load_once(now: Any) -> None:
    customer = UserFactory(email="customer@agora.test", name="Chloe Customer")
    vendor_user = UserFactory(email="vendor@agora.test", name="Victor Vendor")
    workshop = VendorFactory(name="Camden MOT", owner=vendor_user)
    shop_owner = UserFactory(name="Pat Parts")
    shop = VendorFactory(name="Parts Shop", owner=shop_owner)
    booking = BookingFactory(
        listing=ListingFactory(vendor=workshop, title="MOT test"),
        customer=customer,
        status="completed",
        start=NOW - timedelta(days=10),
        hold_expires_at=None,
        paid_at=NOW - timedelta(days=12),
    )
    product = ListingFactory(vendor=shop, kind="product", title="Wipers")
    shipped = vendor_order(customer, shop, product, status="shipped")
    shipped.shipped_at, shipped.carrier = NOW - timedelta(days=2), "Royal Mail"
    shipped.save()
    unpaid = vendor_order(customer, shop, product, status="reserved")

    summary = demo_messaging.load()

    assert summary == "3 conversations, 6 messages"
    assert Conversation.objects.count() == 3
    mine = selectors.conversations_for(actor=customer).items
    assert {(c.title, c.unread_count) for c in mine} == {
        (f"Booking #{booking.pk}: MOT test", 0),
        (f"Order #{shipped.pk}", 1),
        (f"Order #{unpaid.pk}", 0),
    }
    workshop_side = selectors.conversations_for(actor=vendor_user, as_vendor=True).items
    assert [c.unread_count for c in workshop_side] == [1]
    shop_side = {
        c.subject_id: c for c in selectors.conversations_for(actor=shop_owner, as_vendor=True).items
    }
    assert "[phone number hidden until order is paid]" in shop_side[unpaid.pk].preview
    assert "07700" not in shop_side[unpaid.pk].preview
    assert not Event.objects.filter(name="message.created", dispatched_at__isnull=True).exists()
    # and loading again writes nothing
    assert demo_messaging.load() == "conversations already there"
    assert Message.objects.count() == 6
