"""Refusals of the webhooks API and pages, each with a stable code."""

from __future__ import annotations

from enum import StrEnum
from http import HTTPStatus

from agora.core.errors import DomainError


class WebhookErrorCode(StrEnum):
    WEBHOOK_URL_REFUSED = "webhook_url_refused"
    WEBHOOK_DISABLED = "webhook_disabled"
    WEBHOOK_LIMIT_REACHED = "webhook_limit_reached"


class WebhookError(DomainError):
    status = HTTPStatus.CONFLICT


class WebhookUrlRefused(WebhookError):
    """The URL may not receive webhooks: a scheme other than http(s), a host that does not
    resolve, or one that resolves to an address inside a private network (SSRF)."""

    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = WebhookErrorCode.WEBHOOK_URL_REFUSED

    def __init__(self, detail: str) -> None:
        super().__init__(
            detail,
            extra={"errors": [{"loc": ["body", "url"], "msg": detail, "type": "url_refused"}]},
        )


def webhook_disabled() -> WebhookError:
    return WebhookError(
        "This endpoint is disabled; enable it before replaying deliveries.",
        code=WebhookErrorCode.WEBHOOK_DISABLED,
    )


def webhook_limit_reached(limit: int) -> WebhookError:
    return WebhookError(
        f"At most {limit} webhook endpoints; delete one first.",
        code=WebhookErrorCode.WEBHOOK_LIMIT_REACHED,
    )
