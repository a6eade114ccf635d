"""The Django admin behind the same sign-in as the pages.

Django's own admin login checks only a password, which would let an operator with
two-factor sign-in skip the second step. Here the admin has no login form of its own: it
sends people to `/login/`, and it opens only for staff who meet the two-factor requirement
(`two_factor.selectors.otp_enrolment_missing`), whom it sends to enrol first.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest
from django.shortcuts import redirect
from django.utils.http import urlencode

from agora.accounts.two_factor.selectors import ENROLMENT_PATH, otp_enrolment_missing


class AgoraAdminSite(admin.AdminSite):
    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and not otp_enrolment_missing(request.user)

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        target = request.GET.get("next") or request.path.replace("login/", "")
        if otp_enrolment_missing(request.user):
            return redirect(f"{ENROLMENT_PATH}?{urlencode({'next': target})}")
        return redirect_to_login(target, login_url=settings.LOGIN_URL)
