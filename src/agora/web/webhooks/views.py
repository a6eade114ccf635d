"""Webhook endpoints in a portal: the list with a form for a new one (its secret shown
once), each endpoint's page with its delivery log (every attempt, a Replay button) and
buttons to rotate the secret, switch it off or on and delete it.

The same views serve both portals; a `Portal` says whose endpoints they are (the
current vendor's, for its owners and managers; the operators') and how pages look.
Creating and rotating carry a once-only token: a double click must not create two
endpoints, nor rotate twice and retire the secret the receiver still uses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from agora.accounts.models import User
from agora.core.errors import DomainError, InvalidInput
from agora.core.pagination import Page
from agora.notifications.webhooks import selectors, services
from agora.notifications.webhooks.delivery import MAX_ATTEMPTS
from agora.notifications.webhooks.models import WebhookEndpoint
from agora.notifications.webhooks.selectors import WebhookOwner
from agora.vendors.selectors import MANAGER_ROLES
from agora.web.access import operator_required, vendor_staff_required
from agora.web.account import once
from agora.web.vendor_portal.current import current_staff_context
from agora.web.vendor_portal.operations.forms import add_domain_error
from agora.web.webhooks.forms import OnceForm, WebhookForm

PAGE_SIZE = 20
SWITCHES = {"enable": True, "disable": False}


@dataclass(frozen=True)
class Portal:
    base_template: str
    base_path: str
    title_suffix: str
    access: Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]
    owner_of: Callable[[HttpRequest], tuple[WebhookOwner, dict[str, Any]]]


def _vendor_owner(request: HttpRequest) -> tuple[WebhookOwner, dict[str, Any]]:
    staff = current_staff_context(request, roles=MANAGER_ROLES)  # staff role → 403
    return WebhookOwner(vendor=staff.vendor), {"staff": staff, "portal_name": "Vendor portal"}


def _operator_owner(request: HttpRequest) -> tuple[WebhookOwner, dict[str, Any]]:
    return selectors.webhook_owner_for_operator(user=request.user), {}


VENDOR = Portal(
    base_template="web/vendor/portal.html",
    base_path="/vendor/webhooks/",
    title_suffix="Vendor portal",
    access=vendor_staff_required,
    owner_of=_vendor_owner,
)
OPERATOR = Portal(
    base_template="web/operator/portal.html",
    base_path="/operator/webhooks/",
    title_suffix="Agora operator",
    access=operator_required,
    owner_of=_operator_owner,
)


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _page(
    request: HttpRequest,
    portal: Portal,
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    secret_shown: bool = False,
) -> HttpResponse:
    response = render(
        request,
        f"web/webhooks/{template}",
        {"portal_template": portal.base_template, "base_path": portal.base_path, **context},
        status=status,
    )
    if secret_shown:
        # The signing secret is in this page: no cache, no back-button copy.
        response["Cache-Control"] = "no-store"
    return response


def _list_page(
    request: HttpRequest,
    portal: Portal,
    owner: WebhookOwner,
    extra: dict[str, Any],
    *,
    form: WebhookForm | None = None,
    created: WebhookEndpoint | None = None,
    status: int = 200,
) -> HttpResponse:
    page = selectors.webhook_endpoints(
        owner=owner, cursor=request.GET.get("cursor"), limit=PAGE_SIZE
    )
    return _page(
        request,
        portal,
        "list.html",
        {
            **extra,
            "page_title": f"Webhooks — {portal.title_suffix}",
            "endpoints": page.items,
            "form": form or WebhookForm(initial={"token": once.new_token()}),
            "created": created,
            **_paging(request, page),
        },
        status=status,
        secret_shown=created is not None,
    )


def _paging(request: HttpRequest, page: Page[Any]) -> dict[str, str | None]:
    following = None
    if page.next_cursor:
        following = f"{request.path}?{urlencode({'cursor': page.next_cursor})}"
    return {"next_url": following, "first_url": request.path if request.GET.get("cursor") else None}


def webhook_list(portal: Portal) -> Callable[..., HttpResponse]:
    @portal.access
    @require_http_methods(["GET", "HEAD", "POST"])
    def view(request: HttpRequest) -> HttpResponse:
        owner, extra = portal.owner_of(request)
        if request.method != "POST":
            return _list_page(request, portal, owner, extra)
        form = WebhookForm(request.POST)
        if not form.is_valid():
            return _list_page(request, portal, owner, extra, form=form, status=422)
        try:
            # Outside the transaction: it resolves the host name.
            checked = services.webhook_endpoint_check(
                url=form.cleaned_data["url"], events=form.cleaned_data["events"]
            )
        except DomainError as refusal:
            add_domain_error(form, refusal)
            return _list_page(request, portal, owner, extra, form=form, status=refusal.status)
        user, token = _user(request), form.cleaned_data["token"]
        with transaction.atomic():
            done = once.claim(user=user, purpose="webhook-create", token=token)
            if done:
                messages.info(
                    request,
                    "That form was already sent: the endpoint exists and its secret was shown "
                    "then. Rotate the secret if you did not copy it.",
                )
                return redirect(done)
            try:
                endpoint = services.webhook_endpoint_create(
                    actor=user, owner=owner, checked=checked
                )
            except DomainError as refusal:
                transaction.set_rollback(True)
                add_domain_error(form, refusal)
                return _list_page(request, portal, owner, extra, form=form, status=refusal.status)
            once.remember(
                user=user,
                purpose="webhook-create",
                token=token,
                result=f"{portal.base_path}{endpoint.pk}/",
            )
        return _list_page(request, portal, owner, extra, created=endpoint, status=201)

    return view


def _detail_page(
    request: HttpRequest,
    portal: Portal,
    owner: WebhookOwner,
    extra: dict[str, Any],
    webhook_id: int,
    *,
    new_secret: str = "",
) -> HttpResponse:
    endpoint = selectors.webhook_endpoint_get(owner=owner, webhook_id=webhook_id)
    page = selectors.webhook_deliveries(
        owner=owner, webhook_id=endpoint.pk, cursor=request.GET.get("cursor"), limit=PAGE_SIZE
    )
    return _page(
        request,
        portal,
        "detail.html",
        {
            **extra,
            "page_title": f"Webhook {endpoint.url} — {portal.title_suffix}",
            "endpoint": endpoint,
            "deliveries": page.items,
            "max_attempts": MAX_ATTEMPTS,
            "new_secret": new_secret,
            "rotate_form": OnceForm(initial={"token": once.new_token()}),
            **_paging(request, page),
        },
        secret_shown=bool(new_secret),
    )


def webhook_detail(portal: Portal) -> Callable[..., HttpResponse]:
    @portal.access
    @require_safe
    def view(request: HttpRequest, webhook_id: int) -> HttpResponse:
        owner, extra = portal.owner_of(request)
        return _detail_page(request, portal, owner, extra, webhook_id)

    return view


def webhook_rotate(portal: Portal) -> Callable[..., HttpResponse]:
    @portal.access
    @require_POST
    def view(request: HttpRequest, webhook_id: int) -> HttpResponse:
        owner, extra = portal.owner_of(request)
        form = OnceForm(request.POST)
        if not form.is_valid():
            raise InvalidInput("This form has expired; please reload the page and try again.")
        user, token = _user(request), form.cleaned_data["token"]
        with transaction.atomic():
            done = once.claim(user=user, purpose="webhook-rotate", token=token)
            if done:
                messages.info(
                    request,
                    "The secret was rotated once already with that form; rotate again if you "
                    "did not copy the new one.",
                )
                return redirect(done)
            endpoint = services.webhook_secret_rotate(
                actor=user, owner=owner, webhook_id=webhook_id
            )
            once.remember(
                user=user,
                purpose="webhook-rotate",
                token=token,
                result=f"{portal.base_path}{endpoint.pk}/",
            )
        return _detail_page(request, portal, owner, extra, endpoint.pk, new_secret=endpoint.secret)

    return view


def webhook_switch(portal: Portal) -> Callable[..., HttpResponse]:
    @portal.access
    @require_POST
    def view(request: HttpRequest, webhook_id: int, action: str) -> HttpResponse:
        if action not in SWITCHES:
            raise InvalidInput(f"Unknown action {action!r}: enable or disable.")
        owner, _ = portal.owner_of(request)
        services.webhook_endpoint_update(
            actor=_user(request), owner=owner, webhook_id=webhook_id, enabled=SWITCHES[action]
        )
        messages.success(request, f"Endpoint {action}d.")
        return redirect(f"{portal.base_path}{webhook_id}/")

    return view


def webhook_delete(portal: Portal) -> Callable[..., HttpResponse]:
    @portal.access
    @require_POST
    def view(request: HttpRequest, webhook_id: int) -> HttpResponse:
        owner, _ = portal.owner_of(request)
        services.webhook_endpoint_delete(actor=_user(request), owner=owner, webhook_id=webhook_id)
        messages.success(request, "Endpoint deleted; nothing more is sent to it.")
        return redirect(portal.base_path)

    return view


def webhook_replay(portal: Portal) -> Callable[..., HttpResponse]:
    @portal.access
    @require_POST
    def view(request: HttpRequest, webhook_id: int, delivery_id: int) -> HttpResponse:
        owner, _ = portal.owner_of(request)
        try:
            delivery = services.webhook_delivery_replay(
                actor=_user(request), owner=owner, webhook_id=webhook_id, delivery_id=delivery_id
            )
        except DomainError as refusal:
            if refusal.status == 404:
                raise
            messages.error(request, refusal.detail)
        else:
            messages.success(
                request, f"{delivery.event.name} ({delivery.webhook_id}) queued to be sent again."
            )
        return redirect(f"{portal.base_path}{webhook_id}/")

    return view
