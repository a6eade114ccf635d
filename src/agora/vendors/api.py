from __future__ import annotations

from django.http import FileResponse, HttpRequest, HttpResponse
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile

from agora.accounts.auth import acting_user, bearer, operator, optional_user
from agora.core.caching import cache_read
from agora.core.openapi import file_responses
from agora.core.pagination import PageOut
from agora.vendors import selectors, services
from agora.vendors.models import VerificationDocument
from agora.vendors.schemas import (
    AcceptInvitationIn,
    DocumentOut,
    InvitationOut,
    InviteIn,
    MembershipOut,
    ReasonIn,
    RequiredReasonIn,
    RoleIn,
    StaffOut,
    VendorApplyIn,
    VendorOut,
    VendorPatchIn,
    VendorStatusOut,
)

router = Router(tags=["vendors"])
operator_router = Router(tags=["operator"])


@router.post("/vendors", response={201: VendorOut}, auth=bearer, summary="Apply to sell")
def vendor_apply(request: HttpRequest, payload: VendorApplyIn) -> Status[VendorOut]:
    data = payload.dict()
    vendor = services.vendor_apply(user=acting_user(request), **data)
    return Status(201, VendorOut.of(vendor))


@router.get("/vendors", response=PageOut[VendorOut], summary="Active vendors")
def vendor_list(
    request: HttpRequest,
    city: str | None = None,
    vertical: str | None = None,
    q: str | None = None,
    cursor: str | None = None,
    limit: int = 20,
) -> PageOut[VendorOut]:
    page = selectors.vendors_public(city=city, vertical=vertical, q=q, cursor=cursor, limit=limit)
    return PageOut[VendorOut](
        items=[VendorOut.of(v) for v in page.items], next_cursor=page.next_cursor
    )


@router.get("/vendors/{vendor_id}", response=VendorOut, summary="A vendor's profile")
def vendor_detail(request: HttpRequest, response: HttpResponse, vendor_id: int) -> VendorOut:
    user = optional_user(request)
    vendor = selectors.vendor_get_visible(user=user, vendor_id=vendor_id)
    cache_read(response, public=user is None)  # anonymous callers only ever see active ones
    return VendorOut.of(vendor)


@router.patch("/vendors/{vendor_id}", response=VendorOut, auth=bearer, summary="Edit the profile")
def vendor_update(request: HttpRequest, vendor_id: int, payload: VendorPatchIn) -> VendorOut:
    user = acting_user(request)
    vendor = selectors.vendor_get_for_staff(
        user=user, vendor_id=vendor_id, roles=selectors.MANAGER_ROLES
    )
    vendor = services.vendor_update(
        actor=user, vendor=vendor, changes=payload.dict(exclude_unset=True)
    )
    return VendorOut.of(vendor)


# --- staff ------------------------------------------------------------------------------


@router.get("/vendors/{vendor_id}/staff", response=list[StaffOut], auth=bearer, summary="Staff")
def staff_list(request: HttpRequest, vendor_id: int) -> list[StaffOut]:
    vendor = selectors.vendor_get_for_staff(user=acting_user(request), vendor_id=vendor_id)
    return [StaffOut.of(m) for m in selectors.staff_list(vendor=vendor)]


@router.post(
    "/vendors/{vendor_id}/staff/invitations",
    response={201: InvitationOut},
    auth=bearer,
    summary="Invite someone by e-mail",
)
def staff_invite(request: HttpRequest, vendor_id: int, payload: InviteIn) -> Status[InvitationOut]:
    user = acting_user(request)
    staff = selectors.staff_context_get(
        user=user, vendor_id=vendor_id, roles=selectors.MANAGER_ROLES
    )
    vendor = staff.vendor
    issued = services.staff_invite(
        actor=user,
        vendor=vendor,
        actor_role=staff.role,
        email=payload.email,
        role=payload.role,
    )
    invitation = issued.invitation
    return Status(
        201,
        InvitationOut(
            id=invitation.pk,
            vendor_id=vendor.pk,
            email=invitation.email,
            role=invitation.role,
            expires_at=invitation.expires_at,
        ),
    )


@router.post(
    "/invitations/accept", response=MembershipOut, auth=bearer, summary="Join a vendor's staff"
)
def invitation_accept(request: HttpRequest, payload: AcceptInvitationIn) -> MembershipOut:
    membership = services.invitation_accept(user=acting_user(request), token=payload.token)
    return MembershipOut(vendor_id=membership.vendor_id, role=membership.role)


@router.patch(
    "/vendors/{vendor_id}/staff/{user_id}", response=StaffOut, auth=bearer, summary="Change a role"
)
def staff_change_role(
    request: HttpRequest, vendor_id: int, user_id: int, payload: RoleIn
) -> StaffOut:
    user = acting_user(request)
    staff = selectors.staff_context_get(
        user=user, vendor_id=vendor_id, roles=selectors.MANAGER_ROLES
    )
    vendor = staff.vendor
    membership = services.staff_change_role(
        actor=user,
        vendor=vendor,
        actor_role=staff.role,
        user_id=user_id,
        role=payload.role,
    )
    return StaffOut.of(membership)


@router.delete(
    "/vendors/{vendor_id}/staff/{user_id}", response={204: None}, auth=bearer, summary="Remove"
)
def staff_remove(request: HttpRequest, vendor_id: int, user_id: int) -> HttpResponse:
    user = acting_user(request)
    staff = selectors.staff_context_get(
        user=user, vendor_id=vendor_id, roles=selectors.MANAGER_ROLES
    )
    vendor = staff.vendor
    services.staff_remove(actor=user, vendor=vendor, actor_role=staff.role, user_id=user_id)
    return HttpResponse(status=204)


# --- verification documents -----------------------------------------------------------------


@router.post(
    "/vendors/{vendor_id}/documents",
    response={201: DocumentOut},
    auth=bearer,
    summary="Upload a verification document (PDF, JPEG, PNG or WebP, ≤ 10 MB)",
)
def document_upload(
    request: HttpRequest, vendor_id: int, kind: Form[str], file: File[UploadedFile]
) -> Status[DocumentOut]:
    user = acting_user(request)
    vendor = selectors.vendor_get_for_staff(
        user=user, vendor_id=vendor_id, roles=selectors.MANAGER_ROLES
    )
    document = services.document_upload(actor=user, vendor=vendor, kind=kind, upload=file)
    return Status(201, DocumentOut.of(document))


@router.get(
    "/vendors/{vendor_id}/documents", response=list[DocumentOut], auth=bearer, summary="Documents"
)
def document_list(request: HttpRequest, vendor_id: int) -> list[DocumentOut]:
    vendor = selectors.vendor_get_for_staff(user=acting_user(request), vendor_id=vendor_id)
    return [DocumentOut.of(d) for d in selectors.documents_list(vendor=vendor)]


def _download(document: VerificationDocument) -> FileResponse:
    return FileResponse(
        document.file.open("rb"),
        as_attachment=True,
        filename=document.original_name,
        content_type=document.content_type,
    )


_DOCUMENT_FILE = file_responses(
    "application/pdf",
    "image/jpeg",
    "image/png",
    "image/webp",
    description="The document's bytes, with the type it was uploaded as",
)


@router.get(
    "/vendors/{vendor_id}/documents/{document_id}/file",
    auth=bearer,
    summary="Download a document",
    openapi_extra=_DOCUMENT_FILE,
)
def document_download(request: HttpRequest, vendor_id: int, document_id: int) -> FileResponse:
    vendor = selectors.vendor_get_for_staff(user=acting_user(request), vendor_id=vendor_id)
    return _download(selectors.document_get(vendor=vendor, document_id=document_id))


# --- operator ------------------------------------------------------------------------------


@operator_router.get(
    "/operator/vendors", response=PageOut[VendorOut], auth=operator, summary="Review queue"
)
def operator_vendor_queue(
    request: HttpRequest, status: str | None = None, cursor: str | None = None, limit: int = 20
) -> PageOut[VendorOut]:
    page = selectors.vendor_review_queue(status=status, cursor=cursor, limit=limit)
    return PageOut[VendorOut](
        items=[VendorOut.of(v) for v in page.items], next_cursor=page.next_cursor
    )


def _status(vendor: object) -> VendorStatusOut:
    return VendorStatusOut.from_orm(vendor)


@operator_router.post(
    "/operator/vendors/{vendor_id}/approve", response=VendorStatusOut, auth=operator
)
def operator_vendor_approve(
    request: HttpRequest, vendor_id: int, payload: ReasonIn | None = None
) -> VendorStatusOut:
    user = acting_user(request)
    vendor = selectors.vendor_get_for_operator(user=user, vendor_id=vendor_id)
    return _status(
        services.vendor_approve(actor=user, vendor=vendor, reason=payload.reason if payload else "")
    )


@operator_router.post(
    "/operator/vendors/{vendor_id}/reject", response=VendorStatusOut, auth=operator
)
def operator_vendor_reject(
    request: HttpRequest, vendor_id: int, payload: RequiredReasonIn
) -> VendorStatusOut:
    user = acting_user(request)
    vendor = selectors.vendor_get_for_operator(user=user, vendor_id=vendor_id)
    return _status(services.vendor_reject(actor=user, vendor=vendor, reason=payload.reason))


@operator_router.post(
    "/operator/vendors/{vendor_id}/suspend", response=VendorStatusOut, auth=operator
)
def operator_vendor_suspend(
    request: HttpRequest, vendor_id: int, payload: RequiredReasonIn
) -> VendorStatusOut:
    user = acting_user(request)
    vendor = selectors.vendor_get_for_operator(user=user, vendor_id=vendor_id)
    return _status(services.vendor_suspend(actor=user, vendor=vendor, reason=payload.reason))


@operator_router.post(
    "/operator/vendors/{vendor_id}/reinstate", response=VendorStatusOut, auth=operator
)
def operator_vendor_reinstate(
    request: HttpRequest, vendor_id: int, payload: ReasonIn | None = None
) -> VendorStatusOut:
    user = acting_user(request)
    vendor = selectors.vendor_get_for_operator(user=user, vendor_id=vendor_id)
    return _status(
        services.vendor_reinstate(
            actor=user, vendor=vendor, reason=payload.reason if payload else ""
        )
    )


@operator_router.get(
    "/operator/vendors/{vendor_id}/documents",
    response=list[DocumentOut],
    auth=operator,
    summary="Documents to review",
)
def operator_document_list(request: HttpRequest, vendor_id: int) -> list[DocumentOut]:
    vendor = selectors.vendor_get_for_operator(user=acting_user(request), vendor_id=vendor_id)
    return [DocumentOut.of(d) for d in selectors.documents_list(vendor=vendor)]


@operator_router.get(
    "/operator/vendors/{vendor_id}/documents/{document_id}/file",
    auth=operator,
    openapi_extra=_DOCUMENT_FILE,
)
def operator_document_download(
    request: HttpRequest, vendor_id: int, document_id: int
) -> FileResponse:
    vendor = selectors.vendor_get_for_operator(user=acting_user(request), vendor_id=vendor_id)
    return _download(selectors.document_get(vendor=vendor, document_id=document_id))
