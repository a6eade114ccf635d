"""Refusals of the messaging app, each with a stable code (API.md: problem+json)."""

from __future__ import annotations

from enum import StrEnum
from http import HTTPStatus

from agora.core.errors import InvalidInput


class MessagingErrorCode(StrEnum):
    # A file that is not a PDF or a JPEG, PNG or WebP image by its bytes (SVG, HTML, ...).
    ATTACHMENT_TYPE_REFUSED = "attachment_type_refused"
    ATTACHMENT_TOO_LARGE = "attachment_too_large"
    TOO_MANY_ATTACHMENTS = "too_many_attachments"


class MessagingError(InvalidInput):
    """Input the messaging rules refuse (422), with the field path in `errors`."""

    status = HTTPStatus.UNPROCESSABLE_ENTITY


def attachment_error(
    detail: str, *, code: MessagingErrorCode, index: int, msg: str
) -> MessagingError:
    return MessagingError(
        detail,
        code=code,
        errors=[{"loc": ["body", "files", index], "msg": msg, "type": str(code)}],
    )
