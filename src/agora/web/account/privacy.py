"""/account/privacy/: download your data, delete your account (accounts.privacy)."""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_safe

from agora.accounts.errors import AccountError, AccountErrorCode
from agora.accounts.privacy import selectors, services
from agora.core.errors import NotAuthenticated, RateLimited
from agora.web.access import customer_required
from agora.web.account.common import customer


class DeleteAccountForm(forms.Form):
    password = forms.CharField(
        label="Your password",
        strip=False,
        max_length=4096,
        help_text="To confirm that it is you.",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


def _client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR") or "unknown"


def _page(
    request: HttpRequest, form: DeleteAccountForm, *, status: int = 200, **extra: object
) -> HttpResponse:
    return render(
        request,
        "web/account/privacy.html",
        {"page_title": "Your data", "form": form, **extra},
        status=status,
    )


@customer_required
@require_safe
def privacy_page(request: HttpRequest) -> HttpResponse:
    return _page(request, DeleteAccountForm())


@never_cache
@customer_required
@require_safe
def export_download(request: HttpRequest) -> HttpResponse:
    export = selectors.personal_data_export(user=customer(request))
    response = HttpResponse(
        json.dumps(export.document, indent=2, ensure_ascii=False),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response["Cache-Control"] = "no-store"
    return response


@sensitive_post_parameters("password")
@never_cache
@customer_required
@require_http_methods(["POST"])
def account_delete(request: HttpRequest) -> HttpResponse:
    form = DeleteAccountForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    try:
        services.account_delete(
            user=customer(request), password=form.cleaned_data["password"], ip=_client_ip(request)
        )
    except RateLimited as error:
        form.add_error(None, error.detail)
        response = _page(request, form, status=429)
        response["Retry-After"] = error.headers["Retry-After"]
        return response
    except NotAuthenticated:
        form.add_error("password", "That is not your password.")
        return _page(request, form, status=400)
    except AccountError as error:
        if error.code != AccountErrorCode.ACCOUNT_HAS_OBLIGATIONS:
            raise
        return _page(request, form, status=409, obligations=error.extra["obligations"])
    logout(request)
    messages.success(request, "Your account has been deleted. Thank you for using Agora.")
    return HttpResponseRedirect("/")
