"""A few in-app notifications for the three demo accounts, some read and some not, each
leading to a real page of the demo, so the bell and the notification centres have something
to show after `make run`.

Written as events through the outbox (`emit`) with their notifications, in one transaction,
and marked dispatched: they are the demo's history, not news, so the delivery engine sends
no e-mail for them. Idempotent: each notice carries a demo key and is written once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import models, transaction

from agora.accounts.models import User
from agora.bookings.models import Booking, BookingStatus
from agora.core import clock
from agora.notifications.models import Event, Notification
from agora.notifications.outbox import emit
from agora.orders.models import OrderStatus, VendorOrder
from agora.reviews.models import Review, ReviewStatus
from agora.vendors.models import Vendor, VendorMembership, VendorStatus


@dataclass(frozen=True)
class Notice:
    key: str
    email: str
    name: str
    subject: models.Model | str
    title: str
    body: str
    url: str
    hours_ago: int
    read: bool
    user_id: int | None = None
    vendor_id: int | None = None
    operators: bool = False
    status: str = ""


def _customer_notices(customer: User) -> list[Notice]:
    notices = [
        Notice(
            "welcome",
            customer.email,
            "account.welcome",
            customer,
            "Welcome to Agora",
            "Book services and buy from local vendors; your bookings and orders are under My account.",
            "/account/",
            24 * 14,
            read=True,
            user_id=customer.pk,
        ),
    ]
    upcoming = (
        Booking.objects.filter(
            customer=customer, status=BookingStatus.ACCEPTED, start__gt=clock.now()
        )
        .select_related("listing", "vendor")
        .order_by("start")
        .first()
    )
    if upcoming is not None:
        notices += [
            Notice(
                "booking-accepted",
                customer.email,
                "booking.accepted",
                upcoming,
                f"{upcoming.vendor.name} accepted your booking",
                f"{upcoming.listing.title} is confirmed. We will remind you the day before.",
                f"/account/bookings/{upcoming.pk}/",
                30,
                read=False,
                user_id=customer.pk,
                vendor_id=upcoming.vendor_id,
                status=upcoming.status,
            ),
            Notice(
                "booking-reminder",
                customer.email,
                "booking.reminder",
                upcoming,
                f"Reminder: {upcoming.listing.title} is coming up",
                f"At {upcoming.vendor.name}. Need another time? You can reschedule from the booking page.",
                f"/account/bookings/{upcoming.pk}/",
                2,
                read=False,
                user_id=customer.pk,
                vendor_id=upcoming.vendor_id,
                status=upcoming.status,
            ),
        ]
    done = (
        Booking.objects.filter(customer=customer, status=BookingStatus.COMPLETED)
        .select_related("listing", "vendor")
        .order_by("-end")
        .first()
    )
    if done is not None:
        notices.append(
            Notice(
                "booking-completed",
                customer.email,
                "booking.completed",
                done,
                f"{done.listing.title} is done — how did it go?",
                f"Tell others about {done.vendor.name}: your review helps them choose.",
                "/account/reviews/",
                20,
                read=False,
                user_id=customer.pk,
                vendor_id=done.vendor_id,
                status=done.status,
            )
        )
    shipped = (
        VendorOrder.objects.filter(
            customer=customer,
            status__in=[OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.COMPLETED],
        )
        .select_related("vendor")
        .order_by("-id")
        .first()
    )
    if shipped is not None:
        notices.append(
            Notice(
                "order-shipped",
                customer.email,
                "order.shipped",
                shipped,
                f"Your order from {shipped.vendor.name} is on its way",
                f"Tracking: {shipped.carrier} {shipped.tracking_number}".strip(),
                f"/account/orders/{shipped.pk}/",
                72,
                read=True,
                user_id=customer.pk,
                vendor_id=shipped.vendor_id,
                status=shipped.status,
            )
        )
    return notices


def _vendor_notices(owner: User) -> list[Notice]:
    membership = (
        VendorMembership.objects.filter(user=owner).select_related("vendor").order_by("id").first()
    )
    if membership is None:
        return []
    vendor = membership.vendor
    notices = [
        Notice(
            "vendor-approved",
            owner.email,
            "vendor.approved",
            vendor,
            f"{vendor.name} is live",
            "Your listings are visible to customers. Set your schedule to take bookings.",
            "/vendor/schedule/",
            24 * 30,
            read=True,
            vendor_id=vendor.pk,
            status=vendor.status,
        ),
    ]
    to_accept = (
        Booking.objects.filter(
            vendor=vendor, status__in=[BookingStatus.PENDING, BookingStatus.ACCEPTED]
        )
        .select_related("listing", "customer")
        .order_by("-id")
        .first()
    )
    if to_accept is not None:
        notices.append(
            Notice(
                "vendor-booking-paid",
                owner.email,
                "booking.paid",
                to_accept,
                f"New booking: {to_accept.listing.title}",
                f"{to_accept.customer.name} booked and paid.",
                f"/vendor/bookings/{to_accept.pk}/",
                5,
                read=False,
                user_id=to_accept.customer_id,
                vendor_id=vendor.pk,
                status=to_accept.status,
            )
        )
    review = (
        Review.objects.filter(vendor=vendor, status=ReviewStatus.PUBLISHED).order_by("-id").first()
    )
    if review is not None:
        notices.append(
            Notice(
                "vendor-review",
                owner.email,
                "review.published",
                review,
                f"New {review.rating}-star review",
                review.text[:140],
                f"/v/{vendor.slug}/",
                8,
                read=False,
                vendor_id=vendor.pk,
                status=review.status,
            )
        )
    order = (
        VendorOrder.objects.filter(vendor=vendor)
        .exclude(status=OrderStatus.RESERVED)
        .select_related("customer")
        .order_by("-id")
        .first()
    )
    if order is not None:
        notices.append(
            Notice(
                "vendor-order-paid",
                owner.email,
                "order.paid",
                order,
                f"New order #{order.pk}",
                f"{order.customer.name} paid for an order; accept it and ship.",
                f"/vendor/orders/{order.pk}/",
                48,
                read=True,
                user_id=order.customer_id,
                vendor_id=vendor.pk,
                status=order.status,
            )
        )
    return notices


def _operator_notices(operator: User) -> list[Notice]:
    notices = []
    for number, applicant in enumerate(
        Vendor.objects.filter(status=VendorStatus.PENDING).order_by("-id")[:2]
    ):
        notices.append(
            Notice(
                f"operator-applied-{applicant.pk}",
                operator.email,
                "vendor.applied",
                applicant,
                f"New vendor application: {applicant.name}",
                "Documents are attached; approve or reject from the vendor queue.",
                f"/operator/vendors/{applicant.pk}/",
                3 + number * 20,
                read=number > 0,
                vendor_id=applicant.pk,
                operators=True,
                status=applicant.status,
            )
        )
    notices.append(
        Notice(
            "operator-welcome",
            operator.email,
            "account.welcome",
            operator,
            "Welcome to the operator console",
            "Approve vendors, moderate reviews and settle refunds and disputes from here.",
            "/operator/",
            24 * 14,
            read=True,
            user_id=operator.pk,
        )
    )
    return notices


def _write(notice: Notice, recipient: User) -> None:
    now = clock.now()
    at = now - timedelta(hours=notice.hours_ago)
    data: dict[str, Any] = {"url": notice.url, "title": notice.title, "demo": notice.key}
    if isinstance(notice.subject, models.Model):
        data["id"] = notice.subject.pk
    if notice.status:
        data["status"] = notice.status
    event = emit(
        notice.name,
        subject=notice.subject,
        data=data,
        user_id=notice.user_id,
        vendor_id=notice.vendor_id,
        operators=notice.operators,
    )
    # History, not news: fanned out already (below), so no mail goes out for it.
    Event.objects.filter(pk=event.pk).update(created_at=at, dispatched_at=now)
    Notification.objects.create(
        user=recipient,
        event=event,
        name=notice.name,
        title=notice.title,
        body=notice.body,
        url=notice.url,
        created_at=at,
        read_at=at + timedelta(minutes=20) if notice.read else None,
    )


def load() -> str:
    people = {
        user.email: user
        for user in User.objects.filter(
            email__in=["customer@agora.test", "vendor@agora.test", "operator@agora.test"]
        )
    }
    notices: list[Notice] = []
    if "customer@agora.test" in people:
        notices += _customer_notices(people["customer@agora.test"])
    if "vendor@agora.test" in people:
        notices += _vendor_notices(people["vendor@agora.test"])
    if "operator@agora.test" in people:
        notices += _operator_notices(people["operator@agora.test"])
    existing = set(Event.objects.filter(data__has_key="demo").values_list("data__demo", flat=True))
    # Oldest first: the centre lists newest first by id, as the delivery engine writes them.
    new = sorted(
        (notice for notice in notices if notice.key not in existing),
        key=lambda notice: -notice.hours_ago,
    )
    with transaction.atomic():
        for notice in new:
            _write(notice, people[notice.email])
    return f"{len(notices)} demo notifications ({len(new)} new)"
