"""The export of a person's data: one JSON document, built in a bounded number of queries
(one or two per kind of record, whatever the number of records)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.apps import apps
from django.db.models import Prefetch

from agora.accounts.models import ApiToken, User
from agora.accounts.selectors import user_profile
from agora.accounts.two_factor.selectors import two_factor_status
from agora.bookings.models import Booking
from agora.core import clock
from agora.messaging.models import Message
from agora.notifications.models import Notification
from agora.notifications.selectors import preferences_for
from agora.orders.models import Checkout, VendorOrder
from agora.payments.models import Payment, Refund
from agora.reviews.models import Review, ReviewRevision
from agora.vendors.models import VendorMembership

EXPORT_FORMAT_VERSION = 1


def _money(amount: int, currency: str) -> dict[str, Any]:
    return {"amount": amount, "currency": currency}


def _at(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True)
class PersonalDataExport:
    """Everything about one person, by kind; `document` is what they download."""

    user_id: int
    document: dict[str, Any]

    @property
    def filename(self) -> str:
        return f"agora-data-{self.user_id}-{self.document['exported_at'][:10]}.json"


def _profile(user: User) -> dict[str, Any]:
    profile = user_profile(user=user)
    status = two_factor_status(user=user)
    return {
        "id": user.pk,
        "email": user.email,
        "name": user.name,
        "roles": profile.roles,
        "date_joined": _at(user.date_joined),
        "last_login": _at(user.last_login),
        "deleted_at": _at(user.deleted_at),
        "two_factor": {
            "enabled": status.enabled,
            "enabled_at": _at(status.enabled_at),
            "recovery_codes_left": status.recovery_codes_left,
        },
    }


def _memberships(user: User) -> list[dict[str, Any]]:
    return [
        {
            "vendor_id": m.vendor_id,
            "vendor": m.vendor.name,
            "role": m.role,
            "since": _at(m.created_at),
        }
        for m in VendorMembership.objects.filter(user=user)
        .select_related("vendor")
        .order_by("created_at", "pk")
    ]


def _bookings(user: User) -> list[Booking]:
    return list(
        Booking.objects.filter(customer=user)
        .select_related("listing", "vendor")
        .order_by("created_at", "pk")
    )


def _booking(booking: Booking) -> dict[str, Any]:
    return {
        "id": booking.pk,
        "listing_id": booking.listing_id,
        "listing": booking.listing.title,
        "vendor_id": booking.vendor_id,
        "vendor": booking.vendor.name,
        "status": booking.status,
        "start": _at(booking.start),
        "end": _at(booking.end),
        "price": _money(booking.price_amount, booking.currency),
        "notes": booking.notes,
        "pickup": booking.pickup,
        "created_at": _at(booking.created_at),
        "paid_at": _at(booking.paid_at),
        "cancelled_at": _at(booking.cancelled_at),
        "completed_at": _at(booking.completed_at),
    }


def _checkout(checkout: Checkout) -> dict[str, Any]:
    return {
        "id": checkout.pk,
        "status": checkout.status,
        "total": _money(checkout.total_amount, checkout.currency),
        "shipping_address": checkout.shipping_address,
        "created_at": _at(checkout.created_at),
        "paid_at": _at(checkout.paid_at),
    }


def _addresses(checkouts: list[Checkout]) -> list[dict[str, Any]]:
    """Each distinct delivery address the person gave, with the checkouts that used it
    (Agora keeps no address book: addresses live on the checkouts)."""
    seen: dict[str, dict[str, Any]] = {}
    for checkout in checkouts:
        address = checkout.shipping_address or {}
        key = json.dumps(address, sort_keys=True)
        entry = seen.setdefault(key, {"address": address, "checkout_ids": []})
        entry["checkout_ids"].append(checkout.pk)
    return list(seen.values())


def _orders(user: User) -> list[VendorOrder]:
    return list(
        VendorOrder.objects.filter(customer=user)
        .select_related("vendor")
        .prefetch_related("lines")
        .order_by("created_at", "pk")
    )


def _order(order: VendorOrder) -> dict[str, Any]:
    return {
        "id": order.pk,
        "checkout_id": order.checkout_id,
        "vendor_id": order.vendor_id,
        "vendor": order.vendor.name,
        "status": order.status,
        "lines": [
            {
                "title": line.title,
                "quantity": line.quantity,
                "unit_price": _money(line.unit_price_amount, order.currency),
                "total": _money(line.line_total_amount, order.currency),
            }
            for line in order.lines.all()
        ],
        "subtotal": _money(order.subtotal_amount, order.currency),
        "shipping": _money(order.shipping_amount, order.currency),
        "total": _money(order.total_amount, order.currency),
        "carrier": order.carrier,
        "tracking_number": order.tracking_number,
        "created_at": _at(order.created_at),
        "paid_at": _at(order.paid_at),
        "shipped_at": _at(order.shipped_at),
        "delivered_at": _at(order.delivered_at),
        "cancelled_at": _at(order.cancelled_at),
    }


def _payments(references: list[str]) -> list[dict[str, Any]]:
    """What the person was charged and given back. Amounts and the method's name only:
    no card data is held (the gateway keeps it), and the split between vendor, commission
    and fees is the vendor's business, not the customer's."""
    if not references:
        return []
    payments = (
        Payment.objects.filter(reference__in=references)
        .prefetch_related(Prefetch("refunds", queryset=Refund.objects.order_by("created_at")))
        .order_by("created_at", "pk")
    )
    return [
        {
            "reference": payment.reference,
            "amount": _money(payment.gross_amount, payment.currency),
            "refunded": _money(payment.refunded_amount, payment.currency),
            "status": payment.status,
            "payment_method": payment.payment_method,
            "created_at": _at(payment.created_at),
            "refunds": [
                {
                    "amount": _money(refund.amount, refund.currency),
                    "reason": refund.reason,
                    "created_at": _at(refund.created_at),
                }
                for refund in payment.refunds.all()
            ],
        }
        for payment in payments
    ]


def _reviews(user: User) -> list[dict[str, Any]]:
    reviews = (
        Review.objects.filter(author=user)
        .select_related("vendor", "listing")
        .prefetch_related(
            Prefetch("revisions", queryset=ReviewRevision.objects.order_by("replaced_at", "pk"))
        )
        .order_by("created_at", "pk")
    )
    return [
        {
            "id": review.pk,
            "vendor_id": review.vendor_id,
            "vendor": review.vendor.name,
            "listing": review.listing.title if review.listing is not None else None,
            "booking_id": review.booking_id,
            "order_id": review.vendor_order_id,
            "rating": review.rating,
            "text": review.text,
            "status": review.status,
            "created_at": _at(review.created_at),
            "edited_at": _at(review.edited_at),
            "reply": review.reply_text,
            "earlier_versions": [
                {"rating": r.rating, "text": r.text, "written_at": _at(r.written_at)}
                for r in review.revisions.all()
            ],
        }
        for review in reviews
    ]


def _messages(user: User) -> list[dict[str, Any]]:
    """The messages the person wrote (what they said, as they wrote it). Others' replies
    are the others' personal data and stay out of the export."""
    messages = (
        Message.objects.filter(author=user)
        .select_related("conversation__vendor")
        .prefetch_related("attachments")
        .order_by("created_at", "pk")
    )
    return [
        {
            "id": message.pk,
            "about": message.conversation.subject,
            "vendor": message.conversation.vendor.name,
            "as": message.author_role,
            "text": message.text,
            "attachments": [a.original_name for a in message.attachments.all()],
            "created_at": _at(message.created_at),
        }
        for message in messages
    ]


def _notifications(user: User) -> list[dict[str, Any]]:
    return [
        {
            "event": n.name,
            "title": n.title,
            "body": n.body,
            "url": n.url,
            "created_at": _at(n.created_at),
            "read_at": _at(n.read_at),
        }
        for n in Notification.objects.filter(user=user).order_by("created_at", "pk")
    ]


def _tokens(user: User) -> list[dict[str, Any]]:
    return [
        {
            "prefix": token.prefix,
            "created_at": _at(token.created_at),
            "expires_at": _at(token.expires_at),
            "revoked_at": _at(token.revoked_at),
        }
        for token in ApiToken.objects.filter(user=user).order_by("created_at", "pk")
    ]


def _vehicles(user: User) -> list[dict[str, Any]]:
    """The garage (automotive vertical), when it is installed."""
    if not apps.is_installed("agora.verticals.automotive"):
        return []
    vehicle_model = apps.get_model("automotive", "Vehicle")
    return [
        {
            "registration": v.registration,
            "make": v.make,
            "model": v.model,
            "colour": v.colour,
            "year_of_manufacture": v.year_of_manufacture,
            "mot_expiry_date": v.mot_expiry_date.isoformat() if v.mot_expiry_date else None,
            "added_at": _at(v.created_at),
            "removed_at": _at(v.removed_at),
        }
        for v in vehicle_model.objects.filter(owner=user).order_by("created_at", "pk")
    ]


def _quote_requests(user: User) -> list[dict[str, Any]]:
    """The jobs the person asked vendors to quote for, when quotes are installed."""
    if not apps.is_installed("agora.quotes"):
        return []
    request_model = apps.get_model("quotes", "QuoteRequest")
    return [
        {
            "id": r.pk,
            "title": r.title,
            "description": r.description,
            "answers": r.answers,
            "status": r.status,
            "window_start": _at(r.window_start),
            "window_end": _at(r.window_end),
            "budget": _money(r.budget_amount, r.currency) if r.budget_amount else None,
            "booking_id": r.booking_id,
            "created_at": _at(r.created_at),
        }
        for r in request_model.objects.filter(customer=user).order_by("created_at", "pk")
    ]


def personal_data_export(*, user: User) -> PersonalDataExport:
    """Everything the marketplace holds about `user`, and nothing about anyone else:
    each kind of record is selected by its link to them (customer, author, member)."""
    bookings = _bookings(user)
    orders = _orders(user)
    checkouts = list(Checkout.objects.filter(customer=user).order_by("created_at", "pk"))
    references = [b.reference for b in bookings] + [o.reference for o in orders]
    document = {
        "format_version": EXPORT_FORMAT_VERSION,
        "exported_at": clock.now().isoformat(),
        "profile": _profile(user),
        "vendor_memberships": _memberships(user),
        "addresses": _addresses(checkouts),
        "bookings": [_booking(b) for b in bookings],
        "checkouts": [_checkout(c) for c in checkouts],
        "orders": [_order(o) for o in orders],
        "payments": _payments(references),
        "quote_requests": _quote_requests(user),
        "vehicles": _vehicles(user),
        "reviews": _reviews(user),
        "messages": _messages(user),
        "notifications": _notifications(user),
        "notification_preferences": [
            {"group": p.group, "email": p.email, "in_app": p.in_app}
            for p in preferences_for(user=user)
        ],
        "api_tokens": _tokens(user),
    }
    return PersonalDataExport(user_id=user.pk, document=document)
