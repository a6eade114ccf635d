"""Outgoing e-mail: what was sent, what waits for a retry, what failed for good — and a
button to try a failed mail again (after fixing the relay, or the address)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from agora.accounts.models import User
from agora.core.errors import InvalidInput
from agora.core.pagination import paginate
from agora.notifications import selectors, services
from agora.notifications.models import DeliveryStatus
from agora.web.access import operator_required
from agora.web.operator_portal.common import PAGE_SIZE, cursor_of, paging

STATUSES = {"": "Any", **dict(DeliveryStatus.choices)}


@operator_required
@require_safe
def email_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "failed")
    if status not in STATUSES:
        raise InvalidInput("status must be pending, sent, failed or skipped.")
    rows = selectors.email_deliveries(status=status or None)
    page = paginate(rows, ordering=("-id",), cursor=cursor_of(request), limit=PAGE_SIZE)
    return render(
        request,
        "web/operator/outbox/list.html",
        {
            "page_title": "Outgoing e-mail — Agora operator",
            "deliveries": page.items,
            "status": status,
            "statuses": STATUSES,
            **paging(request, page, status=status),
        },
    )


@operator_required
@require_POST
def email_retry(request: HttpRequest, delivery_id: int) -> HttpResponse:
    assert isinstance(request.user, User)
    if services.email_delivery_retry(actor=request.user, delivery_id=delivery_id):
        messages.success(request, "The e-mail is queued again; the worker sends it shortly.")
    else:
        messages.error(request, "Only a failed e-mail can be tried again.")
    return redirect("/operator/outbox/?status=failed")
