"""The pages behind problem `type`s: `/problems/<code>/` explains each error code.

Every problem document the API sends names its page (`"type": "/problems/slot_unavailable"`,
RFC 9457 §3.1.1), so a developer who meets a code can read what it means and what to do.
The codes are those of the `*ErrorCode` enums of every app (core's `ErrorCode` and each
app's `errors.py`), found when first asked for — a new app's codes get pages without a
change here. The explanations below are written per code; a code without one still gets
a page, with the generic advice.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from enum import Enum
from functools import cache
from pathlib import Path

from django.http import Http404, HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.views.decorators.http import require_safe

import agora
from agora.web.public.views.common import shared_cache


@dataclass(frozen=True)
class Explanation:
    status: int
    title: str
    meaning: str
    action: str


@dataclass(frozen=True)
class ProblemType:
    code: str
    title: str
    status: int | None
    meaning: str
    action: str
    defined_by: tuple[str, ...]

    @property
    def path(self) -> str:
        return f"/problems/{self.code}/"

    @property
    def meaning_html(self) -> SafeString:
        return _with_code(self.meaning)

    @property
    def action_html(self) -> SafeString:
        return _with_code(self.action)


def _with_code(text: str) -> SafeString:
    """`text`, escaped, with its `backquoted` parts as <code>."""
    pieces = text.split("`")
    return format_html_join(
        "",
        "{}",
        (
            (format_html("<code>{}</code>", piece) if odd % 2 else piece,)
            for odd, piece in enumerate(pieces)
        ),
    )


_RETRY_SAME_KEY = "Retry after the Retry-After seconds; a write with the same Idempotency-Key."

EXPLANATIONS: dict[str, Explanation] = {
    # --- core ------------------------------------------------------------------------------
    "validation_error": Explanation(
        422,
        "The request is not valid",
        "The body is not JSON (400), or a value is missing, of the wrong type or out of range "
        "(422). `errors` lists each refused field, with its path in `loc`.",
        "Fix the fields named in `errors` and send the request again. Nothing was changed.",
    ),
    "not_authenticated": Explanation(
        401,
        "Not signed in",
        "The request needs a bearer token and had none, or its token is unknown, revoked or "
        "expired.",
        "Get a token from `POST /api/v1/auth/token` and send it as "
        "`Authorization: Bearer <token>`.",
    ),
    "invalid_credentials": Explanation(
        401,
        "Wrong e-mail or password",
        "The e-mail and password do not match an active account. Failures are counted: "
        "after several, sign-in is throttled (429 `rate_limited`).",
        "Check both; reset a forgotten password at /password-reset/.",
    ),
    "forbidden": Explanation(
        403,
        "Not allowed for your role",
        "You are signed in, but your account lacks the role this needs (operator, or owner "
        "or manager of the vendor).",
        "Do not retry: use an account with the role, or ask a vendor owner to grant it.",
    ),
    "not_found": Explanation(
        404,
        "Not found",
        "The object does not exist, or it belongs to someone else. The two answers are the "
        "same on purpose, so another tenant's ids reveal nothing.",
        "Check the id; the same request will get the same answer.",
    ),
    "method_not_allowed": Explanation(
        405,
        "Method not allowed",
        "The endpoint exists but does not accept this HTTP method.",
        "Use one of the methods in the Allow header.",
    ),
    "conflict": Explanation(
        409,
        "Conflict with the current state",
        "The request conflicts with the current state of the data.",
        "Fetch the object again, look at its state, and decide whether the request still "
        "makes sense.",
    ),
    "invalid_transition": Explanation(
        409,
        "Not possible in the current status",
        "The object's lifecycle does not allow this move from its current status: accepting "
        "a cancelled booking, shipping an order twice, accepting a quote a second time.",
        "Fetch the object to see its status and history; the same request will fail again.",
    ),
    "rate_limited": Explanation(
        429,
        "Too many attempts",
        "Too many attempts in a short time (sign-in, registration, look-ups). `retry_after` "
        "and the Retry-After header say how many seconds to wait.",
        "Wait that long before trying again; never retry in a tight loop.",
    ),
    "idempotency_key_reused": Explanation(
        422,
        "Idempotency-Key used for another request",
        "The Idempotency-Key was used within the last 24 hours with a different request "
        "(another body or path).",
        "Use a new key for a new request; send a key again only to retry the very same one.",
    ),
    "busy": Explanation(
        503,
        "Busy",
        "Something this request needs (a slot, stock, a balance) stayed locked by concurrent "
        "requests past the lock timeout. Nothing was changed.",
        _RETRY_SAME_KEY,
    ),
    "payload_too_large": Explanation(
        413,
        "Request body too large",
        "The request body is larger than the server accepts.",
        "Send a smaller body.",
    ),
    "unavailable": Explanation(
        503,
        "Unavailable for a moment",
        "The service cannot reach its database or a data provider just now (a restart, a "
        "failover). Nothing is wrong with the request.",
        _RETRY_SAME_KEY,
    ),
    "internal_error": Explanation(
        500,
        "Internal error",
        "A fault on the server. It was logged with the id in `request_id`.",
        "Retry later (a write with the same Idempotency-Key); if it persists, report the "
        "`request_id`.",
    ),
    # --- accounts, vendors, catalog ----------------------------------------------------------
    "email_taken": Explanation(
        409,
        "E-mail already registered",
        "An account with this e-mail exists already (letter case does not matter).",
        "Sign in instead, or reset the password.",
    ),
    "slug_taken": Explanation(
        409,
        "Name already taken",
        "The short address (slug) made from the name is used by another vendor, category or city.",
        "Choose another name or slug.",
    ),
    "already_member": Explanation(
        409,
        "Already on the staff",
        "The person is already on this vendor's staff.",
        "Change their role instead of inviting them again.",
    ),
    "last_owner": Explanation(
        409,
        "The last owner",
        "A vendor needs at least one owner; this would leave none.",
        "Make someone else an owner first.",
    ),
    "invitation_invalid": Explanation(
        404,
        "Invitation not valid",
        "The invitation is unknown, used, expired, or addressed to another e-mail.",
        "Ask the vendor for a new invitation to your account's e-mail.",
    ),
    "document_invalid": Explanation(
        422,
        "Document refused",
        "The verification document is not a PDF, JPEG, PNG or WebP file, or is too large.",
        "Upload the document in one of those types.",
    ),
    "category_in_use": Explanation(
        409,
        "Category in use",
        "The category still holds listings or subcategories.",
        "Move its listings and subcategories first.",
    ),
    # --- bookings ----------------------------------------------------------------------------
    "slot_unavailable": Explanation(
        409,
        "Slot taken",
        "The slot was taken, or became full, between seeing it and booking (or moving to) it.",
        "Fetch the free times again (`GET /api/v1/listings/{id}/slots`) and choose another.",
    ),
    "invalid_slot": Explanation(
        422,
        "Not a bookable time",
        "The start is not one of the listing's slots: outside opening hours, off the slot "
        "grid, in the past or beyond the booking window.",
        "Choose a start from `GET /api/v1/listings/{id}/slots`.",
    ),
    "hold_expired": Explanation(
        409,
        "Hold expired",
        "The hold on the slot lapsed before payment (holds last 10 minutes by default) and the "
        "slot was released.",
        "Book the slot again and pay within the hold.",
    ),
    "not_bookable": Explanation(
        422,
        "Not bookable by time",
        "The listing is not a service with a duration: a product or a quote job.",
        "Buy products through checkout; request a quote for quote jobs.",
    ),
    "schedule_missing": Explanation(
        409,
        "No opening hours yet",
        "The vendor has not published opening hours, so there are no slots to book.",
        "Try again later or choose another vendor.",
    ),
    # --- orders ------------------------------------------------------------------------------
    "out_of_stock": Explanation(
        409,
        "Out of stock",
        "Not enough stock for one or more lines; `lines` says which and how many are left. "
        "Nothing was reserved.",
        "Lower the quantities or drop those lines, then check out again.",
    ),
    "checkout_expired": Explanation(
        409,
        "Reservation expired",
        "The checkout's stock reservation ran out before payment (15 minutes by default) and "
        "the stock went back.",
        "Check out again.",
    ),
    "not_purchasable": Explanation(
        409,
        "Not for sale",
        "The listing cannot be bought: it is not an active product of an active vendor.",
        "Choose another listing.",
    ),
    # --- payments ----------------------------------------------------------------------------
    "card_declined": Explanation(
        402,
        "Card declined",
        "The card issuer declined the payment. Nothing was charged; a booking's hold stays "
        "until it expires.",
        "Pay with another payment method.",
    ),
    "insufficient_funds": Explanation(
        402,
        "Insufficient funds",
        "The card has not enough funds. Nothing was charged.",
        "Pay with another payment method.",
    ),
    "authentication_required": Explanation(
        402,
        "Card authentication required",
        "The card needs the customer's authentication (3-D Secure) before it can be charged.",
        "Authenticate the payment method with the customer, then pay again.",
    ),
    "gateway_error": Explanation(
        502,
        "Payment provider failed",
        "The payment provider could not complete the request. Nothing moved twice.",
        "Retry with the same Idempotency-Key.",
    ),
    "refund_exceeds_captured": Explanation(
        409,
        "Refund too large",
        "The refund is more than what was captured and not yet refunded.",
        "Refund at most the remaining captured amount.",
    ),
    "capture_exceeds_authorized": Explanation(
        409,
        "Capture too large",
        "The capture is more than the payment authorised.",
        "Capture at most the authorised amount.",
    ),
    "dispute_exceeds_captured": Explanation(
        409,
        "Dispute too large",
        "The disputed amount is more than was captured.",
        "Dispute at most the captured amount.",
    ),
    "dispute_exceeds_hold": Explanation(
        409,
        "Dispute larger than the funds held",
        "The disputed amount is more than is still held in escrow for the transaction.",
        "Dispute at most the amount still held.",
    ),
    "insufficient_balance": Explanation(
        409,
        "Balance too low",
        "The vendor's available balance is below the amount (or the payout minimum).",
        "Wait for escrow to release more earnings, or ask for less.",
    ),
    "already_reversed": Explanation(
        409,
        "Already reversed",
        "This money movement has been reversed already.",
        "Nothing to do; fetch the transaction to see its state.",
    ),
    "not_reversible": Explanation(
        409,
        "Cannot be reversed",
        "This money movement cannot be reversed (its funds moved on, or its kind is final).",
        "Correct it with a new movement instead.",
    ),
    "reference_vendor_mismatch": Explanation(
        409,
        "Vendor does not match",
        "The transaction referred to belongs to another vendor than the one named.",
        "Name the transaction's own vendor.",
    ),
    "charge_not_found": Explanation(
        404,
        "Charge not found",
        "The payment provider does not know this charge.",
        "Check the payment reference.",
    ),
    "currency_mismatch": Explanation(
        422,
        "Currency does not match",
        "The amount's currency differs from the payment's or the vendor's.",
        "Send the amount in the transaction's currency.",
    ),
    "already_paid": Explanation(
        409,
        "Already paid",
        "The booking or checkout has been paid already.",
        "Fetch it to see its status; do not pay again.",
    ),
    "invalid_rule": Explanation(
        422,
        "Commission rule not valid",
        "The commission rule contradicts itself (a floor above its cap, say).",
        "Fix the rule's amounts.",
    ),
    "invalid_signature": Explanation(
        400,
        "Signature does not match",
        "The webhook's Stripe-Signature header does not match its payload.",
        "Check the endpoint's signing secret.",
    ),
    # --- reviews -----------------------------------------------------------------------------
    "not_reviewable": Explanation(
        409,
        "Not reviewable yet",
        "Only a completed booking or a delivered order can be reviewed, by its customer.",
        "Review it once it is completed.",
    ),
    "already_reviewed": Explanation(
        409,
        "Already reviewed",
        "This booking or order has a review already.",
        "Edit the existing review instead.",
    ),
    "edit_window_closed": Explanation(
        409,
        "Too late to edit",
        "Reviews can be edited only for a while after they are written.",
        "The review stays as it is.",
    ),
    "not_editable": Explanation(
        409,
        "Review not editable",
        "A hidden review cannot be edited.",
        "Contact the marketplace operator.",
    ),
    "already_replied": Explanation(
        409,
        "Already replied",
        "The vendor has replied to this review already.",
        "Edit the existing reply instead.",
    ),
    # --- messages, notifications, webhooks ---------------------------------------------------
    "attachment_type_refused": Explanation(
        422,
        "File type refused",
        "A file is not a PDF, JPEG, PNG or WebP (judged by its bytes, not its name).",
        "Convert it to one of those types.",
    ),
    "attachment_too_large": Explanation(
        422,
        "File too large",
        "A file, or the files together, is over the size limit.",
        "Send smaller files.",
    ),
    "too_many_attachments": Explanation(
        422,
        "Too many files",
        "A message carries more files than allowed.",
        "Send the files over several messages.",
    ),
    "unknown_notification_group": Explanation(
        422,
        "Unknown notification group",
        "The preferences name a notification group that does not exist.",
        "Use the groups that `GET /api/v1/me/notification-preferences` lists.",
    ),
    "email_locked": Explanation(
        422,
        "E-mail cannot be switched off",
        "The group's e-mails are transactional (receipts, booking and order changes).",
        "Leave e-mail on for that group.",
    ),
    "nothing_to_mark": Explanation(
        422,
        "Nothing to mark",
        "Neither `ids` nor `all` was given.",
        "Send `ids` or `all: true`.",
    ),
    "invalid_unsubscribe_link": Explanation(
        404,
        "Unsubscribe link not valid",
        "The unsubscribe link is damaged or was not made by this site.",
        "Change e-mail preferences in your account instead.",
    ),
    "webhook_url_refused": Explanation(
        422,
        "Webhook address refused",
        "The URL is not https, or it resolves to a loopback or private address.",
        "Use a public https URL.",
    ),
    "webhook_disabled": Explanation(
        409,
        "Webhook endpoint disabled",
        "The endpoint is disabled, so its deliveries cannot be replayed.",
        "Enable the endpoint first.",
    ),
    "webhook_limit_reached": Explanation(
        409,
        "Too many webhook endpoints",
        "The account has as many webhook endpoints as allowed.",
        "Delete one first.",
    ),
}

_GENERIC_ACTION = (
    "Read `detail` in the problem document: it says what went wrong in this case. Branch on "
    "`code`, which is stable."
)


def _errors_modules() -> list[str]:
    """The dotted names of every `errors.py` module in the project's packages."""
    root = Path(agora.__file__).parent
    return sorted(
        ".".join(("agora", *file.relative_to(root).with_suffix("").parts))
        for file in root.rglob("errors.py")
        if "migrations" not in file.parts
    )


def _error_code_enums() -> list[type[Enum]]:
    enums: list[type[Enum]] = []
    for name in _errors_modules():
        module = importlib.import_module(name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Enum)
                and value.__name__.endswith("ErrorCode")
                and value.__module__ == module.__name__
            ):
                enums.append(value)
    return enums


@cache
def problem_types() -> dict[str, ProblemType]:
    """Every error code of every app, with its explanation, by code."""
    defined_by: dict[str, list[str]] = {}
    for enum in _error_code_enums():
        for member in enum:
            defined_by.setdefault(str(member.value), []).append(enum.__name__)
    types: dict[str, ProblemType] = {}
    for code in sorted(defined_by):
        explanation = EXPLANATIONS.get(code)
        types[code] = ProblemType(
            code=code,
            title=explanation.title if explanation else code.replace("_", " ").capitalize(),
            status=explanation.status if explanation else None,
            meaning=explanation.meaning if explanation else "The request was refused.",
            action=explanation.action if explanation else _GENERIC_ACTION,
            defined_by=tuple(defined_by[code]),
        )
    return types


@require_safe
@shared_cache
def problem_index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "web/problems/index.html",
        {
            "page_title": "Error codes — Agora API",
            "meta_description": "Every error code the Agora API answers with, explained.",
            "problem_types": list(problem_types().values()),
        },
    )


@require_safe
@shared_cache
def problem_detail(request: HttpRequest, code: str) -> HttpResponse:
    problem = problem_types().get(code)
    if problem is None:
        raise Http404("No such error code.")
    return render(
        request,
        "web/problems/detail.html",
        {
            "page_title": f"{problem.code}: {problem.title} — Agora API",
            "meta_description": problem.meaning,
            "problem": problem,
        },
    )


@require_safe
def problem_redirect(request: HttpRequest, code: str) -> HttpResponse:
    """`/problems/<code>`, the `type` as problem documents write it, to its page."""
    if code not in problem_types():
        raise Http404("No such error code.")
    return HttpResponsePermanentRedirect(f"/problems/{code}/")
