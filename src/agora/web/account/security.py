"""/account/security/: two-factor sign-in — add an authenticator app, confirm it, replace
it, make new recovery codes, turn it off. Every rule is in accounts.two_factor.services;
these views parse the form, call one service and show what it answered."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST, require_safe
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from agora.accounts.two_factor import selectors, services
from agora.core.errors import DomainError, RateLimited
from agora.web.access import customer_required
from agora.web.account.common import customer
from agora.web.auth.forms import OtpForm

PAGE = selectors.ENROLMENT_PATH


def _next(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


def _back(request: HttpRequest) -> HttpResponseRedirect:
    target = PAGE
    if next_url := _next(request):
        target += "?" + urlencode({"next": next_url})
    return HttpResponseRedirect(target)


def _refused(request: HttpRequest, error: DomainError) -> HttpResponseRedirect:
    if isinstance(error, RateLimited):
        messages.error(request, error.detail)
    elif str(error.code) in {"otp_invalid", "otp_required"}:
        messages.error(request, "That code is wrong, or has been used already.")
    else:
        messages.error(request, error.detail)
    return _back(request)


@never_cache
@customer_required
@require_safe
def security_page(request: HttpRequest) -> HttpResponse:
    status = selectors.two_factor_status(user=customer(request))
    return render(
        request,
        "web/account/security.html",
        {
            "page_title": "Security",
            "status": status,
            "form": OtpForm(),
            "next": _next(request),
            "must_enrol": selectors.otp_enrolment_missing(request.user),
        },
    )


@never_cache
@customer_required
@require_POST
@sensitive_post_parameters("otp")
def enrol_start(request: HttpRequest) -> HttpResponse:
    """Start adding an app (or replacing the one in use, with a current code)."""
    try:
        services.two_factor_enrol_start(user=customer(request), otp=request.POST.get("otp"))
    except DomainError as error:
        return _refused(request, error)
    return _back(request)


@never_cache
@customer_required
@require_POST
@sensitive_post_parameters("otp")
def enrol_confirm(request: HttpRequest) -> HttpResponse:
    """The app's first code turns two-factor sign-in on; the recovery codes are shown on
    this response only (never stored as typed, never shown again)."""
    user = customer(request)
    try:
        recovery = services.two_factor_enrol_confirm(user=user, code=request.POST.get("otp", ""))
    except DomainError as error:
        return _refused(request, error)
    # This session proved the new app; it stays signed in, every other one ends.
    update_session_auth_hash(request, user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None:
        otp_login(request, device)
    return _codes_page(request, recovery.codes, "Two-factor sign-in is on")


def _codes_page(request: HttpRequest, codes: list[str], heading: str) -> HttpResponse:
    context: dict[str, Any] = {
        "page_title": heading,
        "heading": heading,
        "codes": codes,
        "next": _next(request) or PAGE,
    }
    response = render(request, "web/account/recovery_codes.html", context)
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@customer_required
@require_POST
@sensitive_post_parameters("otp")
def recovery_codes(request: HttpRequest) -> HttpResponse:
    try:
        recovery = services.recovery_codes_regenerate(
            user=customer(request), otp=request.POST.get("otp")
        )
    except DomainError as error:
        return _refused(request, error)
    return _codes_page(request, recovery.codes, "New recovery codes")


@never_cache
@customer_required
@require_POST
@sensitive_post_parameters("otp")
def disable(request: HttpRequest) -> HttpResponse:
    user = customer(request)
    try:
        services.two_factor_disable(user=user, otp=request.POST.get("otp"))
    except DomainError as error:
        return _refused(request, error)
    update_session_auth_hash(request, user)
    messages.success(request, "Two-factor sign-in is off. Your password alone signs you in.")
    return _back(request)
