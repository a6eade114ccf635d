"""Quote pages: the customer's requests with their quotes side by side (and the form that
asks), the vendor's invitations with a quote form, the operator's view of every request
with why each vendor was chosen. The same services and selectors as the API."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from agora.catalog.models import Category, City, Listing, ListingKind
from agora.catalog.selectors import listing_get_visible
from agora.core import clock
from agora.core.errors import DomainError, InvalidInput, NotFound
from agora.core.money import CURRENCY_EXPONENTS, Money
from agora.quotes import metrics, selectors
from agora.quotes.models import Quote, QuoteRequest
from agora.quotes.services import offers, requests
from agora.web.access import customer_required, operator_required, vendor_staff_required
from agora.web.account.common import customer
from agora.web.vendor_portal.current import current_staff_context

PAYMENT_METHODS = [("pm_card_visa", "Visa ending 4242"), ("pm_card_mastercard", "Mastercard")]
URGENCIES = [("standard", "Standard"), ("urgent", "Urgent"), ("emergency", "Emergency")]


def _money(text: str, currency: str, field: str) -> Money | None:
    text = text.strip().replace(",", "").lstrip("£€$")
    if not text:
        return None
    try:
        major = Decimal(text)
    except InvalidOperation:
        raise InvalidInput(
            "Give an amount such as 120.00.",
            errors=[{"loc": ["body", field], "msg": "not an amount", "type": "decimal"}],
        ) from None
    return Money(int((major * 10 ** CURRENCY_EXPONENTS[currency]).to_integral_value()), currency)


def _moment(text: str, zone: str, field: str) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            "Give a date and time.",
            errors=[{"loc": ["body", field], "msg": "not a date and time", "type": "datetime"}],
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo(zone))


def _questions(schema: dict[str, Any], answers: dict[str, Any]) -> list[dict[str, Any]]:
    """The category's questions as form fields (enum → choice, boolean → yes/no, number,
    text), with what was answered."""
    required = set(schema.get("required", []))
    fields = []
    for name, spec in schema.get("properties", {}).items():
        kind = "text"
        if "enum" in spec:
            kind = "choice"
        elif spec.get("type") == "boolean":
            kind = "boolean"
        elif spec.get("type") in ("integer", "number"):
            kind = "number"
        fields.append(
            {
                "name": name,
                "label": spec.get("title") or name.replace("_", " ").capitalize(),
                "kind": kind,
                "choices": spec.get("enum", []),
                "required": name in required,
                "value": answers.get(name, ""),
            }
        )
    return fields


def _answers(post: Any, schema: dict[str, Any]) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for name, spec in schema.get("properties", {}).items():
        raw = post.get(f"answer_{name}", "").strip()
        if raw == "":
            continue
        if spec.get("type") == "boolean":
            answers[name] = raw == "yes"
        elif spec.get("type") == "integer":
            answers[name] = int(raw) if raw.lstrip("-").isdigit() else raw
        else:
            answers[name] = raw
    return answers


# --- the customer ------------------------------------------------------------------------------


def _ask_target(request: HttpRequest, listing_id: int | None) -> tuple[Category, Listing | None]:
    if listing_id is not None:
        listing = listing_get_visible(user=customer(request), listing_id=listing_id)
        return listing.category, listing
    slug = request.GET.get("category") or request.POST.get("category") or ""
    category = Category.objects.filter(slug=slug).first()
    if category is None:
        raise NotFound("No such category.")
    return category, None


@customer_required
def quote_ask(request: HttpRequest, listing_id: int | None = None) -> HttpResponse:
    """The form that asks for quotes: of one quote listing's vendor, or (`?category=`) of
    the best-suited vendors in a category."""
    category, listing = _ask_target(request, listing_id)
    if listing is not None and listing.kind == ListingKind.SERVICE:
        return redirect("web:account-book", listing_id=listing.pk)
    settings = selectors.quote_settings(category=category)
    zone = listing.vendor.timezone if listing else "Europe/London"
    errors: list[dict[str, Any]] = []
    form: dict[str, Any] = {}
    if request.method == "POST":
        form = request.POST.dict()
        try:
            currency = listing.currency if listing else "GBP"
            city = City.objects.filter(slug=form.get("city", "")).first()
            created = requests.quote_request_create(
                customer=customer(request),
                category=category,
                title=form.get("title", "").strip() or category.name,
                description=form.get("description", ""),
                answers=_answers(request.POST, settings.request_schema),
                city=city,
                window_start=_moment(form.get("window_start", ""), zone, "window_start"),
                window_end=_moment(form.get("window_end", ""), zone, "window_end"),
                urgency=form.get("urgency", "standard")
                if form.get("urgency") in dict(URGENCIES)
                else "standard",
                budget=_money(form.get("budget", ""), currency, "budget"),
                listing=listing,
            )
        except DomainError as error:
            errors = list(error.extra.get("errors", [])) or [{"msg": error.detail}]
        else:
            messages.success(request, "Your request is out: we will tell you as quotes arrive.")
            return redirect(f"/account/quotes/{created.pk}/")
    return render(
        request,
        "web/account/quote.html",
        {
            "page_title": f"Ask for a quote: {listing.title if listing else category.name}",
            "listing": listing,
            "vendor": listing.vendor if listing else None,
            "category": category,
            "questions": _questions(settings.request_schema, form),
            "cities": City.objects.order_by("name"),
            "urgencies": URGENCIES,
            "form": form,
            "errors": errors,
        },
        status=422 if errors else 200,
    )


@customer_required
@require_safe
def request_list(request: HttpRequest) -> HttpResponse:
    page = selectors.requests_for_customer(
        user=customer(request), status=None, cursor=request.GET.get("cursor"), limit=20
    )
    return render(
        request,
        "web/quotes/customer_list.html",
        {"page_title": "Your quote requests", "page": page},
    )


@customer_required
@require_safe
def request_detail(request: HttpRequest, request_id: int) -> HttpResponse:
    view = selectors.request_view(user=customer(request), request_id=request_id)
    if view.role != "customer":
        raise NotFound("No such quote request.")
    live = [q for q in view.quotes if q.status == "offered"]
    return render(
        request,
        "web/quotes/customer_detail.html",
        {
            "page_title": f"Quotes: {view.request.title}",
            "qr": view.request,
            "quotes": view.quotes,
            "offered": live,
            "invitations": sorted(view.request.invitations.all(), key=lambda i: i.rank),
            "payment_methods": PAYMENT_METHODS,
            "now": clock.now(),
        },
    )


@customer_required
@require_POST
def quote_accept(request: HttpRequest, request_id: int, quote_id: int) -> HttpResponse:
    quote = selectors.quote_get_for_customer(user=customer(request), quote_id=quote_id)
    if quote.request_id != request_id:
        raise NotFound("No such quote.")
    try:
        accepted = offers.quote_accept(
            customer=customer(request),
            quote=quote,
            payment_method=request.POST.get("payment_method", "pm_card_visa"),
            idempotency_key=request.POST.get("attempt", "") or f"page-{quote.pk}",
            revision=int(request.POST["revision"]) if request.POST.get("revision") else None,
        )
    except DomainError as error:
        messages.error(request, error.detail)
        return redirect(f"/account/quotes/{request_id}/")
    messages.success(request, "Accepted and paid: your booking is confirmed.")
    return redirect(f"/account/bookings/{accepted.booking.pk}/")


@customer_required
@require_POST
def request_cancel(request: HttpRequest, request_id: int) -> HttpResponse:
    found = selectors.request_get_for_customer(user=customer(request), request_id=request_id)
    try:
        requests.quote_request_cancel(
            customer=customer(request), request=found, reason=request.POST.get("reason", "")
        )
    except DomainError as error:
        messages.error(request, error.detail)
    return redirect(f"/account/quotes/{request_id}/")


# --- the vendor --------------------------------------------------------------------------------


@vendor_staff_required
@require_safe
def invitation_list(request: HttpRequest) -> HttpResponse:
    staff = current_staff_context(request)
    page = selectors.invitations_for_vendor(
        user=request.user,
        vendor_id=staff.vendor.pk,
        status=request.GET.get("status") or None,
        cursor=request.GET.get("cursor"),
        limit=20,
    )
    found = metrics.vendor_metrics(user=request.user, vendor_id=staff.vendor.pk)
    return render(
        request,
        "web/quotes/vendor_list.html",
        {"page_title": "Quote requests", "staff": staff, "page": page, "metrics": found},
    )


def _vendor_detail(request: HttpRequest, request_id: int, **extra: Any) -> HttpResponse:
    staff = current_staff_context(request)
    view = selectors.request_view(
        user=request.user, request_id=request_id, vendor_id=staff.vendor.pk
    )
    assert view.invitation is not None
    offers.invitation_mark_seen(invitation=view.invitation)
    quote = view.quotes[0] if view.quotes else None
    defaults = {
        "price": f"{quote.price_amount / 100:.2f}" if quote else "",
        "valid_days": "3",
        "duration_minutes": str(quote.duration_minutes or "") if quote else "60",
        "message": quote.message if quote else "",
    }
    return render(
        request,
        "web/quotes/vendor_detail.html",
        {
            "page_title": f"Quote request: {view.request.title}",
            "staff": staff,
            "qr": view.request,
            "invitation": view.invitation,
            "quote": quote,
            "form": {**defaults, **extra.pop("form", {})},
            **extra,
        },
        status=422 if extra.get("errors") else 200,
    )


@vendor_staff_required
@require_safe
def invitation_detail(request: HttpRequest, request_id: int) -> HttpResponse:
    return _vendor_detail(request, request_id)


@vendor_staff_required
@require_POST
def quote_send(request: HttpRequest, request_id: int) -> HttpResponse:
    staff = current_staff_context(request)
    invitation = selectors.invitation_get_for_staff(
        user=request.user, request_id=request_id, vendor_id=staff.vendor.pk
    )
    form = request.POST.dict()
    try:
        price = _money(form.get("price", ""), staff.vendor.currency, "price")
        if price is None:
            raise InvalidInput(
                "Give the price.", errors=[{"loc": ["body", "price"], "msg": "required"}]
            )
        days = int(form.get("valid_days") or 3)
        duration = int(form["duration_minutes"]) if form.get("duration_minutes") else None
        offers.quote_offer(
            actor=request.user,  # type: ignore[arg-type]
            invitation=invitation,
            terms=offers.QuoteTerms(
                price=price,
                valid_until=clock.now() + timedelta(days=max(1, min(days, 90))),
                pricing=form.get("pricing", "fixed"),
                start=_moment(form.get("start", ""), staff.vendor.timezone, "start"),
                duration_minutes=duration,
                message=form.get("message", ""),
            ),
        )
    except (DomainError, ValueError) as error:
        detail = error.detail if isinstance(error, DomainError) else "Check the numbers."
        return _vendor_detail(request, request_id, form=form, errors=[{"msg": detail}])
    messages.success(request, "Your quote is with the customer.")
    return redirect(f"/vendor/quotes/{request_id}/?vendor={staff.vendor.pk}")


@vendor_staff_required
@require_POST
def invitation_pass(request: HttpRequest, request_id: int) -> HttpResponse:
    staff = current_staff_context(request)
    invitation = selectors.invitation_get_for_staff(
        user=request.user, request_id=request_id, vendor_id=staff.vendor.pk
    )
    try:
        offers.invitation_pass(actor=request.user, invitation=invitation)  # type: ignore[arg-type]
    except DomainError as error:
        messages.error(request, error.detail)
    return redirect(f"/vendor/quotes/?vendor={staff.vendor.pk}")


@vendor_staff_required
@require_POST
def quote_withdraw(request: HttpRequest, request_id: int) -> HttpResponse:
    staff = current_staff_context(request)
    quote = Quote.objects.filter(request_id=request_id, vendor_id=staff.vendor.pk).first()
    if quote is None:
        raise NotFound("No such quote.")
    try:
        offers.quote_withdraw(actor=request.user, quote=quote)  # type: ignore[arg-type]
    except DomainError as error:
        messages.error(request, error.detail)
    return redirect(f"/vendor/quotes/{request_id}/?vendor={staff.vendor.pk}")


# --- the operator ------------------------------------------------------------------------------


@operator_required
@require_safe
def operator_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or None
    page = selectors.requests_for_operator(
        user=request.user, status=status, cursor=request.GET.get("cursor"), limit=20
    )
    return render(
        request,
        "web/quotes/operator_list.html",
        {
            "page_title": "Quote requests",
            "page": page,
            "stats": metrics.platform_stats(user=request.user),
            "status": status or "",
        },
    )


@operator_required
@require_safe
def operator_detail(request: HttpRequest, request_id: int) -> HttpResponse:
    found: QuoteRequest = selectors.request_get_for_operator(
        user=request.user, request_id=request_id
    )
    return render(
        request,
        "web/quotes/operator_detail.html",
        {
            "page_title": f"Quote request #{found.pk}",
            "qr": found,
            "invitations": list(found.invitations.all()),
            "quotes": list(found.quotes.all()),
        },
    )
