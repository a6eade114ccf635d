"""The vendor's profile, onboarding status and verification documents; onboarding for a
signed-in person who wants to sell; joining a vendor's staff with an invitation code.

Uploads go through `vendors.services.document_upload`, which judges a file by its bytes
(PDF or JPEG/PNG/WebP) and its size, exactly as for the API.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from agora.core.errors import DomainError
from agora.vendors import selectors as vendor_selectors
from agora.vendors import services as vendor_services
from agora.vendors.models import VendorStatus
from agora.vendors.selectors import MANAGER_ROLES, StaffContext
from agora.web.access import customer_required, vendor_staff_required
from agora.web.vendor_portal.current import SESSION_KEY
from agora.web.vendor_portal.operations.forms import (
    DocumentForm,
    JoinForm,
    OnboardingForm,
    ProfileForm,
    add_domain_error,
)
from agora.web.vendor_portal.operations.views.common import TEMPLATES, can_manage, page, staff_for

ONBOARDING_STEPS: dict[str, str] = {
    VendorStatus.PENDING: (
        "Your application is waiting for review. Upload your verification documents below; "
        "an operator approves the vendor once they have checked them."
    ),
    VendorStatus.ACTIVE: "Approved: your vendor and its active listings are public.",
    VendorStatus.REJECTED: "The application was rejected.",
    VendorStatus.SUSPENDED: "Suspended: your vendor and its listings are hidden from customers.",
}


def _profile_page(
    request: HttpRequest,
    staff: StaffContext,
    *,
    profile_form: forms.Form | None = None,
    document_form: forms.Form | None = None,
    status: int = 200,
) -> HttpResponse:
    vendor = staff.vendor
    context: dict[str, Any] = {
        "page_title": f"Profile — {vendor.name}",
        "vendor": vendor,
        "can_manage": can_manage(staff),
        "onboarding_note": ONBOARDING_STEPS.get(vendor.status, ""),
        "documents": vendor_selectors.documents_list(vendor=vendor),
        "profile_form": profile_form or ProfileForm(initial=ProfileForm.initial_for(vendor)),
        "document_form": document_form or DocumentForm(),
    }
    return page(request, "profile.html", staff, context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@vendor_staff_required
def profile(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _profile_page(request, staff_for(request))
    staff = staff_for(request, MANAGER_ROLES)
    form = ProfileForm(request.POST, initial=ProfileForm.initial_for(staff.vendor))
    if not form.is_valid():
        return _profile_page(request, staff, profile_form=form, status=422)
    changes = form.changes()
    if not changes:
        messages.info(request, "Nothing changed.")
        return redirect("/vendor/profile/")
    try:
        vendor_services.vendor_update(actor=request.user, vendor=staff.vendor, changes=changes)  # type: ignore[arg-type]
    except DomainError as refusal:
        add_domain_error(form, refusal)
        return _profile_page(request, staff, profile_form=form, status=int(refusal.status))
    messages.success(request, "Profile saved.")
    return redirect("/vendor/profile/")


@require_http_methods(["POST"])
@vendor_staff_required
def document_upload(request: HttpRequest) -> HttpResponse:
    staff = staff_for(request, MANAGER_ROLES)
    form = DocumentForm(request.POST, request.FILES)
    if not form.is_valid():
        return _profile_page(request, staff, document_form=form, status=422)
    try:
        document = vendor_services.document_upload(
            actor=request.user,  # type: ignore[arg-type]
            vendor=staff.vendor,
            kind=form.cleaned_data["kind"],
            upload=form.cleaned_data["file"],
        )
    except DomainError as refusal:
        add_domain_error(form, refusal)
        return _profile_page(request, staff, document_form=form, status=int(refusal.status))
    messages.success(request, f"Uploaded {document.original_name}.")
    return redirect("/vendor/profile/#documents")


@require_safe
@vendor_staff_required
def document_download(request: HttpRequest, document_id: int) -> HttpResponse:
    staff = staff_for(request)
    document = vendor_selectors.document_get(vendor=staff.vendor, document_id=document_id)
    # A streaming response; the portal decorators are typed for plain HttpResponse views.
    return FileResponse(  # type: ignore[return-value]
        document.file.open("rb"),
        as_attachment=True,
        filename=document.original_name,
        content_type=document.content_type,
    )


# --- becoming a vendor ------------------------------------------------------------------------


def _render_signed_in(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    return render(request, TEMPLATES + template, context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@customer_required
def onboarding(request: HttpRequest) -> HttpResponse:
    existing = vendor_selectors.staff_vendor_ids(user=request.user)
    form = OnboardingForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                vendor = vendor_services.vendor_apply(
                    user=request.user,  # type: ignore[arg-type]
                    **form.service_arguments(),
                )
            except DomainError as refusal:
                add_domain_error(form, refusal)
                status = int(refusal.status)
            else:
                request.session[SESSION_KEY] = vendor.pk
                messages.success(
                    request,
                    f"{vendor.name} is registered and waiting for review. "
                    "Upload your verification documents to speed it up.",
                )
                return redirect("/vendor/profile/")
        else:
            status = 422
    return _render_signed_in(
        request,
        "onboarding.html",
        {
            "page_title": "Become a vendor — Agora",
            "form": form,
            "already_staff": bool(existing),
            "join_form": JoinForm(),
        },
        status,
    )


@require_http_methods(["POST"])
@customer_required
def join(request: HttpRequest) -> HttpResponse:
    form = JoinForm(request.POST)
    if form.is_valid():
        try:
            membership = vendor_services.invitation_accept(
                user=request.user,  # type: ignore[arg-type]
                token=form.cleaned_data["token"],
            )
        except DomainError as refusal:
            form.add_error("token", refusal.detail)
        else:
            request.session[SESSION_KEY] = membership.vendor_id
            messages.success(request, f"You joined the staff as {membership.role}.")
            return redirect("/vendor/")
    return _render_signed_in(
        request,
        "onboarding.html",
        {
            "page_title": "Become a vendor — Agora",
            "form": OnboardingForm(),
            "already_staff": bool(vendor_selectors.staff_vendor_ids(user=request.user)),
            "join_form": form,
        },
        422,
    )
