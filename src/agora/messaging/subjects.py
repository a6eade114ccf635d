"""What a conversation can be about, and who may take part in it.

A subject is a kind and an id (`booking:12`), with the vendor on the other side. Each kind
registers a `SubjectSource` that finds "a subject I may see" through its own app's scoped
selectors — the customer's, or the staff of its vendor — and says when contact details may
be shared. Bookings and orders have one vendor each. A quote request invites several, and
its source (registered by the quotes app with `register`) uses `vendor_id` to choose which
invited vendor's conversation is meant.

Everyone else gets NotFound (404), like any other tenant's object; operators may read
every conversation (disputes) and write into it as the operator.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from agora.bookings import selectors as booking_selectors
from agora.bookings.models import Booking, BookingStatus
from agora.core.errors import NotFound
from agora.messaging.models import AuthorRole, SubjectKind
from agora.orders import selectors as order_selectors
from agora.orders.models import OrderStatus, VendorOrder
from agora.vendors import selectors as vendor_selectors

# Paid and not given back: contact details may be shared. A hold, an unpaid reservation, and
# a booking or order that was declined, cancelled, refunded or expired keep them hidden.
BOOKING_CONTACT_STATUSES = frozenset(
    {
        BookingStatus.PENDING,
        BookingStatus.ACCEPTED,
        BookingStatus.IN_PROGRESS,
        BookingStatus.COMPLETED,
        BookingStatus.REVIEWED,
        BookingStatus.NO_SHOW,
    }
)
ORDER_CONTACT_STATUSES = frozenset(
    {
        OrderStatus.PAID,
        OrderStatus.ACCEPTED,
        OrderStatus.SHIPPED,
        OrderStatus.DELIVERED,
        OrderStatus.COMPLETED,
    }
)


@dataclass(frozen=True)
class Subject:
    kind: str
    id: int
    vendor_id: int
    vendor_name: str
    vendor_timezone: str
    customer_id: int
    customer_name: str
    title: str
    status: str
    contact_allowed: bool

    @property
    def reference(self) -> str:
        return f"{self.kind}:{self.id}"


@dataclass(frozen=True)
class Participation:
    """The subject as `role` (customer, vendor staff or operator) takes part in it."""

    subject: Subject
    role: str


@dataclass(frozen=True)
class SubjectSummary:
    """What a list of conversations shows of each subject."""

    title: str
    status: str
    contact_allowed: bool


class SubjectSource(ABC):
    kind: str
    # How the masking note ends: "[phone number hidden until <unlock_phrase>]".
    unlock_phrase: str
    # One vendor per subject (bookings, orders): vendor_id is implied and checked if given.
    single_vendor: bool = True

    @abstractmethod
    def visible(self, *, user: Any, subject_id: int, vendor_id: int | None) -> Subject:
        """The subject if `user` is its customer or on the staff of its vendor (of
        `vendor_id`'s, when given), else NotFound."""

    @abstractmethod
    def for_operator(self, *, subject_id: int, vendor_id: int | None) -> Subject:
        """Any subject, for an operator (who sees every tenant's); NotFound if missing."""

    @abstractmethod
    def summaries(self, keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], SubjectSummary]:
        """Titles and contact rules of (subject id, vendor id) pairs, in one query."""

    def customer_page(self, subject: Subject) -> str:
        """The subject's own page in the customer's portal."""
        return ""

    def vendor_page(self, subject: Subject) -> str:
        return ""


def _vendor_matches(subject_vendor_id: int, vendor_id: int | None) -> bool:
    return vendor_id is None or vendor_id == subject_vendor_id


class BookingSource(SubjectSource):
    kind = SubjectKind.BOOKING
    unlock_phrase = "booking is paid"

    def _subject(self, booking: Booking) -> Subject:
        return Subject(
            kind=self.kind,
            id=booking.pk,
            vendor_id=booking.vendor_id,
            vendor_name=booking.vendor.name,
            vendor_timezone=booking.vendor.timezone,
            customer_id=booking.customer_id,
            customer_name=booking.customer.name,
            title=f"Booking #{booking.pk}: {booking.listing.title}",
            status=booking.status,
            contact_allowed=booking.status in BOOKING_CONTACT_STATUSES,
        )

    def visible(self, *, user: Any, subject_id: int, vendor_id: int | None) -> Subject:
        booking = booking_selectors.booking_get_visible(user=user, booking_id=subject_id)
        if not _vendor_matches(booking.vendor_id, vendor_id):
            raise NotFound("No such booking.")
        return self._subject(booking)

    def for_operator(self, *, subject_id: int, vendor_id: int | None) -> Subject:
        booking = (
            Booking.objects.select_related("listing", "vendor", "customer")
            .filter(pk=subject_id)
            .first()
        )
        if booking is None or not _vendor_matches(booking.vendor_id, vendor_id):
            raise NotFound("No such booking.")
        return self._subject(booking)

    def summaries(self, keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], SubjectSummary]:
        ids = {subject_id for subject_id, _ in keys}
        if not ids:
            return {}
        rows = Booking.objects.filter(pk__in=ids).values_list(
            "pk", "vendor_id", "status", "listing__title"
        )
        return {
            (pk, vendor_id): SubjectSummary(
                title=f"Booking #{pk}: {title}",
                status=status,
                contact_allowed=status in BOOKING_CONTACT_STATUSES,
            )
            for pk, vendor_id, status, title in rows
        }

    def customer_page(self, subject: Subject) -> str:
        return f"/account/bookings/{subject.id}/"

    def vendor_page(self, subject: Subject) -> str:
        return f"/vendor/bookings/{subject.id}/?vendor={subject.vendor_id}"


class OrderSource(SubjectSource):
    """A vendor order: one vendor's part of a checkout, so one vendor per order."""

    kind = SubjectKind.ORDER
    unlock_phrase = "order is paid"

    def _subject(self, order: VendorOrder) -> Subject:
        return Subject(
            kind=self.kind,
            id=order.pk,
            vendor_id=order.vendor_id,
            vendor_name=order.vendor.name,
            vendor_timezone=order.vendor.timezone,
            customer_id=order.customer_id,
            customer_name=order.customer.name,
            title=f"Order #{order.pk}",
            status=order.status,
            contact_allowed=order.status in ORDER_CONTACT_STATUSES,
        )

    def visible(self, *, user: Any, subject_id: int, vendor_id: int | None) -> Subject:
        order = order_selectors.order_get_visible(user=user, order_id=subject_id)
        if not _vendor_matches(order.vendor_id, vendor_id):
            raise NotFound("No such order.")
        return self._subject(order)

    def for_operator(self, *, subject_id: int, vendor_id: int | None) -> Subject:
        order = (
            VendorOrder.objects.select_related("vendor", "customer").filter(pk=subject_id).first()
        )
        if order is None or not _vendor_matches(order.vendor_id, vendor_id):
            raise NotFound("No such order.")
        return self._subject(order)

    def summaries(self, keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], SubjectSummary]:
        ids = {subject_id for subject_id, _ in keys}
        if not ids:
            return {}
        rows = VendorOrder.objects.filter(pk__in=ids).values_list("pk", "vendor_id", "status")
        return {
            (pk, vendor_id): SubjectSummary(
                title=f"Order #{pk}",
                status=status,
                contact_allowed=status in ORDER_CONTACT_STATUSES,
            )
            for pk, vendor_id, status in rows
        }

    def customer_page(self, subject: Subject) -> str:
        return f"/account/orders/{subject.id}/"

    def vendor_page(self, subject: Subject) -> str:
        return f"/vendor/orders/{subject.id}/?vendor={subject.vendor_id}"


_SOURCES: dict[str, SubjectSource] = {}


def register(source: SubjectSource) -> SubjectSource:
    """Make conversations about `source.kind` possible (the quotes app registers its own)."""
    _SOURCES[source.kind] = source
    return source


register(BookingSource())
register(OrderSource())


def source_for(kind: str) -> SubjectSource:
    source = _SOURCES.get(kind)
    if source is None:
        raise NotFound("Nothing to talk about there.")
    return source


def registered_kinds() -> list[str]:
    return list(_SOURCES)


def _is_staff_of(user: Any, vendor_id: int) -> bool:
    return vendor_selectors.membership_get(user=user, vendor_id=vendor_id) is not None


def participation(
    *,
    actor: Any,
    kind: str,
    subject_id: int,
    vendor_id: int | None = None,
    side: str | None = None,
) -> Participation:
    """How `actor` takes part in the conversation about (`kind`, `subject_id`) with
    `vendor_id`'s staff, or NotFound.

    `side` says which side the actor speaks for: the customer portal asks for "customer",
    the vendor portal for "vendor" (with the vendor it works for as `vendor_id`); the API
    leaves it to the subject: its customer first, then its vendor's staff, then operators.
    Operators take part only when no side is asked for.
    """
    source = source_for(kind)
    try:
        subject = source.visible(user=actor, subject_id=subject_id, vendor_id=vendor_id)
    except NotFound:
        if side is None and getattr(actor, "is_operator", False):
            subject = source.for_operator(subject_id=subject_id, vendor_id=vendor_id)
            return Participation(subject=subject, role=AuthorRole.OPERATOR)
        raise
    is_customer = subject.customer_id == actor.pk
    if side == AuthorRole.CUSTOMER:
        if not is_customer:
            raise NotFound("No such conversation.")
        return Participation(subject=subject, role=AuthorRole.CUSTOMER)
    if side == AuthorRole.VENDOR:
        # Visible and not the customer's means on the vendor's staff; a staff member who is
        # also the customer (booking at their own workshop) is checked explicitly.
        if is_customer and not _is_staff_of(actor, subject.vendor_id):
            raise NotFound("No such conversation.")
        return Participation(subject=subject, role=AuthorRole.VENDOR)
    if side is not None:
        raise NotFound("No such conversation.")
    return Participation(
        subject=subject, role=AuthorRole.CUSTOMER if is_customer else AuthorRole.VENDOR
    )


# --- page addresses --------------------------------------------------------------------------


def customer_url(*, kind: str, subject_id: int, vendor_id: int) -> str:
    """The conversation's page in the customer's portal."""
    path = f"/account/messages/{kind}/{subject_id}/"
    return path if source_for(kind).single_vendor else f"{path}?vendor={vendor_id}"


def vendor_url(*, kind: str, subject_id: int, vendor_id: int) -> str:
    """The conversation's page in the vendor portal, working for `vendor_id`."""
    return f"/vendor/messages/{kind}/{subject_id}/?vendor={vendor_id}"
