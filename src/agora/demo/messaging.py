"""Conversations of the demo customer: with the demo workshop about their MOT booking (the
customer's last question still unread by the workshop), with a parts shop about a shipped
order (the shop's reply still unread by the customer), and about an order not yet paid,
where the phone number the customer wrote is hidden from the shop.

Written through `message_send` with the clock set to when each was said, so masking, read
state and events are the real ones. Their `message.created` events are marked dispatched:
they are the demo's history, not news, so no e-mail goes out for them. Idempotent: nothing
is written when the demo customer has conversations already.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from agora.accounts.models import User
from agora.bookings.models import Booking
from agora.core import clock
from agora.messaging import services
from agora.messaging.models import AuthorRole, Conversation, Message, SubjectKind
from agora.notifications.models import Event
from agora.orders.models import OrderStatus, VendorOrder
from agora.vendors.models import VendorMembership


def _staff_of(vendor_id: int) -> User | None:
    membership = (
        VendorMembership.objects.filter(vendor_id=vendor_id).select_related("user").order_by("id")
    ).first()
    return membership.user if membership else None


def _say(
    author: User, kind: str, subject_id: int, text: str, at: datetime, *, side: str
) -> Message:
    with clock.frozen(at):
        sent = services.message_send(
            actor=author, subject_kind=kind, subject_id=subject_id, text=text, side=side
        )
    return sent.message


def _read(reader: User, kind: str, subject_id: int, at: datetime, *, side: str) -> None:
    with clock.frozen(at):
        services.conversation_mark_read(
            actor=reader, subject_kind=kind, subject_id=subject_id, side=side
        )


C, V = AuthorRole.CUSTOMER, AuthorRole.VENDOR


def _booking_conversation(customer: User) -> list[Message]:
    booking = (
        Booking.objects.filter(
            customer=customer,
            vendor__memberships__user__email="vendor@agora.test",
            start__lt=clock.now() - timedelta(days=1),
        )
        .order_by("-start")
        .first()
    )
    staff = _staff_of(booking.vendor_id) if booking else None
    if booking is None or staff is None:
        return []
    kind, before = SubjectKind.BOOKING, booking.start - timedelta(days=2)
    said = [
        _say(
            customer,
            kind,
            booking.pk,
            "Hello! Can I wait at the garage while the MOT is done, or should I leave the "
            "car for the morning?",
            before,
            side=C,
        ),
        _say(
            staff,
            kind,
            booking.pk,
            "Morning Chloe — of course, there's a waiting room with coffee and Wi-Fi. An MOT "
            "takes about 45 minutes. If you're running late on the day, ring us on "
            "020 7946 0958.",
            before + timedelta(hours=1, minutes=12),
            side=V,
        ),
    ]
    _read(customer, kind, booking.pk, before + timedelta(hours=3), side=C)
    said.append(
        _say(
            customer,
            kind,
            booking.pk,
            "Thanks again for Monday. The certificate mentions the front tyres are close to "
            "the limit — could you quote for two new ones (205/55 R16)?",
            booking.start + timedelta(days=1, hours=2),
            side=C,
        )
    )
    return said


def _order_conversations(customer: User) -> list[Message]:
    said: list[Message] = []
    kind = SubjectKind.ORDER
    shipped = (
        VendorOrder.objects.filter(customer=customer, status=OrderStatus.SHIPPED)
        .order_by("-id")
        .first()
    )
    shop = _staff_of(shipped.vendor_id) if shipped else None
    if shipped is not None and shop is not None and shipped.shipped_at is not None:
        asked = shipped.shipped_at + timedelta(hours=20)
        said.append(
            _say(
                customer,
                kind,
                shipped.pk,
                "Hi, the tracking hasn't moved since yesterday. Is the parcel on its way?",
                asked,
                side=C,
            )
        )
        said.append(
            _say(
                shop,
                kind,
                shipped.pk,
                f"Hi Chloe, it left us yesterday afternoon with {shipped.carrier or 'the carrier'}"
                " and should reach you tomorrow. The tracking usually catches up overnight.",
                asked + timedelta(minutes=40),
                side=V,
            )
        )
    unpaid = (
        VendorOrder.objects.filter(customer=customer, status=OrderStatus.RESERVED)
        .order_by("-id")
        .first()
    )
    if unpaid is not None and _staff_of(unpaid.vendor_id) is not None:
        said.append(
            _say(
                customer,
                kind,
                unpaid.pk,
                "Before I pay: do these fit a 2014 Golf? Text me on 07700 900123 or write to "
                "chloe.customer at example dot com.",
                min(unpaid.created_at + timedelta(minutes=5), clock.now()),
                side=C,
            )
        )
    return said


def load() -> str:
    customer = User.objects.filter(email="customer@agora.test").first()
    if customer is None:
        return "no demo customer"
    if Conversation.objects.filter(customer=customer).exists():
        return "conversations already there"
    said = _booking_conversation(customer) + _order_conversations(customer)
    Event.objects.filter(
        name="message.created", subject__in=[f"message:{m.pk}" for m in said]
    ).update(dispatched_at=clock.now())
    conversations = Conversation.objects.filter(customer=customer).count()
    return f"{conversations} conversations, {len(said)} messages"
