"""Conversations about a quote request: one per invited vendor (messaging's subject
source for `quote_request`). The customer talks with each invited vendor apart; a vendor
only ever sees its own conversation; anyone else gets NotFound."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from agora.core.errors import NotFound
from agora.messaging.models import SubjectKind
from agora.messaging.subjects import Subject, SubjectSource, SubjectSummary
from agora.quotes import selectors
from agora.quotes.models import Invitation, Quote, QuoteRequest, RequestStatus

# Contact details may be shared once the job is booked and paid.
CONTACT_STATUSES = frozenset({RequestStatus.ACCEPTED})


class QuoteRequestSource(SubjectSource):
    kind = SubjectKind.QUOTE_REQUEST
    unlock_phrase = "quote is accepted and paid"
    single_vendor = False

    def _subject(self, invitation: Invitation) -> Subject:
        request = invitation.request
        return Subject(
            kind=self.kind,
            id=request.pk,
            vendor_id=invitation.vendor_id,
            vendor_name=invitation.vendor.name,
            vendor_timezone=invitation.vendor.timezone,
            customer_id=request.customer_id,
            customer_name=request.customer.name,
            title=f"Quote request #{request.pk}: {request.title}",
            status=request.status,
            contact_allowed=_contact_allowed(request, invitation.vendor_id),
        )

    def _invitation(self, *, request_id: int, vendor_id: int | None) -> Invitation:
        invitations = Invitation.objects.select_related(
            "vendor", "request", "request__customer"
        ).filter(request_id=request_id)
        if vendor_id is not None:
            invitations = invitations.filter(vendor_id=vendor_id)
        found = invitations.order_by("rank", "id").first()
        if found is None:
            raise NotFound("No such quote request.")
        return found

    def visible(self, *, user: Any, subject_id: int, vendor_id: int | None) -> Subject:
        mine = QuoteRequest.objects.filter(pk=subject_id, customer_id=user.pk).exists()
        if mine:
            if vendor_id is None:
                # Several vendors: the customer must say which conversation.
                raise NotFound("Say which vendor's conversation (vendor_id).")
            return self._subject(self._invitation(request_id=subject_id, vendor_id=vendor_id))
        invitation = selectors.invitation_get_for_staff(
            user=user, request_id=subject_id, vendor_id=vendor_id
        )
        return self._subject(invitation)

    def for_operator(self, *, subject_id: int, vendor_id: int | None) -> Subject:
        return self._subject(self._invitation(request_id=subject_id, vendor_id=vendor_id))

    def summaries(self, keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], SubjectSummary]:
        ids = {subject_id for subject_id, _ in keys}
        if not ids:
            return {}
        rows = QuoteRequest.objects.filter(pk__in=ids).values_list(
            "pk", "title", "status", "accepted_quote__vendor_id"
        )
        found = {pk: (title, status, winner) for pk, title, status, winner in rows}
        result = {}
        for subject_id, vendor_id in keys:
            if subject_id not in found:
                continue
            title, status, winner = found[subject_id]
            result[(subject_id, vendor_id)] = SubjectSummary(
                title=f"Quote request #{subject_id}: {title}",
                status=status,
                contact_allowed=status in CONTACT_STATUSES and winner == vendor_id,
            )
        return result

    def customer_page(self, subject: Subject) -> str:
        return f"/account/quotes/{subject.id}/"

    def vendor_page(self, subject: Subject) -> str:
        return f"/vendor/quotes/{subject.id}/?vendor={subject.vendor_id}"


def _contact_allowed(request: QuoteRequest, vendor_id: int) -> bool:
    """Only the vendor whose quote was accepted (the job is paid) sees contact details."""
    if request.status not in CONTACT_STATUSES or request.accepted_quote_id is None:
        return False
    winner = (
        Quote.objects.filter(pk=request.accepted_quote_id).values_list("vendor_id", flat=True)
    ).first()
    return winner == vendor_id
