"""The customer's messages: every conversation with unread counts, and one conversation
with a vendor about a booking or an order — the thread and a reply form with an optional
file. The same services and selectors as `agora.messaging.api`; another customer's or a
vendor's conversation is a 404.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_safe

from agora.core.errors import NotFound
from agora.messaging import selectors, services, subjects
from agora.messaging.downloads import attachment_response
from agora.messaging.models import AuthorRole
from agora.web.access import customer_required
from agora.web.account.common import customer
from agora.web.threads import (
    MessageForm,
    new_form,
    send_from_form,
    shown_conversations,
    thread_context,
)

SIDE = AuthorRole.CUSTOMER
FILES_URL = "/account/messages/files/"


def _vendor_param(request: HttpRequest) -> int | None:
    """`?vendor=` chooses the vendor's conversation of a subject with several (quotes)."""
    raw = request.GET.get("vendor")
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise NotFound("No such conversation.") from None


def _page_url(kind: str, subject_id: int, vendor_id: int | None) -> str:
    path = f"/account/messages/{kind}/{subject_id}/"
    return f"{path}?vendor={vendor_id}" if vendor_id else path


@customer_required
@require_safe
def conversation_list(request: HttpRequest) -> HttpResponse:
    page = selectors.conversations_for(
        actor=customer(request), cursor=request.GET.get("cursor") or None
    )
    return render(
        request,
        "web/account/messages/list.html",
        {
            "page_title": "Messages",
            "conversations": shown_conversations(page.items),
            "next_cursor": page.next_cursor,
        },
    )


def _thread_page(
    request: HttpRequest,
    kind: str,
    subject_id: int,
    *,
    form: MessageForm,
    status: int = 200,
    partial: bool = False,
) -> HttpResponse:
    user = customer(request)
    vendor_id = _vendor_param(request)
    cursor = request.GET.get("before") or None
    thread = selectors.conversation_thread(
        actor=user,
        subject_kind=kind,
        subject_id=subject_id,
        vendor_id=vendor_id,
        side=SIDE,
        cursor=cursor,
    )
    if request.method == "GET" and thread.newest_at is not None and not cursor:
        services.conversation_mark_read(
            actor=user,
            subject_kind=kind,
            subject_id=subject_id,
            vendor_id=vendor_id,
            side=SIDE,
            seen_until=thread.newest_at,
        )
    page_url = _page_url(kind, subject_id, vendor_id)
    source = subjects.source_for(kind)
    context = thread_context(
        thread,
        page_url=page_url,
        thread_url=page_url.replace(f"/{subject_id}/", f"/{subject_id}/thread/", 1),
        files_url=FILES_URL,
        subject_page=source.customer_page(thread.subject),
        cursor=cursor,
    )
    if partial:
        return render(request, "messaging/partials/thread.html", context)
    return render(
        request, "web/account/messages/thread.html", {**context, "form": form}, status=status
    )


@customer_required
@require_http_methods(["GET", "HEAD", "POST"])
def conversation(request: HttpRequest, kind: str, subject_id: int) -> HttpResponse:
    if request.method != "POST":
        return _thread_page(request, kind, subject_id, form=new_form())
    form = MessageForm(request.POST, request.FILES)
    if form.is_valid():
        sent = send_from_form(
            request,
            form,
            user=customer(request),
            kind=kind,
            subject_id=subject_id,
            vendor_id=_vendor_param(request),
            side=SIDE,
            page_url=_page_url(kind, subject_id, _vendor_param(request)),
        )
        if sent is not None:
            return sent
    return _thread_page(request, kind, subject_id, form=form, status=422)


@customer_required
@require_safe
def conversation_thread(request: HttpRequest, kind: str, subject_id: int) -> HttpResponse:
    """Only the messages (`#thread`'s content), for refreshing the open page in place."""
    return _thread_page(request, kind, subject_id, form=new_form(), partial=True)


@customer_required
@require_safe
def attachment(request: HttpRequest, attachment_id: int) -> HttpResponse:
    found = selectors.attachment_get(
        actor=customer(request), attachment_id=attachment_id, side=SIDE
    )
    # A streaming response; the portal decorators are typed for plain HttpResponse views.
    return attachment_response(found)  # type: ignore[return-value]
