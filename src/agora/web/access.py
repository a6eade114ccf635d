"""Who may open which portal.

Signed-out visitors are sent to the sign-in page with ``next`` set; signed-in users without
the portal's role get 403; operators without two-factor sign-in (while it is required) are
sent to turn it on, with ``next`` set. The checks run before the view, so a view body may assume its
role.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import urlencode

from agora.accounts.two_factor.selectors import ENROLMENT_PATH, otp_enrolment_missing
from agora.vendors import selectors as vendor_selectors

View = TypeVar("View", bound=Callable[..., HttpResponse])


def _portal(
    check: Callable[[Any], bool], refusal: str, *, needs_two_factor: bool = False
) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not check(request.user):
                raise PermissionDenied(refusal)
            if needs_two_factor and otp_enrolment_missing(request.user):
                # Operators turn two-factor sign-in on before any operator page opens.
                return redirect(f"{ENROLMENT_PATH}?{urlencode({'next': request.get_full_path()})}")
            return view(request, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


def _is_customer(user: Any) -> bool:
    # Any signed-in person may buy and book, staff of a vendor included.
    return bool(user.is_active)


def _is_vendor_staff(user: Any) -> bool:
    return bool(vendor_selectors.staff_vendor_ids(user=user))


def _is_operator(user: Any) -> bool:
    return bool(user.is_operator)


customer_required = _portal(_is_customer, "Your account cannot use the customer portal.")
vendor_staff_required = _portal(_is_vendor_staff, "Only vendor staff may open the vendor portal.")
operator_required = _portal(
    _is_operator, "Only operators may open the operator console.", needs_two_factor=True
)
