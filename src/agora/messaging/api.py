"""Conversations between a customer and a vendor's staff about a booking or an order.

`POST .../messages` takes JSON `{text, vendor_id?}`, or multipart/form-data with the same
fields plus up to five `files` (PDF, JPEG, PNG or WebP, at most 10 MB each). Anyone who is
not the subject's customer or on its vendor's staff gets 404; operators may read every
conversation and write as the operator.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse, HttpRequest
from ninja import Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import Field
from pydantic import ValidationError as PydanticValidationError

from agora.accounts.auth import acting_user, bearer
from agora.core.openapi import file_responses
from agora.core.pagination import PageOut
from agora.messaging import selectors, services
from agora.messaging.downloads import attachment_response
from agora.messaging.models import SubjectKind
from agora.messaging.schemas import (
    ConversationOut,
    MessageIn,
    ReadOut,
    SentOut,
    ThreadOut,
)

router = Router(tags=["messages"])

_MULTIPART_SCHEMA = {
    "type": "object",
    "properties": {
        "text": {"type": "string", "maxLength": 20_000},
        "vendor_id": {"type": "integer"},
        "files": {"type": "array", "items": {"type": "string", "format": "binary"}, "maxItems": 5},
    },
}
_POST_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": MessageIn.model_json_schema()},
            "multipart/form-data": {"schema": _MULTIPART_SCHEMA},
        },
    }
}


class ThreadQuery(Schema):
    vendor_id: int | None = None
    cursor: str | None = None
    limit: int = Field(30, ge=1, le=100)


class ReadIn(Schema):
    vendor_id: int | None = None


def _message_input(request: HttpRequest) -> tuple[MessageIn, list[UploadedFile]]:
    """The body as JSON, or as multipart/form-data with files; invalid → 422 like any body."""
    files: list[UploadedFile] = []
    if request.content_type == "multipart/form-data":
        data: Any = {key: request.POST.get(key) for key in request.POST}
        if data.get("vendor_id") == "":
            data["vendor_id"] = None
        files = request.FILES.getlist("files")
    else:
        try:
            data = json.loads(request.body or b"{}")
        except (UnicodeDecodeError, ValueError) as error:
            raise HttpError(400, "The request body is not valid JSON.") from error
    try:
        return MessageIn.model_validate(data), files
    except PydanticValidationError as error:
        raise NinjaValidationError(
            [
                {**item, "loc": ["body", "payload", *item.get("loc", ())]}
                for item in error.errors(include_url=False)
            ]
        ) from error


def _thread(request: HttpRequest, kind: str, subject_id: int, query: ThreadQuery) -> ThreadOut:
    return ThreadOut.of(
        selectors.conversation_thread(
            actor=acting_user(request),
            subject_kind=kind,
            subject_id=subject_id,
            vendor_id=query.vendor_id,
            cursor=query.cursor,
            limit=query.limit,
        )
    )


def _send(request: HttpRequest, kind: str, subject_id: int) -> Status[SentOut]:
    user = acting_user(request)
    payload, files = _message_input(request)
    sent = services.message_send(
        actor=user,
        subject_kind=kind,
        subject_id=subject_id,
        text=payload.text,
        vendor_id=payload.vendor_id,
        attachments=files,
    )
    view = selectors.message_view(
        sent.message,
        reader=user,
        reader_role=sent.participation.role,
        contact_allowed=sent.participation.subject.contact_allowed,
    )
    return Status(201, SentOut.sent(view, notice=sent.notice))


def _read(request: HttpRequest, kind: str, subject_id: int, payload: ReadIn | None) -> ReadOut:
    conversation = services.conversation_mark_read(
        actor=acting_user(request),
        subject_kind=kind,
        subject_id=subject_id,
        vendor_id=payload.vendor_id if payload else None,
    )
    return ReadOut(conversation_id=conversation.pk if conversation else None, unread_count=0)


# --- bookings ---------------------------------------------------------------------------------


@router.get(
    "/bookings/{booking_id}/messages",
    response=ThreadOut,
    auth=bearer,
    summary="The conversation about a booking (newest first)",
)
def booking_messages(request: HttpRequest, booking_id: int, query: Query[ThreadQuery]) -> ThreadOut:
    return _thread(request, SubjectKind.BOOKING, booking_id, query)


@router.post(
    "/bookings/{booking_id}/messages",
    response={201: SentOut},
    auth=bearer,
    summary="Write to the other side of a booking (JSON or multipart with files)",
    openapi_extra=_POST_DOC,
)
def booking_message_send(request: HttpRequest, booking_id: int) -> Status[SentOut]:
    return _send(request, SubjectKind.BOOKING, booking_id)


@router.post(
    "/bookings/{booking_id}/messages/read",
    response=ReadOut,
    auth=bearer,
    summary="Mark the booking's conversation read for my side",
)
def booking_messages_read(
    request: HttpRequest, booking_id: int, payload: ReadIn | None = None
) -> ReadOut:
    return _read(request, SubjectKind.BOOKING, booking_id, payload)


# --- orders -----------------------------------------------------------------------------------


@router.get(
    "/orders/{order_id}/messages",
    response=ThreadOut,
    auth=bearer,
    summary="The conversation about a vendor order (newest first)",
)
def order_messages(request: HttpRequest, order_id: int, query: Query[ThreadQuery]) -> ThreadOut:
    return _thread(request, SubjectKind.ORDER, order_id, query)


@router.post(
    "/orders/{order_id}/messages",
    response={201: SentOut},
    auth=bearer,
    summary="Write to the other side of an order (JSON or multipart with files)",
    openapi_extra=_POST_DOC,
)
def order_message_send(request: HttpRequest, order_id: int) -> Status[SentOut]:
    return _send(request, SubjectKind.ORDER, order_id)


@router.post(
    "/orders/{order_id}/messages/read",
    response=ReadOut,
    auth=bearer,
    summary="Mark the order's conversation read for my side",
)
def order_messages_read(
    request: HttpRequest, order_id: int, payload: ReadIn | None = None
) -> ReadOut:
    return _read(request, SubjectKind.ORDER, order_id, payload)


# --- lists and files --------------------------------------------------------------------------


class ConversationQuery(Schema):
    as_: str = Field("customer", alias="as", pattern="^(customer|vendor)$")
    vendor_id: int | None = None
    cursor: str | None = None
    limit: int = Field(20, ge=1, le=100)


@router.get(
    "/conversations",
    response=PageOut[ConversationOut],
    auth=bearer,
    summary="My conversations with unread counts (as customer, or as vendor staff)",
)
def conversation_list(
    request: HttpRequest, query: Query[ConversationQuery]
) -> PageOut[ConversationOut]:
    page = selectors.conversations_for(
        actor=acting_user(request),
        as_vendor=query.as_ == "vendor",
        vendor_id=query.vendor_id,
        cursor=query.cursor,
        limit=query.limit,
    )
    return PageOut[ConversationOut](
        items=[ConversationOut.of(item) for item in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/messages/{message_id}/attachments/{attachment_id}",
    auth=bearer,
    summary="Download a file sent with a message",
    openapi_extra=file_responses(
        "application/pdf",
        "image/jpeg",
        "image/png",
        "image/webp",
        description="The file's bytes, with the type it was sent as",
    ),
)
def attachment_download(request: HttpRequest, message_id: int, attachment_id: int) -> FileResponse:
    attachment = selectors.attachment_get(
        actor=acting_user(request), message_id=message_id, attachment_id=attachment_id
    )
    return attachment_response(attachment)
