"""Messages with customers, for the vendor the person works for now: every conversation
with unread counts, and one conversation about a booking or an order. Read state is the
vendor's, shared by its staff. Another vendor's conversation — even one of a vendor the
person also works for — is a 404 while working for this one.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_safe

from agora.messaging import selectors, services, subjects
from agora.messaging.downloads import attachment_response
from agora.messaging.models import AuthorRole
from agora.vendors.selectors import StaffContext
from agora.web.access import vendor_staff_required
from agora.web.threads import (
    MessageForm,
    new_form,
    send_from_form,
    shown_conversations,
    thread_context,
)
from agora.web.vendor_portal.operations.views.common import page, staff_for

SIDE = AuthorRole.VENDOR
FILES_URL = "/vendor/messages/files/"


def _page_url(staff: StaffContext, kind: str, subject_id: int) -> str:
    return subjects.vendor_url(kind=kind, subject_id=subject_id, vendor_id=staff.vendor.pk)


@require_safe
@vendor_staff_required
def conversation_list(request: HttpRequest) -> HttpResponse:
    staff = staff_for(request)
    result = selectors.conversations_for(
        actor=request.user,
        as_vendor=True,
        vendor_id=staff.vendor.pk,
        cursor=request.GET.get("cursor") or None,
    )
    return page(
        request,
        "messages/list.html",
        staff,
        {
            "page_title": "Messages — vendor portal",
            "conversations": shown_conversations(result.items),
            "next_cursor": result.next_cursor,
        },
    )


def _thread_page(
    request: HttpRequest,
    staff: StaffContext,
    kind: str,
    subject_id: int,
    *,
    form: MessageForm,
    status: int = 200,
    partial: bool = False,
) -> HttpResponse:
    cursor = request.GET.get("before") or None
    thread = selectors.conversation_thread(
        actor=request.user,
        subject_kind=kind,
        subject_id=subject_id,
        vendor_id=staff.vendor.pk,
        side=SIDE,
        cursor=cursor,
    )
    if request.method == "GET" and thread.newest_at is not None and not cursor:
        services.conversation_mark_read(
            actor=request.user,  # type: ignore[arg-type]
            subject_kind=kind,
            subject_id=subject_id,
            vendor_id=staff.vendor.pk,
            side=SIDE,
            seen_until=thread.newest_at,
        )
    page_url = _page_url(staff, kind, subject_id)
    context = thread_context(
        thread,
        page_url=page_url,
        thread_url=f"/vendor/messages/{kind}/{subject_id}/thread/?vendor={staff.vendor.pk}",
        files_url=FILES_URL,
        files_query=f"?vendor={staff.vendor.pk}",
        subject_page=subjects.source_for(kind).vendor_page(thread.subject),
        cursor=cursor,
    )
    if partial:
        return render(request, "messaging/partials/thread.html", context)
    return page(request, "messages/thread.html", staff, {**context, "form": form}, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@vendor_staff_required
def conversation(request: HttpRequest, kind: str, subject_id: int) -> HttpResponse:
    staff = staff_for(request)
    if request.method != "POST":
        return _thread_page(request, staff, kind, subject_id, form=new_form())
    form = MessageForm(request.POST, request.FILES)
    if form.is_valid():
        sent = send_from_form(
            request,
            form,
            user=request.user,  # type: ignore[arg-type]
            kind=kind,
            subject_id=subject_id,
            vendor_id=staff.vendor.pk,
            side=SIDE,
            page_url=_page_url(staff, kind, subject_id),
        )
        if sent is not None:
            return sent
    return _thread_page(request, staff, kind, subject_id, form=form, status=422)


@require_safe
@vendor_staff_required
def conversation_thread(request: HttpRequest, kind: str, subject_id: int) -> HttpResponse:
    """Only the messages (`#thread`'s content), for refreshing the open page in place."""
    staff = staff_for(request)
    return _thread_page(request, staff, kind, subject_id, form=new_form(), partial=True)


@require_safe
@vendor_staff_required
def attachment(request: HttpRequest, attachment_id: int) -> HttpResponse:
    staff = staff_for(request)
    found = selectors.attachment_get(
        actor=request.user, attachment_id=attachment_id, side=SIDE, vendor_id=staff.vendor.pk
    )
    # A streaming response; the portal decorators are typed for plain HttpResponse views.
    return attachment_response(found)  # type: ignore[return-value]
