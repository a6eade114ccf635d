"""Staff: who works for the vendor, invitations by e-mail, role changes and removal.

Anyone on the staff may see the list; only an owner or a manager may change it (the same
rule as the API), and only an owner may grant or take away the owner role (the service's).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST, require_safe

from agora.core import clock
from agora.core.errors import DomainError
from agora.vendors import selectors as vendor_selectors
from agora.vendors import services as vendor_services
from agora.vendors.selectors import MANAGER_ROLES, StaffContext
from agora.web.access import vendor_staff_required
from agora.web.vendor_portal.operations import selectors
from agora.web.vendor_portal.operations.forms import InviteForm, RoleForm, add_domain_error
from agora.web.vendor_portal.operations.views.common import can_manage, page, staff_for


def _staff_page(
    request: HttpRequest,
    staff: StaffContext,
    *,
    invite_form: InviteForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    members = vendor_selectors.staff_list(vendor=staff.vendor)
    context: dict[str, Any] = {
        "page_title": f"Staff — {staff.vendor.name}",
        "members": members,
        "can_manage": can_manage(staff),
        "invitations": selectors.open_invitations(staff=staff, now=clock.now())
        if can_manage(staff)
        else [],
        "invite_form": invite_form or InviteForm(),
        "role_choices": RoleForm.base_fields["role"].choices,  # type: ignore[attr-defined]
        "error": error,
    }
    return page(request, "staff.html", staff, context, status=status)


@require_safe
@vendor_staff_required
def staff_list(request: HttpRequest) -> HttpResponse:
    return _staff_page(request, staff_for(request))


@require_POST
@vendor_staff_required
def staff_invite(request: HttpRequest) -> HttpResponse:
    staff = staff_for(request, MANAGER_ROLES)
    form = InviteForm(request.POST)
    if not form.is_valid():
        return _staff_page(request, staff, invite_form=form, status=422)
    try:
        vendor_services.staff_invite(
            actor=request.user,  # type: ignore[arg-type]
            vendor=staff.vendor,
            actor_role=staff.role,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
        )
    except DomainError as refusal:
        add_domain_error(form, refusal)
        return _staff_page(request, staff, invite_form=form, status=int(refusal.status))
    messages.success(
        request, f"Invitation sent to {form.cleaned_data['email']} as {form.cleaned_data['role']}."
    )
    return redirect("/vendor/staff/")


@require_POST
@vendor_staff_required
def staff_change_role(request: HttpRequest, user_id: int) -> HttpResponse:
    staff = staff_for(request, MANAGER_ROLES)
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _staff_page(request, staff, error="Choose owner, manager or staff.", status=422)
    try:
        vendor_services.staff_change_role(
            actor=request.user,  # type: ignore[arg-type]
            vendor=staff.vendor,
            actor_role=staff.role,
            user_id=user_id,
            role=form.cleaned_data["role"],
        )
    except DomainError as refusal:
        return _staff_page(request, staff, error=refusal.detail, status=int(refusal.status))
    messages.success(request, f"Role changed to {form.cleaned_data['role']}.")
    return redirect("/vendor/staff/")


@require_POST
@vendor_staff_required
def staff_remove(request: HttpRequest, user_id: int) -> HttpResponse:
    staff = staff_for(request, MANAGER_ROLES)
    try:
        vendor_services.staff_remove(
            actor=request.user,  # type: ignore[arg-type]
            vendor=staff.vendor,
            actor_role=staff.role,
            user_id=user_id,
        )
    except DomainError as refusal:
        return _staff_page(request, staff, error=refusal.detail, status=int(refusal.status))
    messages.success(request, "Removed from the staff.")
    if user_id == request.user.pk:
        return redirect("/account/")
    return redirect("/vendor/staff/")
