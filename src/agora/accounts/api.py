from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema, Status

from agora.accounts import selectors, services
from agora.accounts.auth import acting_user, bearer, operator
from agora.accounts.schemas import MeOut, RegisterIn, TokenIn, TokenOut, UserOut
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
        email=payload.email, password=payload.password, ip=client_ip(request)
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
