"""Deleting an account: the person's data erased or anonymised, the marketplace's records
kept whole.

What goes: the name and e-mail address (replaced), the password (unusable), tokens,
sessions (they end with the password hash), two-factor devices, the cart, the person's
notifications and preferences, stored API responses, staff memberships, the addresses,
notes and pickup details written on their bookings and checkouts, the descriptions and
locations of their quote requests, the e-mail address on mail rows; their vehicles leave
the garage (no more reminders). What stays, untouched: bookings, orders, payments,
refunds and the ledger (the money must still reconcile, and the law keeps sales records
for years), reviews and messages (the other side's record of what was said), shown as by
"Deleted user" because they point at the anonymised row. The row itself stays so that
every foreign key holds.

While the person still has something under way — a confirmed booking to come, a paid
order not yet shipped, an open dispute, a quote request still open, a vendor they alone
own — the deletion is refused (409 `account_has_obligations`, listing them) and changes
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import transaction
from django.db.models import Count, Q

from agora.accounts.errors import AccountError, AccountErrorCode
from agora.accounts.models import ApiToken, User
from agora.accounts.services import user_authenticate
from agora.accounts.two_factor.services import two_factor_erase
from agora.bookings.models import Booking, BookingStatus
from agora.core import clock
from agora.core.audit import audit_log
from agora.core.models import IdempotencyKey
from agora.notifications.models import (
    DeliveryStatus,
    EmailDelivery,
    Notification,
    NotificationPreference,
)
from agora.orders.models import Cart, Checkout, OrderStatus, VendorOrder
from agora.payments.models import Dispute, DisputeStatus
from agora.reviews.models import ReviewSignals
from agora.vendors.models import StaffRole, VendorInvitation, VendorMembership, VendorStatus

DELETED_NAME = "Deleted user"
# RFC 2606 reserves .invalid: the placeholder can never be a mailbox anyone receives at.
DELETED_EMAIL_DOMAIN = "deleted.invalid"

# Bookings the vendor is to serve: paid and waiting for the vendor, accepted, under way.
_BOOKINGS_UNDER_WAY = (BookingStatus.PENDING, BookingStatus.ACCEPTED)
# Paid orders the vendor has not shipped yet: it still needs the address.
_ORDERS_UNSHIPPED = (OrderStatus.PAID, OrderStatus.ACCEPTED)
# Quote requests vendors may still quote for or the person may still accept.
_QUOTE_REQUESTS_LIVE = ("open", "quoted")


@dataclass(frozen=True)
class Obligation:
    kind: str  # booking | order | dispute | vendor
    id: int
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "detail": self.detail}


def account_obligations(*, user: User) -> list[Obligation]:
    """What must be finished before `user` may delete their account (four queries)."""
    now = clock.now()
    found: list[Obligation] = []
    bookings = Booking.objects.filter(customer=user).filter(
        Q(status__in=_BOOKINGS_UNDER_WAY, end__gt=now) | Q(status=BookingStatus.IN_PROGRESS)
    )
    found += [
        Obligation("booking", b.pk, f"{b.status} booking on {b.start:%Y-%m-%d %H:%M} UTC")
        for b in bookings.order_by("start", "pk")
    ]
    orders = VendorOrder.objects.filter(customer=user, status__in=_ORDERS_UNSHIPPED)
    found += [
        Obligation("order", o.pk, f"{o.status} order not shipped yet")
        for o in orders.order_by("pk")
    ]
    references = [
        f"booking:{pk}" for pk in Booking.objects.filter(customer=user).values_list("pk", flat=True)
    ]
    references += [
        f"order:{pk}"
        for pk in VendorOrder.objects.filter(customer=user).values_list("pk", flat=True)
    ]
    if references:
        disputes = Dispute.objects.filter(reference__in=references, status=DisputeStatus.OPENED)
        found += [
            Obligation("dispute", d.pk, f"open dispute on {d.reference}")
            for d in disputes.order_by("pk")
        ]
    if apps.is_installed("agora.quotes"):
        request_model = apps.get_model("quotes", "QuoteRequest")
        live = request_model.objects.filter(customer=user, status__in=_QUOTE_REQUESTS_LIVE)
        found += [
            Obligation("quote_request", r.pk, f"{r.status} quote request: cancel it first")
            for r in live.order_by("pk")
        ]
    owned = (
        VendorMembership.objects.filter(user=user, role=StaffRole.OWNER)
        .exclude(vendor__status=VendorStatus.REJECTED)
        .annotate(
            owners=Count("vendor__memberships", filter=Q(vendor__memberships__role=StaffRole.OWNER))
        )
        .filter(owners=1)
        .select_related("vendor")
    )
    found += [
        Obligation("vendor", m.vendor_id, f"sole owner of {m.vendor.name}")
        for m in owned.order_by("vendor_id")
    ]
    return found


@dataclass(frozen=True)
class DeletedAccount:
    user_id: int
    email: str  # the placeholder now on the row


def account_delete(*, user: User, password: str, ip: str) -> DeletedAccount:
    """Delete `user`'s account, confirmed with their password (checked, and counted when
    wrong, as a sign-in would be: before the transaction, so a refusal still counts)."""
    user_authenticate(email=user.email, password=password, ip=ip)
    return _account_erase(user_id=user.pk)


@transaction.atomic
def _account_erase(*, user_id: int) -> DeletedAccount:
    # Locked, so two deletions (or a deletion and a promotion) of one account serialise.
    user = User.objects.select_for_update().get(pk=user_id)
    obligations = account_obligations(user=user)
    if obligations:
        raise AccountError(
            "Finish or cancel what is still under way before deleting the account.",
            code=AccountErrorCode.ACCOUNT_HAS_OBLIGATIONS,
            extra={"obligations": [o.as_dict() for o in obligations]},
        )
    old_email = user.email
    counts = _erase_related(user=user, old_email=old_email)
    two_factor_erase(user=user)
    now = clock.now()
    user.name = DELETED_NAME
    user.email = f"deleted-{user.pk}@{DELETED_EMAIL_DOMAIN}"
    user.set_unusable_password()
    user.is_active = False
    user.is_staff = False
    user.is_superuser = False
    user.is_operator = False
    user.last_login = None
    user.deleted_at = now
    user.save()
    user.groups.clear()
    user.user_permissions.clear()
    audit_log(actor=user, action="user.deleted", target=user, data=counts)
    return DeletedAccount(user_id=user.pk, email=user.email)


def _erase_related(*, user: User, old_email: str) -> dict[str, int]:
    """Erase the personal data held on other rows; return how many rows of each kind."""
    counts: dict[str, int] = {}
    counts["tokens"], _ = ApiToken.objects.filter(user=user).delete()
    counts["memberships"], _ = VendorMembership.objects.filter(user=user).delete()
    VendorInvitation.objects.filter(
        email__iexact=old_email, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=clock.now())
    Cart.objects.filter(user=user).delete()
    counts["notifications"], _ = Notification.objects.filter(user=user).delete()
    NotificationPreference.objects.filter(user=user).delete()
    # Stored answers to finished requests may hold addresses; the one of a request still
    # running (this one, under an Idempotency-Key) has no answer yet and is kept.
    IdempotencyKey.objects.filter(user=user, status_code__isnull=False).delete()
    EmailDelivery.objects.filter(user=user, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.SKIPPED, last_error="account deleted"
    )
    EmailDelivery.objects.filter(user=user).update(
        to_email=f"deleted-{user.pk}@{DELETED_EMAIL_DOMAIN}"
    )
    counts["addresses"] = _erase_addresses(user=user)
    counts["quote_requests"] = _erase_quote_requests(user=user)
    counts["vehicles"] = _remove_vehicles(user=user)
    ReviewSignals.objects.filter(review__author=user).update(user_agent="")
    return counts


def _erase_addresses(*, user: User) -> int:
    """Blank the addresses, notes and pickup details on the person's checkouts and
    bookings; amounts, statuses and times stay as they were. The country stays on a
    delivery address: the sale's place of supply, which tax records need."""
    erased = 0
    for checkout in Checkout.objects.filter(customer=user).only("pk", "shipping_address"):
        address = checkout.shipping_address or {}
        blank = dict.fromkeys(address, "")
        blank["name"] = DELETED_NAME
        if "country" in address:
            blank["country"] = address["country"]
        Checkout.objects.filter(pk=checkout.pk).update(shipping_address=blank)
        erased += 1
    for booking in Booking.objects.filter(customer=user).exclude(notes="", pickup__isnull=True):
        pickup = booking.pickup
        if isinstance(pickup, dict):
            pickup = {
                **pickup,
                **{
                    key: ""
                    for key in ("pickup_address", "return_address", "instructions")
                    if key in pickup
                },
            }
        Booking.objects.filter(pk=booking.pk).update(notes="", pickup=pickup)
        erased += 1
    return erased


def _erase_quote_requests(*, user: User) -> int:
    """Blank what the person wrote about their jobs and where they are; the title,
    category, status and amounts stay with the quotes and bookings made from them."""
    if not apps.is_installed("agora.quotes"):
        return 0
    request_model = apps.get_model("quotes", "QuoteRequest")
    return int(
        request_model.objects.filter(customer=user).update(
            description="", answers={}, lat=None, lng=None
        )
    )


def _remove_vehicles(*, user: User) -> int:
    """Take the vehicles out of the garage (no more MOT reminders); the rows stay for the
    bookings made for them, as a removal from the garage keeps them."""
    if not apps.is_installed("agora.verticals.automotive"):
        return 0
    vehicle_model = apps.get_model("automotive", "Vehicle")
    return int(
        vehicle_model.objects.filter(owner=user, removed_at__isnull=True).update(
            removed_at=clock.now()
        )
    )
