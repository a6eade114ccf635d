from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema, Status

from agora.accounts import selectors, services
from agora.accounts.auth import acting_user, bearer, operator
from agora.accounts.privacy import selectors as privacy_selectors
from agora.accounts.privacy import services as privacy_services
from agora.accounts.schemas import (
    AccountDeleteIn,
    MeOut,
    OtpConfirmIn,
    OtpIn,
    RecoveryCodesOut,
    RegisterIn,
    TokenIn,
    TokenOut,
    TwoFactorEnrolmentOut,
    TwoFactorStatusOut,
    UserOut,
)
from agora.accounts.two_factor import selectors as two_factor_selectors
from agora.accounts.two_factor import services as two_factor
from agora.core import selectors as audit_selectors
from agora.core.pagination import PageOut

router = Router(tags=["accounts"])


def client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR") or "unknown"


@router.post("/auth/register", response={201: UserOut}, summary="Create an account")
def register(request: HttpRequest, payload: RegisterIn) -> Status[UserOut]:
    user = services.user_register(
        email=payload.email, password=payload.password, name=payload.name, ip=client_ip(request)
    )
    profile = selectors.user_profile(user=user)
    return Status(201, UserOut(id=user.pk, email=user.email, name=user.name, roles=profile.roles))


@router.post(
    "/auth/token", response=TokenOut, summary="Exchange e-mail and password for a bearer token"
)
def token(request: HttpRequest, response: HttpResponse, payload: TokenIn) -> TokenOut:
    issued = services.token_issue(
        email=payload.email, password=payload.password, ip=client_ip(request), otp=payload.otp
    )
    # RFC 6749 5.1: a token response is never cached; the idempotency layer never stores it.
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return TokenOut(access_token=issued.token, expires_in=issued.expires_in)


@router.delete("/auth/token", response={204: None}, auth=bearer, summary="Revoke the calling token")
def revoke_token(request: HttpRequest) -> HttpResponse:
    services.token_revoke(token=request.api_token)  # type: ignore[attr-defined]
    return HttpResponse(status=204)


@router.get("/me", response=MeOut, auth=bearer, summary="The signed-in user")
def me(request: HttpRequest) -> MeOut:
    profile = selectors.user_profile(user=acting_user(request))
    user = profile.user
    return MeOut(
        id=user.pk,
        email=user.email,
        name=user.name,
        roles=profile.roles,
        vendor_ids=profile.vendor_ids,
        two_factor_enabled=user.otp_enabled_at is not None,
    )


class AuditEntryOut(Schema):
    id: int
    at: datetime
    action: str
    actor_id: int | None
    object_type: str
    object_id: str
    data: dict[str, Any]
    request_id: str


@router.get(
    "/operator/audit-log",
    response=PageOut[AuditEntryOut],
    auth=operator,
    tags=["operator"],
    summary="Every recorded state change, newest first",
)
def audit_log_list(
    request: HttpRequest, action: str | None = None, cursor: str | None = None, limit: int = 50
) -> PageOut[AuditEntryOut]:
    page = audit_selectors.audit_entries(action_prefix=action, cursor=cursor, limit=limit)
    return PageOut[AuditEntryOut](
        items=[
            AuditEntryOut(
                id=entry.pk,
                at=entry.at,
                action=entry.action,
                actor_id=entry.actor_id,
                object_type=entry.content_type.model,
                object_id=entry.object_id,
                data=entry.data,
                request_id=entry.request_id,
            )
            for entry in page.items
        ],
        next_cursor=page.next_cursor,
    )


# --- two-factor sign-in ---------------------------------------------------------------------
# Open to an operator who has not turned it on yet (the operator endpoints are not), so
# that they can.


def _no_store(response: HttpResponse) -> None:
    """A response holding a secret (a TOTP secret, recovery codes) is never cached, and the
    idempotency layer never stores it."""
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"


@router.get(
    "/me/2fa", response=TwoFactorStatusOut, auth=bearer, summary="Two-factor sign-in status"
)
def two_factor_status(request: HttpRequest) -> TwoFactorStatusOut:
    status = two_factor_selectors.two_factor_status(user=acting_user(request))
    return TwoFactorStatusOut(
        enabled=status.enabled,
        enabled_at=status.enabled_at,
        required=status.required,
        recovery_codes_left=status.recovery_codes_left,
        enrolment_pending=status.pending is not None,
    )


@router.post(
    "/me/2fa",
    response={201: TwoFactorEnrolmentOut},
    auth=bearer,
    summary="Start adding an authenticator app (replacing one needs a current code)",
)
def two_factor_enrol(
    request: HttpRequest, response: HttpResponse, payload: OtpIn | None = None
) -> Status[TwoFactorEnrolmentOut]:
    pending = two_factor.two_factor_enrol_start(
        user=acting_user(request), otp=payload.otp if payload is not None else None
    )
    _no_store(response)
    return Status(
        201,
        TwoFactorEnrolmentOut(
            secret=pending.secret, otpauth_url=pending.otpauth_url, qr_svg=pending.qr_svg
        ),
    )


@router.post(
    "/me/2fa/confirm",
    response=RecoveryCodesOut,
    auth=bearer,
    summary="Turn two-factor sign-in on with the app's first code; returns recovery codes",
)
def two_factor_confirm(
    request: HttpRequest, response: HttpResponse, payload: OtpConfirmIn
) -> RecoveryCodesOut:
    recovery = two_factor.two_factor_enrol_confirm(
        user=acting_user(request),
        code=payload.code,
        keep_token=request.api_token,  # type: ignore[attr-defined]
    )
    _no_store(response)
    return RecoveryCodesOut(recovery_codes=recovery.codes)


@router.post(
    "/me/2fa/recovery-codes",
    response=RecoveryCodesOut,
    auth=bearer,
    summary="Replace the recovery codes (needs a current code)",
)
def recovery_codes(
    request: HttpRequest, response: HttpResponse, payload: OtpIn
) -> RecoveryCodesOut:
    recovery = two_factor.recovery_codes_regenerate(user=acting_user(request), otp=payload.otp)
    _no_store(response)
    return RecoveryCodesOut(recovery_codes=recovery.codes)


@router.delete(
    "/me/2fa",
    response={204: None},
    auth=bearer,
    summary="Turn two-factor sign-in off (needs a current code; not for operators)",
)
def two_factor_disable(request: HttpRequest, payload: OtpIn) -> HttpResponse:
    two_factor.two_factor_disable(user=acting_user(request), otp=payload.otp)
    return HttpResponse(status=204)


# --- your data ------------------------------------------------------------------------------


@router.get(
    "/me/export",
    response=dict[str, Any],
    auth=bearer,
    summary="Download everything the marketplace holds about you (JSON)",
)
def personal_data_export(request: HttpRequest, response: HttpResponse) -> dict[str, Any]:
    export = privacy_selectors.personal_data_export(user=acting_user(request))
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response["Cache-Control"] = "no-store"
    return export.document


@router.delete(
    "/me",
    response={204: None},
    auth=bearer,
    summary="Delete your account (password to confirm): personal data erased, records kept",
)
def account_delete(request: HttpRequest, payload: AccountDeleteIn) -> HttpResponse:
    privacy_services.account_delete(
        user=acting_user(request), password=payload.password, ip=client_ip(request)
    )
    return HttpResponse(status=204)
