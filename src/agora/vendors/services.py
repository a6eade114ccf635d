"""Vendor onboarding, verification, suspension and staff — every write about vendors."""

from __future__ import annotations

import hashlib
import io
import secrets
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.text import slugify
from PIL import Image, UnidentifiedImageError

from agora.accounts.models import User, normalize_email
from agora.catalog.models import City
from agora.core import clock
from agora.core.audit import audit_log
from agora.core.errors import Forbidden, InvalidInput, InvalidTransition, NotFound
from agora.core.statemachine import StateMachine
from agora.core.validation import (
    check_coordinates,
    check_currency,
    check_single_line,
    check_timezone,
    check_web_url,
    field_error,
)
from agora.notifications import outbox
from agora.vendors.errors import VendorError, VendorErrorCode
from agora.vendors.models import (
    DocumentKind,
    StaffRole,
    Vendor,
    VendorInvitation,
    VendorMembership,
    VendorStatus,
    VerificationDocument,
)

VENDOR_LIFECYCLE = StateMachine.of(
    "vendor",
    {
        VendorStatus.PENDING: [VendorStatus.ACTIVE, VendorStatus.REJECTED],
        VendorStatus.ACTIVE: [VendorStatus.SUSPENDED],
        VendorStatus.SUSPENDED: [VendorStatus.ACTIVE],
        VendorStatus.REJECTED: [],
    },
)

# Fields a vendor's owner or manager may change on their profile. Status, tier, slug and
# ratings are absent on purpose: they are the platform's to set (mass-assignment safety).
EDITABLE_PROFILE_FIELDS = frozenset(
    {
        "name",
        "description",
        "address",
        "city",
        "postcode",
        "lat",
        "lng",
        "timezone",
        "contact_email",
        "contact_phone",
        "website",
        "opening_summary",
        "service_radius_km",
        "vertical",
    }
)

# Profile fields that may be cleared with null; every other editable field is NOT NULL.
NULLABLE_PROFILE_FIELDS = frozenset({"city", "lat", "lng"})

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
IMAGE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
INVITATION_TTL = timedelta(days=7)


def _city(value: str | None) -> City | None:
    if not value:
        return None
    city = (
        City.objects.filter(slug=value.strip().lower()).first()
        or City.objects.filter(name__iexact=value.strip()).first()
    )
    if city is None:
        raise field_error("city", f"unknown city {value!r}; see GET /api/v1/cities")
    return city


def vendor_announce(name: str, vendor: Vendor, *, page: str, **extra: Any) -> None:
    """A vendor lifecycle event (`vendor.suspended`) to its owners and managers; `page` is
    the portal page they should open (the profile while inactive, the dashboard once
    active). Precondition: inside the transaction of the change."""
    portal = f"{page}?vendor={vendor.pk}"
    outbox.emit(
        name,
        subject=vendor,
        data={
            "id": vendor.pk,
            "status": vendor.status,
            "name": vendor.name,
            "reason": vendor.status_reason,
            "url": portal,
            "vendor_url": portal,
            **extra,
        },
        vendor_id=vendor.pk,
    )


def _unique_slug(name: str) -> str:
    base = slugify(name)[:120] or "vendor"
    slug, suffix = base, 2
    while Vendor.objects.filter(slug=slug).exists():
        slug, suffix = f"{base}-{suffix}", suffix + 1
    return slug


@transaction.atomic
def vendor_apply(
    *,
    user: User,
    name: str,
    timezone: str,
    currency: str,
    description: str = "",
    address: str = "",
    city: str | None = None,
    lat: Decimal | None = None,
    lng: Decimal | None = None,
    **profile: Any,
) -> Vendor:
    """A signed-in user applies to sell; the vendor starts `pending` with them as owner."""
    name = name.strip()
    if not name:
        raise field_error("name", "must not be blank")
    check_single_line(name, "name")
    check_web_url(str(profile.get("website") or ""))
    check_timezone(timezone)
    check_currency(currency)
    check_coordinates(lat, lng)
    unknown = set(profile) - EDITABLE_PROFILE_FIELDS
    if unknown:
        raise field_error(sorted(unknown)[0], "is not a field you can set")
    city_obj = _city(city)
    for attempt in range(3):
        try:
            with transaction.atomic():
                vendor = Vendor.objects.create(
                    name=name,
                    slug=_unique_slug(name),
                    description=description,
                    address=address,
                    city=city_obj,
                    lat=lat,
                    lng=lng,
                    timezone=timezone,
                    currency=currency,
                    status=VendorStatus.PENDING,
                    **profile,
                )
            break
        except IntegrityError:  # two applicants raced for the same slug
            if attempt == 2:
                raise
    VendorMembership.objects.create(vendor=vendor, user=user, role=StaffRole.OWNER)
    audit_log(actor=user, action="vendor.applied", target=vendor, data={"name": name})
    # The applicant (its owner now) is told what happens next; operators, that a new
    # application waits in their queue.
    outbox.emit(
        "vendor.applied",
        subject=vendor,
        data={
            "id": vendor.pk,
            "status": vendor.status,
            "name": vendor.name,
            "applicant_name": user.name,
            "url": f"/vendor/profile/?vendor={vendor.pk}",
            "vendor_url": f"/vendor/profile/?vendor={vendor.pk}",
            "operator_url": f"/operator/vendors/{vendor.pk}/",
        },
        user_id=user.pk,
        vendor_id=vendor.pk,
        operators=True,
    )
    return vendor


@transaction.atomic
def vendor_update(*, actor: User, vendor: Vendor, changes: dict[str, Any]) -> Vendor:
    """Apply profile `changes` (only EDITABLE_PROFILE_FIELDS; anything else is refused)."""
    forbidden = set(changes) - EDITABLE_PROFILE_FIELDS
    if forbidden:
        raise field_error(sorted(forbidden)[0], "is not a field you can set")
    nulled = sorted(f for f, v in changes.items() if v is None and f not in NULLABLE_PROFILE_FIELDS)
    if nulled:
        raise field_error(nulled[0], "must not be null")
    if "name" in changes and not str(changes["name"]).strip():
        raise field_error("name", "must not be blank")
    if "name" in changes:
        check_single_line(str(changes["name"]), "name")
    if "website" in changes:
        check_web_url(str(changes["website"] or ""))
    if "timezone" in changes:
        check_timezone(changes["timezone"])
    if "city" in changes:
        changes["city"] = _city(changes["city"])
    check_coordinates(changes.get("lat", vendor.lat), changes.get("lng", vendor.lng))
    for field, value in changes.items():
        setattr(vendor, field, value)
    vendor.save(update_fields=[*changes.keys()])
    audit_log(
        actor=actor,
        action="vendor.updated",
        target=vendor,
        data={"fields": sorted(changes)},
    )
    return vendor


def _decide(
    vendor: Vendor, target: str, *, actor: User, reason: str, event: str, page: str, **updates: Any
) -> Vendor:
    """An operator's decision, audited and announced to the vendor's owners and managers
    as `event`, pointing them to the portal's `page`."""
    if not actor.is_operator:
        raise Forbidden("Only operators decide on vendors.")
    VENDOR_LIFECYCLE.apply(
        vendor,
        target,
        actor=actor,
        reason=reason,
        updates={"status_reason": reason, **updates},
    )
    vendor_announce(event, vendor, page=page)
    return vendor


@transaction.atomic
def vendor_approve(*, actor: User, vendor: Vendor, reason: str = "") -> Vendor:
    if vendor.status != VendorStatus.PENDING:
        # suspended → active is a reinstatement, not an approval (see vendor_reinstate).
        raise InvalidTransition(
            f"Only a pending vendor can be approved; this one is {vendor.status}.",
            extra={"from": vendor.status, "to": VendorStatus.ACTIVE},
        )
    return _decide(
        vendor,
        VendorStatus.ACTIVE,
        actor=actor,
        reason=reason,
        event="vendor.approved",
        page="/vendor/",
        approved_at=clock.now(),
    )


@transaction.atomic
def vendor_reject(*, actor: User, vendor: Vendor, reason: str) -> Vendor:
    if not reason.strip():
        raise field_error("reason", "say why, so the applicant can act on it")
    return _decide(
        vendor,
        VendorStatus.REJECTED,
        actor=actor,
        reason=reason,
        event="vendor.rejected",
        page="/vendor/profile/",
    )


@transaction.atomic
def vendor_suspend(*, actor: User, vendor: Vendor, reason: str) -> Vendor:
    """Hide the vendor and all its listings at once: public reads join on vendor status."""
    if not reason.strip():
        raise field_error("reason", "say why the vendor is suspended")
    return _decide(
        vendor,
        VendorStatus.SUSPENDED,
        actor=actor,
        reason=reason,
        event="vendor.suspended",
        page="/vendor/profile/",
    )


@transaction.atomic
def vendor_reinstate(*, actor: User, vendor: Vendor, reason: str = "") -> Vendor:
    if vendor.status != VendorStatus.SUSPENDED:
        # pending → active is an approval, not a reinstatement: keep the two apart.
        raise InvalidTransition(
            f"Only a suspended vendor can be reinstated; this one is {vendor.status}.",
            extra={"from": vendor.status, "to": VendorStatus.ACTIVE},
        )
    return _decide(
        vendor,
        VendorStatus.ACTIVE,
        actor=actor,
        reason=reason,
        event="vendor.reinstated",
        page="/vendor/",
    )


# --- staff ----------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: VendorInvitation
    token: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _require_can_manage_role(*, actor_role: str, role: str) -> None:
    if role == StaffRole.OWNER and actor_role != StaffRole.OWNER:
        raise Forbidden("Only an owner may grant or change the owner role.")


@transaction.atomic
def staff_invite(
    *, actor: User, vendor: Vendor, actor_role: str, email: str, role: str
) -> IssuedInvitation:
    """Invite `email` to the vendor's staff; the invitee accepts with the e-mailed token."""
    if role not in StaffRole.values:
        raise field_error("role", f"must be one of {', '.join(StaffRole.values)}")
    _require_can_manage_role(actor_role=actor_role, role=role)
    email = normalize_email(email)
    try:
        validate_email(email)
    except DjangoValidationError as error:
        raise field_error("email", "not a valid e-mail address") from error
    if VendorMembership.objects.filter(vendor=vendor, user__email__iexact=email).exists():
        raise VendorError(
            "That person is already on this vendor's staff.", code=VendorErrorCode.ALREADY_MEMBER
        )
    token = secrets.token_urlsafe(24)
    invitation = VendorInvitation.objects.create(
        vendor=vendor,
        email=email,
        role=role,
        token_hash=_hash(token),
        invited_by=actor,
        expires_at=clock.now() + INVITATION_TTL,
    )
    audit_log(
        actor=actor,
        action="vendor.staff_invited",
        target=vendor,
        data={"email": email, "role": role},
    )
    # The invitee may have no account yet: the mail goes to the address itself, and its
    # link is absolute (it is opened from a mailbox). The token is in the event because
    # the mail is written when it is sent; only its hash is kept on the invitation.
    outbox.emit(
        "staff.invited",
        subject=invitation,
        data={
            "id": invitation.pk,
            "to_email": email,
            "vendor_name": vendor.name,
            "inviter_name": actor.name,
            "role": role,
            "token": token,
            "url": f"{settings.AGORA_BASE_URL}/vendor/onboarding/?token={token}",
            "expires_at": invitation.expires_at.isoformat(),
            "timezone": vendor.timezone,
        },
        vendor_id=vendor.pk,
    )
    return IssuedInvitation(invitation=invitation, token=token)


@transaction.atomic
def invitation_accept(*, user: User, token: str) -> VendorMembership:
    invitation = (
        VendorInvitation.objects.select_for_update()
        .select_related("vendor")
        .filter(token_hash=_hash(token))
        .first()
    )
    if (
        invitation is None
        or invitation.accepted_at is not None
        or invitation.revoked_at is not None
        or invitation.expires_at <= clock.now()
        or invitation.email != normalize_email(user.email)
    ):
        raise VendorError(
            "This invitation is not valid for your account.",
            code=VendorErrorCode.INVITATION_INVALID,
            status=404,
        )
    membership, created = VendorMembership.objects.get_or_create(
        vendor=invitation.vendor, user=user, defaults={"role": invitation.role}
    )
    if not created:
        raise VendorError(
            "You are already on this vendor's staff.", code=VendorErrorCode.ALREADY_MEMBER
        )
    invitation.accepted_at = clock.now()
    invitation.save(update_fields=["accepted_at"])
    audit_log(
        actor=user,
        action="vendor.staff_joined",
        target=invitation.vendor,
        data={"role": invitation.role},
    )
    return membership


def _member(vendor: Vendor, user_id: int) -> VendorMembership:
    membership = (
        VendorMembership.objects.select_for_update().filter(vendor=vendor, user_id=user_id).first()
    )
    if membership is None:
        raise NotFound("No such staff member.")
    return membership


def _owners_left_after_losing(vendor: Vendor, membership: VendorMembership) -> int:
    owners = VendorMembership.objects.filter(vendor=vendor, role=StaffRole.OWNER).exclude(
        pk=membership.pk
    )
    return owners.count()


@transaction.atomic
def staff_change_role(
    *, actor: User, vendor: Vendor, actor_role: str, user_id: int, role: str
) -> VendorMembership:
    if role not in StaffRole.values:
        raise field_error("role", f"must be one of {', '.join(StaffRole.values)}")
    membership = _member(vendor, user_id)
    _require_can_manage_role(actor_role=actor_role, role=role)
    _require_can_manage_role(actor_role=actor_role, role=membership.role)
    demoting_owner = membership.role == StaffRole.OWNER and role != StaffRole.OWNER
    if demoting_owner and _owners_left_after_losing(vendor, membership) == 0:
        raise VendorError("A vendor needs at least one owner.", code=VendorErrorCode.LAST_OWNER)
    previous = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit_log(
        actor=actor,
        action="vendor.staff_role_changed",
        target=vendor,
        data={"user_id": user_id, "from": previous, "to": role},
    )
    return membership


@transaction.atomic
def staff_remove(*, actor: User, vendor: Vendor, actor_role: str, user_id: int) -> None:
    membership = _member(vendor, user_id)
    _require_can_manage_role(actor_role=actor_role, role=membership.role)
    if membership.role == StaffRole.OWNER and _owners_left_after_losing(vendor, membership) == 0:
        raise VendorError("A vendor needs at least one owner.", code=VendorErrorCode.LAST_OWNER)
    membership.delete()
    # Their calendar feed addresses carry the vendor's bookings to anyone holding them:
    # they die with the membership. (Bookings sits above vendors, hence the late import.)
    from agora.bookings.services.calendar_feeds import calendar_feeds_revoke_for_member

    calendar_feeds_revoke_for_member(vendor_id=vendor.pk, user_id=user_id)
    audit_log(actor=actor, action="vendor.staff_removed", target=vendor, data={"user_id": user_id})


# --- verification documents -------------------------------------------------------------


def _sniff_document(upload: UploadedFile) -> str:
    """The content type of an upload judged by its bytes, not by its name or header."""
    upload.seek(0)
    head = upload.read(5)
    upload.seek(0)
    if head == b"%PDF-":
        return "application/pdf"
    try:
        with Image.open(io.BytesIO(upload.read())) as image:
            image.verify()
            image_format = image.format or ""
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        OSError,
        SyntaxError,
        ValueError,
    ) as error:
        raise InvalidInput(
            "The document must be a PDF or a JPEG, PNG or WebP image.",
            errors=[{"loc": ["file"], "msg": "not a PDF or supported image", "type": "file"}],
        ) from error
    finally:
        upload.seek(0)
    if image_format not in IMAGE_FORMATS:
        raise InvalidInput(
            "The document must be a PDF or a JPEG, PNG or WebP image.",
            errors=[{"loc": ["file"], "msg": f"{image_format} is not accepted", "type": "file"}],
        )
    return IMAGE_FORMATS[image_format]


@transaction.atomic
def document_upload(
    *, actor: User, vendor: Vendor, kind: str, upload: UploadedFile
) -> VerificationDocument:
    if kind not in DocumentKind.values:
        raise field_error("kind", f"must be one of {', '.join(DocumentKind.values)}")
    if upload.size is None or upload.size == 0:
        raise InvalidInput(
            "The file is empty.", errors=[{"loc": ["file"], "msg": "empty", "type": "file"}]
        )
    if upload.size > MAX_DOCUMENT_BYTES:
        raise InvalidInput(
            f"Documents may be at most {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB.",
            errors=[{"loc": ["file"], "msg": "too large", "type": "file"}],
        )
    content_type = _sniff_document(upload)
    original_name = (upload.name or "document")[-255:]
    document = VerificationDocument(
        vendor=vendor,
        kind=kind,
        original_name=original_name,
        content_type=content_type,
        size=upload.size,
        uploaded_by=actor,
    )
    extension = "pdf" if content_type == "application/pdf" else content_type.split("/")[1]
    document.file.save(f"{vendor.pk}-{kind}-{secrets.token_hex(8)}.{extension}", upload, save=False)
    document.save()
    audit_log(
        actor=actor,
        action="vendor.document_uploaded",
        target=vendor,
        data={"kind": kind, "document_id": document.pk},
    )
    return document
