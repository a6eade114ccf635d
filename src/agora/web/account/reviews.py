"""Reviews: what the customer can still review, writing one (rating 1–5 and text) and
editing it within the edit window. The same services as the reviews API."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from agora.bookings import selectors as booking_selectors
from agora.core import clock
from agora.core.errors import DomainError, NotFound
from agora.orders import selectors as order_selectors
from agora.reviews import services
from agora.reviews.models import Review, ReviewStatus
from agora.reviews.selectors import review_get_visible, reviewable_for_user
from agora.web.access import customer_required
from agora.web.account import display
from agora.web.account.common import customer
from agora.web.account.forms import ReviewForm
from agora.web.account.refusals import attach_to_form

KINDS = ("booking", "order")


def _edit_window() -> timedelta:
    return timedelta(hours=settings.AGORA_REVIEW_EDIT_HOURS)


def _editable(review: Review) -> bool:
    return (
        review.status != ReviewStatus.HIDDEN and clock.now() <= review.created_at + _edit_window()
    )


@customer_required
@require_safe
def review_list(request: HttpRequest) -> HttpResponse:
    mine = list(
        Review.objects.filter(author=customer(request))
        .select_related("vendor", "listing")
        .order_by("-created_at", "-id")[:50]
    )
    return render(
        request,
        "web/account/reviews.html",
        {
            "page_title": "My reviews",
            "reviewable": [
                {
                    "item": item,
                    "finished": display.local_time(item.completed_at, item.vendor.timezone),
                    "review_by": display.local_time(item.review_by, item.vendor.timezone),
                }
                for item in reviewable_for_user(user=customer(request))
            ],
            "mine": [
                {
                    "review": review,
                    "stars": "★" * review.rating + "☆" * (5 - review.rating),
                    "written": display.local_time(review.created_at, review.vendor.timezone),
                    "editable": _editable(review),
                    "edit_until": display.local_time(
                        review.created_at + _edit_window(), review.vendor.timezone
                    ),
                }
                for review in mine
            ],
            "edit_hours": settings.AGORA_REVIEW_EDIT_HOURS,
        },
    )


def _subject(request: HttpRequest, kind: str, object_id: int) -> tuple[str, str]:
    """What is being reviewed (title, vendor name); 404 unless it is the customer's."""
    if kind == "booking":
        booking = booking_selectors.booking_get_for_customer(
            user=customer(request), booking_id=object_id
        )
        return booking.listing.title, booking.vendor.name
    if kind == "order":
        order = order_selectors.order_get_for_customer(user=customer(request), order_id=object_id)
        lines = list(order.lines.all())
        title = lines[0].title if len(lines) == 1 else f"Order {order.pk} ({len(lines)} items)"
        return title, order.vendor.name
    raise NotFound("Nothing to review there.")


@customer_required
@require_http_methods(["GET", "HEAD", "POST"])
def review_new(request: HttpRequest, kind: str, object_id: int) -> HttpResponse:
    title, vendor_name = _subject(request, kind, object_id)
    form = ReviewForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                review = services.review_create(
                    author=customer(request),
                    booking_id=object_id if kind == "booking" else None,
                    order_id=object_id if kind == "order" else None,
                    rating=form.cleaned_data["rating"],
                    text=form.cleaned_data["text"],
                    ip_address=request.META.get("REMOTE_ADDR"),
                    user_agent=request.headers.get("User-Agent", "")[:300],
                )
            except DomainError as error:
                attach_to_form(form, error)
                status = error.status
            else:
                if review.status == ReviewStatus.PUBLISHED:
                    messages.success(request, "Thank you — your review is published.")
                else:
                    messages.success(
                        request, "Thank you — your review will appear once it has been checked."
                    )
                return redirect("web:account-reviews")
        else:
            status = 400
    return render(
        request,
        "web/account/review_form.html",
        {
            "page_title": f"Review {title}",
            "form": form,
            "title": title,
            "vendor_name": vendor_name,
            "editing": False,
        },
        status=status,
    )


@customer_required
@require_http_methods(["GET", "HEAD", "POST"])
def review_edit(request: HttpRequest, review_id: int) -> HttpResponse:
    review = review_get_visible(user=customer(request), review_id=review_id)
    if review.author_id != customer(request).pk:
        raise NotFound("No such review.")
    status = 200
    if request.method == "POST":
        form = ReviewForm(request.POST)
        if form.is_valid():
            try:
                services.review_edit(
                    author=customer(request),
                    review_id=review.pk,
                    rating=form.cleaned_data["rating"],
                    text=form.cleaned_data["text"],
                )
            except DomainError as error:
                attach_to_form(form, error)
                status = error.status
            else:
                messages.success(request, "Your review is updated.")
                return redirect("web:account-reviews")
        else:
            status = 400
    else:
        form = ReviewForm(initial={"rating": review.rating, "text": review.text})
    return render(
        request,
        "web/account/review_form.html",
        {
            "page_title": "Edit your review",
            "form": form,
            "title": review.listing.title if review.listing else f"Order at {review.vendor.name}",
            "vendor_name": review.vendor.name,
            "editing": True,
            "editable": _editable(review),
            "edit_until": display.local_time(
                review.created_at + _edit_window(), review.vendor.timezone
            ),
        },
        status=status,
    )
