from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from agora.core.money import MoneySchema
from agora.core.validation import Id, Moment
from agora.quotes.models import Invitation, Quote, QuoteRequest, QuoteRevision
from agora.quotes.selectors import RequestView
from agora.vendors.schemas import StrictIn


class QuoteRequestIn(StrictIn):
    category: str = Field(min_length=1, max_length=80, examples=["plumbers"])
    title: str = Field(min_length=1, max_length=200, examples=["Leaking kitchen tap"])
    description: str = Field("", max_length=5000)
    answers: dict[str, Any] | None = Field(
        None, description="Answers to the category's questions (its `request_schema`)."
    )
    city: str | None = Field(None, max_length=80, examples=["london"])
    lat: float | None = Field(None, ge=-90, le=90)
    lng: float | None = Field(None, ge=-180, le=180)
    window_start: Moment | None = None
    window_end: Moment | None = None
    urgency: Literal["standard", "urgent", "emergency"] = "standard"
    budget: MoneySchema | None = None
    listing_id: Id | None = None


class InvitedOut(Schema):
    vendor_id: int
    score: float


class LineIn(StrictIn):
    description: str = Field(min_length=1, max_length=200)
    amount: MoneySchema


class LineOut(Schema):
    description: str
    amount: MoneySchema


class RevisionOut(Schema):
    revision: int
    price: MoneySchema
    lines: list[LineOut]
    pricing: str
    valid_until: datetime
    start: datetime | None
    duration_minutes: int | None
    message: str
    created_at: datetime

    @classmethod
    def of(cls, revision: QuoteRevision) -> RevisionOut:
        return cls(
            revision=revision.revision,
            price=MoneySchema(amount=revision.price_amount, currency=revision.currency),
            lines=_lines(revision.lines, revision.currency),
            pricing=revision.pricing,
            valid_until=revision.valid_until,
            start=revision.start,
            duration_minutes=revision.duration_minutes,
            message=revision.message,
            created_at=revision.created_at,
        )


def _lines(lines: list[dict[str, Any]], currency: str) -> list[LineOut]:
    return [
        LineOut(
            description=line["description"],
            amount=MoneySchema(amount=line["amount"], currency=currency),
        )
        for line in lines
    ]


class QuoteOut(Schema):
    id: int
    request_id: int
    vendor_id: int
    vendor_name: str
    status: str
    revision: int
    price: MoneySchema
    lines: list[LineOut]
    pricing: str
    valid_until: datetime
    start: datetime | None
    duration_minutes: int | None
    message: str
    booking_id: int | None
    created_at: datetime
    updated_at: datetime
    revisions: list[RevisionOut] = Field(
        default_factory=list, description="Every version of the terms, oldest first."
    )

    @classmethod
    def of(cls, quote: Quote, *, with_revisions: bool = True) -> QuoteOut:
        return cls(
            id=quote.pk,
            request_id=quote.request_id,
            vendor_id=quote.vendor_id,
            vendor_name=quote.vendor.name,
            status=quote.status,
            revision=quote.revision,
            price=MoneySchema(amount=quote.price_amount, currency=quote.currency),
            lines=_lines(quote.lines, quote.currency),
            pricing=quote.pricing,
            valid_until=quote.valid_until,
            start=quote.start,
            duration_minutes=quote.duration_minutes,
            message=quote.message,
            booking_id=quote.booking_id,
            created_at=quote.created_at,
            updated_at=quote.updated_at,
            revisions=[RevisionOut.of(r) for r in quote.revisions.all()] if with_revisions else [],
        )


class InvitationOut(Schema):
    """A vendor's own invitation (the vendor's view)."""

    vendor_id: int
    kind: str
    status: str
    score: float
    wave: int
    invited_at: datetime
    respond_by: datetime | None
    seen_at: datetime | None
    responded_at: datetime | None

    @classmethod
    def of(cls, invitation: Invitation) -> InvitationOut:
        return cls(
            vendor_id=invitation.vendor_id,
            kind=invitation.kind,
            status=invitation.status,
            score=invitation.score,
            wave=invitation.wave,
            invited_at=invitation.invited_at,
            respond_by=invitation.respond_by,
            seen_at=invitation.seen_at,
            responded_at=invitation.responded_at,
        )


class QuoteRequestOut(Schema):
    id: int
    status: str
    category: str
    title: str
    description: str
    answers: dict[str, Any]
    city: str | None
    lat: float | None
    lng: float | None
    window_start: datetime | None
    window_end: datetime | None
    urgency: str
    budget: MoneySchema | None
    listing_id: int | None
    assignment_mode: str
    expires_at: datetime
    created_at: datetime
    accepted_quote_id: int | None
    booking_id: int | None
    invited: list[InvitedOut] = Field(
        description="The vendors invited, with their match score (a vendor sees only its own)."
    )
    invitation: InvitationOut | None = Field(None, description="The vendor's own invitation.")
    quotes: list[QuoteOut] = Field(
        description="Every quote for the customer; a vendor's own quote for a vendor."
    )

    @classmethod
    def of(
        cls,
        request: QuoteRequest,
        *,
        invitations: list[Invitation],
        quotes: list[Quote],
        invitation: Invitation | None = None,
    ) -> QuoteRequestOut:
        budget = request.budget
        return cls(
            id=request.pk,
            status=request.status,
            category=request.category.slug,
            title=request.title,
            description=request.description,
            answers=request.answers,
            city=request.city.slug if request.city else None,
            lat=float(request.lat) if request.lat is not None else None,
            lng=float(request.lng) if request.lng is not None else None,
            window_start=request.window_start,
            window_end=request.window_end,
            urgency=request.urgency,
            budget=MoneySchema.of(budget) if budget else None,
            listing_id=request.listing_id,
            assignment_mode=request.assignment_mode,
            expires_at=request.expires_at,
            created_at=request.created_at,
            accepted_quote_id=request.accepted_quote_id,
            booking_id=request.booking_id,
            invited=[InvitedOut(vendor_id=i.vendor_id, score=i.score) for i in invitations],
            invitation=InvitationOut.of(invitation) if invitation else None,
            quotes=[QuoteOut.of(q) for q in quotes],
        )

    @classmethod
    def view(cls, view: RequestView) -> QuoteRequestOut:
        if view.role == "customer":
            invitations = sorted(view.request.invitations.all(), key=lambda i: (i.rank, i.pk))
        else:
            assert view.invitation is not None
            invitations = [view.invitation]
        return cls.of(
            view.request, invitations=invitations, quotes=view.quotes, invitation=view.invitation
        )


class QuoteIn(StrictIn):
    vendor_id: Id
    price: MoneySchema
    lines: list[LineIn] = Field(default_factory=list, max_length=50)
    pricing: Literal["fixed", "estimate"] = "fixed"
    valid_until: Moment
    start: Moment | None = None
    duration_minutes: int | None = Field(None, ge=1, le=14 * 24 * 60)
    message: str = Field("", max_length=5000)


class AcceptIn(StrictIn):
    payment_method: str = Field(min_length=1, max_length=100, examples=["pm_card_visa"])
    start: Moment | None = None
    revision: int | None = Field(
        None, ge=1, description="The revision the customer saw; a later one → 409 quote_revised."
    )


class AcceptOut(QuoteOut):
    booking_status: str


class ReasonIn(StrictIn):
    reason: str = Field("", max_length=500)


class PassIn(StrictIn):
    vendor_id: Id | None = None
    reason: str = Field("", max_length=500)


class BreakdownInvitationOut(Schema):
    vendor_id: int
    vendor_name: str
    kind: str
    status: str
    score: float
    rank: int
    wave: int
    invited_at: datetime
    respond_by: datetime | None
    seen_at: datetime | None
    responded_at: datetime | None
    breakdown: dict[str, Any] = Field(description="Why this vendor: each component's points.")


class OperatorRequestOut(QuoteRequestOut):
    customer_id: int
    invitations: list[BreakdownInvitationOut]

    @classmethod
    def operator(cls, request: QuoteRequest) -> OperatorRequestOut:
        invitations = list(request.invitations.all())
        base = QuoteRequestOut.of(
            request, invitations=invitations, quotes=list(request.quotes.all())
        )
        return cls(
            **base.model_dump(),
            customer_id=request.customer_id,
            invitations=[
                BreakdownInvitationOut(
                    vendor_id=i.vendor_id,
                    vendor_name=i.vendor.name,
                    kind=i.kind,
                    status=i.status,
                    score=i.score,
                    rank=i.rank,
                    wave=i.wave,
                    invited_at=i.invited_at,
                    respond_by=i.respond_by,
                    seen_at=i.seen_at,
                    responded_at=i.responded_at,
                    breakdown=i.breakdown,
                )
                for i in invitations
            ],
        )
