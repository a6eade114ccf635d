"""Review writes: create, edit, reply, moderate. Every rating change happens here, in the
transaction of the review change that causes it (see ratings.py).

Each service locks the row it decides about first — the booking or vendor order for a new
review, the review itself afterwards — so two requests about the same thing queue
(PostgreSQL: SELECT ... FOR UPDATE; SQLite: BEGIN IMMEDIATE's single writer) and the second
decides on what the first left: a second review of one booking is `already_reviewed`, and
an edit racing a moderation cannot count a rating twice or lose it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from agora.accounts.models import User
from agora.bookings.models import Booking, BookingStatus
from agora.bookings.services.lifecycle import booking_mark_reviewed
from agora.core import clock
from agora.core.audit import audit_log
from agora.core.errors import Conflict, Forbidden, InvalidTransition, NotFound
from agora.core.locking import lock_row, retry_when_busy
from agora.core.statemachine import StateMachine
from agora.core.validation import field_error
from agora.notifications import outbox
from agora.orders.models import VendorOrder
from agora.reviews import fraud, quality, ratings
from agora.reviews.errors import (
    ReviewError,
    ReviewErrorCode,
    already_reviewed,
    not_reviewable,
)
from agora.reviews.models import Review, ReviewRevision, ReviewStatus
from agora.reviews.selectors import REVIEWABLE_ORDER_STATUSES, order_finished_at, review_window
from agora.reviews.text import check_rating, clean_reply_text, clean_review_text
from agora.vendors.models import Vendor
from agora.vendors.selectors import MANAGER_ROLES, staff_context_get

S = ReviewStatus
REVIEW_MODERATION = StateMachine.of(
    "review",
    {
        S.PUBLISHED: [S.FLAGGED, S.HIDDEN],
        S.FLAGGED: [S.PUBLISHED, S.HIDDEN],
        S.HIDDEN: [S.PUBLISHED],
    },
)
MODERATION_ACTIONS = ("approve", "hide", "ban")

# How much of a review's or a reply's text its notification quotes.
QUOTE_CHARS = 300


def _quote(text: str) -> str:
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1].rstrip() + "…"


def _first_name(name: str) -> str:
    parts = name.split()
    return parts[0] if parts else ""


def _announce_published(review: Review, *, vendor: Vendor, author: User) -> None:
    """`review.published`: the vendor's staff hear of a review now shown on their page."""
    page = f"/v/{vendor.slug}/"
    outbox.emit(
        "review.published",
        subject=review,
        data={
            "id": review.pk,
            "status": review.status,
            "rating": review.rating,
            "text": _quote(review.text),
            "reviewer_name": _first_name(author.name),
            "vendor_name": vendor.name,
            "kind": "booking" if review.booking_id else "order",
            "url": page,
            "vendor_url": page,
        },
        user_id=review.author_id,
        vendor_id=review.vendor_id,
    )


def _move(
    review: Review,
    target: str,
    *,
    actor: User | None,
    action: str,
    reason: str = "",
    data: dict[str, Any] | None = None,
    updates: dict[str, Any] | None = None,
) -> Review:
    """Change a review's status (audited) and its ratings with it, in one transaction."""
    was_published = review.is_published
    REVIEW_MODERATION.apply(
        review, target, actor=actor, action=action, reason=reason, data=data, updates=updates
    )
    if was_published != review.is_published:
        ratings.published(review, 1 if review.is_published else -1)
    return review


# --- create ---------------------------------------------------------------------------------


def _check_window(finished_at: Any) -> None:
    if finished_at is None or clock.now() > finished_at + review_window():
        raise not_reviewable(
            f"Reviews are accepted for {settings.AGORA_REVIEW_WINDOW_DAYS} days after "
            "completion; this one's window has closed."
        )


def _locked_booking(*, author: User, booking_id: int) -> Booking:
    # Only the booking's row: a select_related here would lock the vendor's row too.
    booking = lock_row(Booking.objects.filter(pk=booking_id, customer_id=author.pk))
    if booking is None:
        raise NotFound("No such booking.")
    if booking.status == BookingStatus.REVIEWED or Review.objects.filter(booking=booking).exists():
        raise already_reviewed()
    if booking.status != BookingStatus.COMPLETED:
        raise not_reviewable(
            f"Only a completed booking can be reviewed; this one is {booking.status}."
        )
    _check_window(booking.completed_at)
    return booking


def _locked_order(*, author: User, order_id: int) -> VendorOrder:
    order = lock_row(VendorOrder.objects.filter(pk=order_id, customer_id=author.pk))
    if order is None:
        raise NotFound("No such order.")
    if Review.objects.filter(vendor_order=order).exists():
        raise already_reviewed()
    if order.status not in REVIEWABLE_ORDER_STATUSES:
        raise not_reviewable(f"Only a delivered order can be reviewed; this one is {order.status}.")
    _check_window(order_finished_at(order))
    return order


def _order_listing_id(order: VendorOrder) -> int | None:
    """An order review rates its listing too when the order is of one listing."""
    listing_ids = set(order.lines.values_list("listing_id", flat=True))
    return listing_ids.pop() if len(listing_ids) == 1 else None


@retry_when_busy()
def review_create(
    *,
    author: User,
    booking_id: int | None = None,
    order_id: int | None = None,
    rating: int,
    text: str,
    ip_address: str | None = None,
    user_agent: str = "",
) -> Review:
    """Review a completed booking or a delivered vendor order of `author`'s, once.

    Refusals: someone else's or missing → NotFound; not finished yet or past the window →
    409 not_reviewable; reviewed before → 409 already_reviewed; bad rating or text → 422.
    """
    if (booking_id is None) == (order_id is None):
        raise field_error("booking_id", "give either booking_id or order_id", "one_of")
    check_rating(rating)
    text = clean_review_text(text)

    booking: Booking | None = None
    order: VendorOrder | None = None
    listing_id: int | None
    if booking_id is not None:
        booking = _locked_booking(author=author, booking_id=booking_id)
        vendor, listing_id = booking.vendor, booking.listing_id
    else:
        assert order_id is not None
        order = _locked_order(author=author, order_id=order_id)
        vendor, listing_id = order.vendor, _order_listing_id(order)

    signals = fraud.collect(author=author, ip_address=ip_address, user_agent=user_agent)
    verdict = fraud.judge(vendor=vendor, author=author, text=text, signals=signals)
    try:
        with transaction.atomic():
            review = Review.objects.create(
                vendor=vendor,
                listing_id=listing_id,
                booking=booking,
                vendor_order=order,
                author=author,
                rating=rating,
                text=text,
                status=ReviewStatus.FLAGGED if verdict.flagged else ReviewStatus.PUBLISHED,
            )
    except IntegrityError as error:  # the unique booking / order: a concurrent twin won
        raise already_reviewed() from error
    fraud.record(review=review, signals=signals, verdict=verdict)
    audit_log(
        actor=author,
        action="review.created",
        target=review,
        data={"rating": rating, "status": review.status, "reasons": verdict.reasons},
    )
    if booking is not None:
        booking_mark_reviewed(actor=author, booking=booking, review_id=review.pk)
    if review.is_published:
        ratings.published(review)
        _announce_published(review, vendor=vendor, author=author)
    _flag_siblings(review, verdict)
    quality.check_rating(vendor.pk)
    return review


def _flag_siblings(review: Review, verdict: fraud.Verdict) -> None:
    """Reviews the new one shows to be part of a pattern (several accounts on one network)
    go back to the queue too — unless an operator has already approved them."""
    for sibling in (
        Review.objects.filter(pk__in=verdict.also_flag, status=ReviewStatus.PUBLISHED)
        .filter(moderated_at__isnull=True)
        .order_by("pk")
    ):
        locked = lock_row(Review.objects.filter(pk=sibling.pk, status=ReviewStatus.PUBLISHED))
        if locked is None:
            continue
        fraud.add_reasons(review_id=locked.pk, reasons=[fraud.SHARED_NETWORK], related={review.pk})
        _move(
            locked,
            ReviewStatus.FLAGGED,
            actor=None,
            action="review.flagged",
            reason=fraud.SHARED_NETWORK,
            data={"by_review": review.pk},
        )


# --- edit and reply -------------------------------------------------------------------------


def _locked_review(review_id: int) -> Review:
    review = lock_row(Review.objects.filter(pk=review_id))
    if review is None:
        raise NotFound("No such review.")
    return review


@retry_when_busy()
def review_edit(*, author: User, review_id: int, rating: int, text: str) -> Review:
    """The author changes rating and text within AGORA_REVIEW_EDIT_HOURS of writing; the
    previous version is kept as a revision."""
    check_rating(rating)
    text = clean_review_text(text)
    review = _locked_review(review_id)
    if review.author_id != author.pk:
        raise NotFound("No such review.")
    if review.status == ReviewStatus.HIDDEN:
        raise ReviewError("A hidden review cannot be edited.", code=ReviewErrorCode.NOT_EDITABLE)
    hours = settings.AGORA_REVIEW_EDIT_HOURS
    if clock.now() > review.created_at + timedelta(hours=hours):
        raise ReviewError(
            f"A review can be edited for {hours} hours after it was written.",
            code=ReviewErrorCode.EDIT_WINDOW_CLOSED,
        )
    now = clock.now()
    ReviewRevision.objects.create(
        review=review,
        rating=review.rating,
        text=review.text,
        written_at=review.edited_at or review.created_at,
        replaced_at=now,
    )
    old_rating = review.rating
    Review.objects.filter(pk=review.pk).update(rating=rating, text=text, edited_at=now)
    review.rating, review.text, review.edited_at = rating, text, now
    audit_log(
        actor=author,
        action="review.edited",
        target=review,
        data={"rating": [old_rating, rating]},
    )
    if review.is_published and old_rating != rating:
        ratings.apply(
            vendor_id=review.vendor_id,
            listing_id=review.listing_id,
            delta=ratings.Delta().add(old_rating, -1).add(rating),
        )
    verdict = fraud.judge_text(review=review, text=text)
    if verdict.flagged:
        fraud.add_reasons(review_id=review.pk, reasons=verdict.reasons, related=verdict.related)
        if review.is_published:
            _move(
                review,
                ReviewStatus.FLAGGED,
                actor=None,
                action="review.flagged",
                reason=", ".join(verdict.reasons),
            )
    quality.check_rating(review.vendor_id)
    return review


@retry_when_busy()
def review_reply(*, user: User, review_id: int, text: str) -> Review:
    """The vendor answers a published review, once (owner or manager)."""
    text = clean_reply_text(text)
    review = _locked_review(review_id)
    if review.status != ReviewStatus.PUBLISHED:
        raise NotFound("No such review.")
    context = staff_context_get(user=user, vendor_id=review.vendor_id, roles=MANAGER_ROLES)
    if review.reply_text:
        raise ReviewError(
            "The vendor has already replied to this review.",
            code=ReviewErrorCode.ALREADY_REPLIED,
        )
    now = clock.now()
    Review.objects.filter(pk=review.pk).update(reply_text=text, replied_at=now, replied_by=user)
    review.reply_text, review.replied_at, review.replied_by = text, now, user
    audit_log(actor=user, action="review.replied", target=review)
    vendor = context.vendor
    outbox.emit(
        "review.replied",
        subject=review,
        data={
            "id": review.pk,
            "status": review.status,
            "rating": review.rating,
            "reply": _quote(text),
            "vendor_name": vendor.name,
            "url": "/account/reviews/",
            "review_url": f"/v/{vendor.slug}/",
        },
        user_id=review.author_id,
        vendor_id=review.vendor_id,
    )
    return review


# --- moderation -----------------------------------------------------------------------------


@retry_when_busy()
def review_moderate(*, operator: User, review_id: int, action: str, reason: str = "") -> Review:
    """approve (flagged or hidden → published), hide (→ hidden, reason required) or ban
    (the author's account is deactivated and every review of theirs hidden)."""
    if not operator.is_operator:
        raise Forbidden("Only operators moderate reviews.")
    if action not in MODERATION_ACTIONS:
        raise field_error("action", f"one of {', '.join(MODERATION_ACTIONS)}", "enum")
    reason = reason.strip()[:500]
    if action in ("hide", "ban") and not reason:
        raise field_error("reason", "say why, for the audit trail", "missing")
    review = _locked_review(review_id)
    now = clock.now()
    moderated = {"moderated_at": now, "moderated_by": operator, "moderation_reason": reason}
    if action == "approve":
        _move(
            review,
            ReviewStatus.PUBLISHED,
            actor=operator,
            action="review.approved",
            reason=reason,
            updates=moderated,
        )
        # Shown on the vendor's page from now on: the vendor hears of it as of a new one.
        # (One query for the names; approving is an operator's action, not a hot path.)
        named = Review.objects.select_related("vendor", "author").get(pk=review.pk)
        _announce_published(review, vendor=named.vendor, author=named.author)
        return review
    if action == "hide":
        return _move(
            review,
            ReviewStatus.HIDDEN,
            actor=operator,
            action="review.hidden",
            reason=reason,
            updates=moderated,
        )
    return _ban(operator=operator, review=review, reason=reason, moderated=moderated)


def _ban(*, operator: User, review: Review, reason: str, moderated: dict[str, Any]) -> Review:
    author = lock_row(User.objects.filter(pk=review.author_id))
    assert author is not None
    if author.is_operator:
        raise Conflict("An operator's account cannot be banned from here.")
    if author.is_active:
        User.objects.filter(pk=author.pk).update(is_active=False)
        audit_log(
            actor=operator,
            action="user.banned",
            target=author,
            data={"reason": reason, "review_id": review.pk},
        )
    for other in (
        Review.objects.filter(author=author).exclude(status=ReviewStatus.HIDDEN).order_by("pk")
    ):
        locked = lock_row(Review.objects.filter(pk=other.pk))
        if locked is None or locked.status == ReviewStatus.HIDDEN:
            continue
        try:
            _move(
                locked,
                ReviewStatus.HIDDEN,
                actor=operator,
                action="review.hidden",
                reason=reason,
                data={"ban": True},
                updates=moderated,
            )
        except InvalidTransition:  # pragma: no cover - locked above, cannot move under us
            continue
    review.refresh_from_db()
    return review
