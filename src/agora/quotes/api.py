"""Quote requests, quotes and the matching engine's choices (API.md "Quotes and matching").

A request's customer sees it with every quote; an invited vendor's staff see it with their
own quote only; anyone else gets 404. Operators read every request, with each invited
vendor's score breakdown, under /operator.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from agora.accounts.auth import acting_user, bearer, operator
from agora.catalog.models import Category, City
from agora.catalog.selectors import listing_get_visible
from agora.core.pagination import PageOut
from agora.core.validation import field_error
from agora.messaging import api as messaging_api
from agora.messaging.models import SubjectKind
from agora.messaging.schemas import ReadOut, SentOut, ThreadOut
from agora.quotes import metrics, selectors
from agora.quotes.schemas import (
    AcceptIn,
    AcceptOut,
    InvitationOut,
    OperatorRequestOut,
    PassIn,
    QuoteIn,
    QuoteOut,
    QuoteRequestIn,
    QuoteRequestOut,
    ReasonIn,
)
from agora.quotes.services import offers, requests

router = Router(tags=["quotes"])
operator_router = Router(tags=["quotes"])


def _category(slug: str) -> Category:
    category = Category.objects.filter(slug=slug).first()
    if category is None:
        raise field_error("category", f"no category {slug!r}")
    return category


def _city(slug: str | None) -> City | None:
    if slug is None:
        return None
    city = City.objects.filter(slug=slug).first()
    if city is None:
        raise field_error("city", f"no city {slug!r}")
    return city


@router.post(
    "/quote-requests",
    response={201: QuoteRequestOut},
    auth=bearer,
    summary="Ask for quotes; the best-suited vendors are invited (Idempotency-Key)",
)
def quote_request_create(request: HttpRequest, payload: QuoteRequestIn) -> Status[QuoteRequestOut]:
    user = acting_user(request)
    listing = (
        listing_get_visible(user=user, listing_id=payload.listing_id)
        if payload.listing_id is not None
        else None
    )
    created = requests.quote_request_create(
        customer=user,
        category=_category(payload.category),
        title=payload.title,
        description=payload.description,
        answers=payload.answers,
        city=_city(payload.city),
        lat=payload.lat,
        lng=payload.lng,
        window_start=payload.window_start,
        window_end=payload.window_end,
        urgency=payload.urgency,
        budget=payload.budget.to_money() if payload.budget else None,
        listing=listing,
    )
    invitations = sorted(created.invitations.all(), key=lambda i: (i.rank, i.pk))
    return Status(201, QuoteRequestOut.of(created, invitations=invitations, quotes=[]))


class ViewQuery(Schema):
    vendor_id: int | None = Field(None, description="See the request as this vendor's staff.")


@router.get(
    "/quote-requests/{request_id}",
    response=QuoteRequestOut,
    auth=bearer,
    summary="A quote request (its customer: every quote; an invited vendor: its own)",
)
def quote_request_detail(
    request: HttpRequest, request_id: int, query: Query[ViewQuery]
) -> QuoteRequestOut:
    view = selectors.request_view(
        user=acting_user(request), request_id=request_id, vendor_id=query.vendor_id
    )
    if view.invitation is not None:
        offers.invitation_mark_seen(invitation=view.invitation)
    return QuoteRequestOut.view(view)


class ListQuery(Schema):
    vendor_id: int | None = Field(None, description="The invitations of a vendor I staff.")
    status: str | None = None
    cursor: str | None = None
    limit: int = Field(20, ge=1, le=100)


@router.get(
    "/quote-requests",
    response=PageOut[QuoteRequestOut],
    auth=bearer,
    summary="My quote requests, or ?vendor_id= a vendor's invitations",
)
def quote_request_list(request: HttpRequest, query: Query[ListQuery]) -> PageOut[QuoteRequestOut]:
    user = acting_user(request)
    if query.vendor_id is not None:
        page = selectors.invitations_for_vendor(
            user=user,
            vendor_id=query.vendor_id,
            status=query.status,
            cursor=query.cursor,
            limit=query.limit,
        )
        items = [
            QuoteRequestOut.of(
                invitation.request,
                invitations=[invitation],
                quotes=invitation.request.own_quotes,  # type: ignore[attr-defined]
                invitation=invitation,
            )
            for invitation in page.items
        ]
        return PageOut[QuoteRequestOut](items=items, next_cursor=page.next_cursor)
    mine = selectors.requests_for_customer(
        user=user, status=query.status, cursor=query.cursor, limit=query.limit
    )
    return PageOut[QuoteRequestOut](
        items=[
            QuoteRequestOut.of(
                r, invitations=list(r.invitations.all()), quotes=list(r.quotes.all())
            )
            for r in mine.items
        ],
        next_cursor=mine.next_cursor,
    )


@router.post(
    "/quote-requests/{request_id}/quotes",
    response={201: QuoteOut},
    auth=bearer,
    summary="Quote on a request I was invited to (again: a revision)",
)
def quote_offer(request: HttpRequest, request_id: int, payload: QuoteIn) -> Status[QuoteOut]:
    user = acting_user(request)
    invitation = selectors.invitation_get_for_staff(
        user=user, request_id=request_id, vendor_id=payload.vendor_id
    )
    quote = offers.quote_offer(
        actor=user,
        invitation=invitation,
        terms=offers.QuoteTerms(
            price=payload.price.to_money(),
            valid_until=payload.valid_until,
            lines=tuple((line.description, line.amount.to_money()) for line in payload.lines),
            pricing=payload.pricing,
            start=payload.start,
            duration_minutes=payload.duration_minutes,
            message=payload.message,
        ),
    )
    return Status(201, QuoteOut.of(quote))


@router.post(
    "/quote-requests/{request_id}/pass",
    response=InvitationOut,
    auth=bearer,
    summary="Decline to quote (or pass on an assigned job)",
)
def invitation_pass(
    request: HttpRequest, request_id: int, payload: PassIn | None = None
) -> InvitationOut:
    user = acting_user(request)
    invitation = selectors.invitation_get_for_staff(
        user=user, request_id=request_id, vendor_id=payload.vendor_id if payload else None
    )
    return InvitationOut.of(
        offers.invitation_pass(
            actor=user, invitation=invitation, reason=payload.reason if payload else ""
        )
    )


@router.post(
    "/quote-requests/{request_id}/cancel",
    response=QuoteRequestOut,
    auth=bearer,
    summary="Cancel my quote request",
)
def quote_request_cancel(
    request: HttpRequest, request_id: int, payload: ReasonIn | None = None
) -> QuoteRequestOut:
    user = acting_user(request)
    found = selectors.request_get_for_customer(user=user, request_id=request_id)
    cancelled = requests.quote_request_cancel(
        customer=user, request=found, reason=payload.reason if payload else ""
    )
    return QuoteRequestOut.view(selectors.request_view(user=user, request_id=cancelled.pk))


@router.post(
    "/quotes/{quote_id}/accept",
    response=AcceptOut,
    auth=bearer,
    summary="Accept a quote: a booking held and paid at once (Idempotency-Key)",
)
def quote_accept(request: HttpRequest, quote_id: int, payload: AcceptIn) -> AcceptOut:
    user = acting_user(request)
    quote = selectors.quote_get_for_customer(user=user, quote_id=quote_id)
    key = request.headers.get("Idempotency-Key") or f"accept-{quote.pk}"
    accepted = offers.quote_accept(
        customer=user,
        quote=quote,
        payment_method=payload.payment_method,
        idempotency_key=key,
        start=payload.start,
        revision=payload.revision,
    )
    out = QuoteOut.of(accepted.quote)
    return AcceptOut(**out.model_dump(), booking_status=accepted.booking.status)


@router.post(
    "/quotes/{quote_id}/withdraw",
    response=QuoteOut,
    auth=bearer,
    summary="Withdraw my vendor's quote",
)
def quote_withdraw(
    request: HttpRequest, quote_id: int, payload: ReasonIn | None = None
) -> QuoteOut:
    user = acting_user(request)
    quote = selectors.quote_get_for_staff(user=user, quote_id=quote_id)
    return QuoteOut.of(
        offers.quote_withdraw(actor=user, quote=quote, reason=payload.reason if payload else "")
    )


@router.get(
    "/vendors/{vendor_id}/quote-metrics",
    response=metrics.VendorMetricsOut,
    auth=bearer,
    summary="My vendor's response time, acceptance and win rates, with the category median",
)
def vendor_quote_metrics(request: HttpRequest, vendor_id: int) -> metrics.VendorMetricsOut:
    return metrics.VendorMetricsOut.of(
        metrics.vendor_metrics(user=acting_user(request), vendor_id=vendor_id)
    )


# --- conversations (one per invited vendor: `vendor_id` says which) ---------------------------
# Served by the messaging app's handlers, with the quote request as their subject.


@router.get(
    "/quote-requests/{request_id}/messages",
    response=ThreadOut,
    auth=bearer,
    summary="The conversation about a quote request with one invited vendor (newest first)",
)
def quote_request_messages(
    request: HttpRequest, request_id: int, query: Query[messaging_api.ThreadQuery]
) -> ThreadOut:
    return messaging_api._thread(request, SubjectKind.QUOTE_REQUEST, request_id, query)


@router.post(
    "/quote-requests/{request_id}/messages",
    response={201: SentOut},
    auth=bearer,
    summary="Write about a quote request (the customer names the vendor with vendor_id)",
    openapi_extra=messaging_api._POST_DOC,
)
def quote_request_message_send(request: HttpRequest, request_id: int) -> Status[SentOut]:
    return messaging_api._send(request, SubjectKind.QUOTE_REQUEST, request_id)


@router.post(
    "/quote-requests/{request_id}/messages/read",
    response=ReadOut,
    auth=bearer,
    summary="Mark a quote request's conversation read for my side",
)
def quote_request_messages_read(
    request: HttpRequest, request_id: int, payload: messaging_api.ReadIn | None = None
) -> ReadOut:
    return messaging_api._read(request, SubjectKind.QUOTE_REQUEST, request_id, payload)


# --- operators --------------------------------------------------------------------------------


class OperatorListQuery(Schema):
    status: str | None = None
    cursor: str | None = None
    limit: int = Field(20, ge=1, le=100)


@operator_router.get(
    "/operator/quote-requests",
    response=PageOut[OperatorRequestOut],
    auth=operator,
    summary="Every quote request with its matches and why each vendor was chosen",
)
def operator_quote_requests(
    request: HttpRequest, query: Query[OperatorListQuery]
) -> PageOut[OperatorRequestOut]:
    page = selectors.requests_for_operator(
        user=acting_user(request), status=query.status, cursor=query.cursor, limit=query.limit
    )
    return PageOut[OperatorRequestOut](
        items=[OperatorRequestOut.operator(r) for r in page.items], next_cursor=page.next_cursor
    )


@operator_router.get(
    "/operator/quote-requests/{request_id}",
    response=OperatorRequestOut,
    auth=operator,
    summary="A quote request with every invitation's score breakdown",
)
def operator_quote_request(request: HttpRequest, request_id: int) -> OperatorRequestOut:
    return OperatorRequestOut.operator(
        selectors.request_get_for_operator(user=acting_user(request), request_id=request_id)
    )


@operator_router.get(
    "/operator/quote-stats",
    response=metrics.PlatformStatsOut,
    auth=operator,
    summary="Time to first quote, quotes per request, conversion, unanswered requests",
)
def operator_quote_stats(request: HttpRequest) -> metrics.PlatformStatsOut:
    return metrics.PlatformStatsOut.of(metrics.platform_stats(user=acting_user(request)))
