from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import Field

from agora.messaging.selectors import AttachmentView, ConversationSummary, MessageView, Thread
from agora.vendors.schemas import StrictIn

# Generous before HTML is removed; the service allows 5,000 characters of text after it.
RAW_TEXT_LIMIT = 20_000


class MessageIn(StrictIn):
    text: str = Field(
        "",
        max_length=RAW_TEXT_LIMIT,
        description="Plain text, 1–5,000 characters once HTML is removed; may be empty when "
        "files are sent (multipart/form-data).",
    )
    vendor_id: int | None = Field(
        None,
        description="Which vendor's conversation: needed for quote requests (one conversation "
        "per invited vendor); for bookings and orders it is implied, and another vendor's "
        "id is 404.",
    )


class AuthorOut(Schema):
    name: str = Field(description="First name only.")
    role: str = Field(description="customer, vendor or operator")


class AttachmentOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    url: str

    @classmethod
    def of(cls, attachment: AttachmentView) -> AttachmentOut:
        return cls(
            id=attachment.id,
            name=attachment.name,
            content_type=attachment.content_type,
            size=attachment.size,
            url=f"/api/v1/messages/{attachment.message_id}/attachments/{attachment.id}",
        )


class MessageOut(Schema):
    id: int
    author: AuthorOut
    mine: bool = Field(description="Written by the caller.")
    text: str = Field(
        description="As the caller may read it: phone numbers and e-mail addresses written by "
        "the other side are masked until the booking or order is paid."
    )
    created_at: datetime
    contact_hidden: bool = Field(
        description="The text holds contact details hidden from the side that did not write "
        "it (from the caller, or — in the caller's own messages — from the other side)."
    )
    attachments: list[AttachmentOut]

    @classmethod
    def of(cls, message: MessageView) -> MessageOut:
        return cls(
            id=message.id,
            author=AuthorOut(name=message.author_name, role=message.author_role),
            mine=message.mine,
            text=message.text,
            created_at=message.created_at,
            contact_hidden=message.contact_hidden,
            attachments=[AttachmentOut.of(a) for a in message.attachments],
        )


class SentOut(MessageOut):
    notice: str | None = Field(
        None,
        description="Said to the author when contact details in the message are hidden from "
        "the other side until payment.",
    )

    @classmethod
    def sent(cls, message: MessageView, *, notice: str) -> SentOut:
        return cls(**MessageOut.of(message).model_dump(), notice=notice or None)


class SubjectOut(Schema):
    kind: str
    id: int
    title: str
    vendor_id: int
    vendor_name: str
    contact_allowed: bool = Field(
        description="Paid: phone numbers and e-mail addresses are shown to both sides."
    )


class ThreadOut(Schema):
    items: list[MessageOut] = Field(description="Newest first; next_cursor goes further back.")
    next_cursor: str | None
    conversation_id: int | None = Field(description="null until the first message is sent")
    subject: SubjectOut
    role: str = Field(description="How the caller takes part: customer, vendor or operator.")
    unread_count: int

    @classmethod
    def of(cls, thread: Thread) -> ThreadOut:
        subject = thread.subject
        return cls(
            items=[MessageOut.of(m) for m in thread.messages],
            next_cursor=thread.next_cursor,
            conversation_id=thread.conversation_id,
            subject=SubjectOut(
                kind=subject.kind,
                id=subject.id,
                title=subject.title,
                vendor_id=subject.vendor_id,
                vendor_name=subject.vendor_name,
                contact_allowed=subject.contact_allowed,
            ),
            role=thread.role,
            unread_count=thread.unread_count,
        )


class ReadOut(Schema):
    conversation_id: int | None
    unread_count: int


class ConversationOut(Schema):
    id: int
    subject: str = Field(examples=["booking:12"])
    subject_kind: str
    subject_id: int
    title: str
    vendor_id: int
    vendor_name: str
    customer_name: str
    last_message_at: datetime
    unread_count: int
    preview: str
    url: str = Field(description="The conversation's page in the caller's portal.")

    @classmethod
    def of(cls, summary: ConversationSummary) -> ConversationOut:
        return cls(
            id=summary.id,
            subject=f"{summary.subject_kind}:{summary.subject_id}",
            subject_kind=summary.subject_kind,
            subject_id=summary.subject_id,
            title=summary.title,
            vendor_id=summary.vendor_id,
            vendor_name=summary.vendor_name,
            customer_name=summary.customer_name,
            last_message_at=summary.last_message_at,
            unread_count=summary.unread_count,
            preview=summary.preview,
            url=summary.url,
        )
