"""Reads of conversations, always as one person sees them.

Each message is shown as its reader may read it: its author's side and operators read what
was written; the other side reads the masked copy while the subject is unpaid
(`subjects.Subject.contact_allowed`). The lists run a fixed number of queries whatever
their length: one for the page, one for the attachments, one per subject kind for titles
and payment state, and unread counts as a subquery of the page's own query.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db.models import (
    Count,
    DateTimeField,
    IntegerField,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from agora.core.errors import NotFound
from agora.core.pagination import paginate
from agora.messaging import subjects
from agora.messaging.models import Attachment, AuthorRole, Conversation, Message
from agora.messaging.subjects import Subject, SubjectSummary
from agora.vendors.selectors import membership_get, staff_vendor_ids

THREAD_PAGE = 30
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class AttachmentView:
    id: int
    message_id: int
    name: str
    content_type: str
    size: int
    is_image: bool


@dataclass(frozen=True)
class MessageView:
    id: int
    author_name: str
    author_role: str
    # Written by the reader themself, and by the reader's side (a colleague on the staff).
    mine: bool
    own_side: bool
    text: str
    created_at: datetime
    # Contact details in it are hidden from the side that did not write it (the reader,
    # who then reads `text` masked, or the other side, when the reader is the author's).
    contact_hidden: bool
    attachments: tuple[AttachmentView, ...]


@dataclass(frozen=True)
class Thread:
    subject: Subject
    role: str
    conversation_id: int | None
    messages: list[MessageView]  # newest first
    next_cursor: str | None
    unread_count: int

    @property
    def oldest_first(self) -> list[MessageView]:
        return list(reversed(self.messages))

    @property
    def newest_at(self) -> datetime | None:
        return self.messages[0].created_at if self.messages else None


@dataclass(frozen=True)
class ConversationSummary:
    id: int
    subject_kind: str
    subject_id: int
    vendor_id: int
    vendor_name: str
    vendor_timezone: str
    customer_name: str
    title: str
    subject_status: str
    last_message_at: datetime
    unread_count: int
    preview: str
    preview_mine: bool
    url: str


@dataclass(frozen=True)
class ConversationPage:
    items: list[ConversationSummary]
    next_cursor: str | None


def _first_name(name: str) -> str:
    parts = (name or "").split()
    return parts[0] if parts else "Someone"


def _shown_text(message: Message, *, reader_role: str, contact_allowed: bool) -> tuple[str, bool]:
    """(the text the reader reads, whether contact details are hidden from a side)."""
    if not message.masked_text or contact_allowed:
        return message.text, False
    if reader_role in (message.author_role, AuthorRole.OPERATOR):
        return message.text, True
    return message.masked_text, True


def _attachment_view(attachment: Attachment) -> AttachmentView:
    return AttachmentView(
        id=attachment.pk,
        message_id=attachment.message_id,
        name=attachment.original_name,
        content_type=attachment.content_type,
        size=attachment.size,
        is_image=attachment.is_image,
    )


def message_view(
    message: Message, *, reader: Any, reader_role: str, contact_allowed: bool
) -> MessageView:
    """`message` as `reader` (in `reader_role`) reads it. Its attachments must be loaded
    (prefetched, or `attachment_list` set by the service that stored them)."""
    text, hidden = _shown_text(message, reader_role=reader_role, contact_allowed=contact_allowed)
    files = getattr(message, "attachment_list", None)
    if files is None:
        files = list(message.attachments.all())
    return MessageView(
        id=message.pk,
        author_name=_first_name(message.author.name),
        author_role=message.author_role,
        mine=message.author_id == reader.pk,
        own_side=message.author_role == reader_role,
        text=text,
        created_at=message.created_at,
        contact_hidden=hidden,
        attachments=tuple(_attachment_view(a) for a in files),
    )


def _read_field(role: str) -> str:
    return "customer_last_read_at" if role == AuthorRole.CUSTOMER else "vendor_last_read_at"


def _unread_for(conversation: Conversation, role: str) -> int:
    if role == AuthorRole.OPERATOR:
        return 0
    last_read = getattr(conversation, _read_field(role))
    messages = Message.objects.filter(conversation=conversation).exclude(author_role=role)
    if last_read is not None:
        messages = messages.filter(created_at__gt=last_read)
    return messages.count()


def _thread_messages(conversation: Conversation) -> QuerySet[Message]:
    return (
        Message.objects.filter(conversation=conversation)
        .select_related("author")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
    )


def conversation_thread(
    *,
    actor: Any,
    subject_kind: str,
    subject_id: int,
    vendor_id: int | None = None,
    side: str | None = None,
    cursor: str | None = None,
    limit: int = THREAD_PAGE,
) -> Thread:
    """The conversation about the subject as `actor` sees it: a page of messages, newest
    first (`cursor` goes further back), and how many are unread for the actor's side.
    NotFound unless `actor` takes part (`subjects.participation`). Five to seven queries,
    however long the thread."""
    party = subjects.participation(
        actor=actor, kind=subject_kind, subject_id=subject_id, vendor_id=vendor_id, side=side
    )
    subject = party.subject
    conversation = Conversation.objects.filter(
        subject_kind=subject.kind, subject_id=subject.id, vendor_id=subject.vendor_id
    ).first()
    if conversation is None:
        return Thread(
            subject=subject,
            role=party.role,
            conversation_id=None,
            messages=[],
            next_cursor=None,
            unread_count=0,
        )
    page = paginate(
        _thread_messages(conversation),
        ordering=("-created_at", "-id"),
        cursor=cursor,
        limit=limit,
    )
    return Thread(
        subject=subject,
        role=party.role,
        conversation_id=conversation.pk,
        messages=[
            message_view(
                message,
                reader=actor,
                reader_role=party.role,
                contact_allowed=subject.contact_allowed,
            )
            for message in page.items
        ],
        next_cursor=page.next_cursor,
        unread_count=_unread_for(conversation, party.role),
    )


# --- lists of conversations ------------------------------------------------------------------


def _unread_count(role: str) -> Coalesce:
    """Messages of the conversation written by the other side after `role` last read it."""
    unread = (
        Message.objects.filter(
            conversation=OuterRef("pk"),
            created_at__gt=Coalesce(
                OuterRef(_read_field(role)), Value(_EPOCH, output_field=DateTimeField())
            ),
        )
        .exclude(author_role=role)
        .order_by()
        .values("conversation")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(unread, output_field=IntegerField()), Value(0))


def conversations_for(
    *,
    actor: Any,
    as_vendor: bool = False,
    vendor_id: int | None = None,
    cursor: str | None = None,
    limit: int = 20,
) -> ConversationPage:
    """The actor's conversations, latest message first, with unread counts: as a customer
    all of theirs; as vendor staff those of their vendors (of `vendor_id` only, when given —
    NotFound unless they are on its staff)."""
    role = AuthorRole.VENDOR if as_vendor else AuthorRole.CUSTOMER
    conversations = Conversation.objects.select_related(
        "vendor", "customer", "last_message"
    ).annotate(unread=_unread_count(role))
    if as_vendor:
        vendor_ids = staff_vendor_ids(user=actor)
        if vendor_id is not None:
            if vendor_id not in vendor_ids:
                raise NotFound("No such vendor.")
            vendor_ids = [vendor_id]
        conversations = conversations.filter(vendor_id__in=vendor_ids)
    else:
        conversations = conversations.filter(customer_id=actor.pk)
    page = paginate(conversations, ordering=("-last_message_at", "-id"), cursor=cursor, limit=limit)
    summaries = _summaries(page.items)
    return ConversationPage(
        items=[_summary(c, role=role, reader=actor, about=summaries) for c in page.items],
        next_cursor=page.next_cursor,
    )


def _summaries(
    conversations: Sequence[Conversation],
) -> dict[tuple[str, int, int], SubjectSummary]:
    """Each subject's title and payment state: one query per kind on the page."""
    keys: dict[str, list[tuple[int, int]]] = {}
    for conversation in conversations:
        keys.setdefault(conversation.subject_kind, []).append(
            (conversation.subject_id, conversation.vendor_id)
        )
    found: dict[tuple[str, int, int], SubjectSummary] = {}
    for kind, pairs in keys.items():
        try:
            source = subjects.source_for(kind)
        except NotFound:
            continue
        for (subject_id, vendor_id), summary in source.summaries(pairs).items():
            found[(kind, subject_id, vendor_id)] = summary
    return found


def _summary(
    conversation: Conversation,
    *,
    role: str,
    reader: Any,
    about: dict[tuple[str, int, int], SubjectSummary],
) -> ConversationSummary:
    key = (conversation.subject_kind, conversation.subject_id, conversation.vendor_id)
    summary = about.get(key) or SubjectSummary(
        title=f"{conversation.subject_kind} #{conversation.subject_id}",
        status="",
        contact_allowed=False,
    )
    last = conversation.last_message
    preview = ""
    if last is not None:
        preview, _ = _shown_text(last, reader_role=role, contact_allowed=summary.contact_allowed)
    url_of = subjects.vendor_url if role == AuthorRole.VENDOR else subjects.customer_url
    return ConversationSummary(
        id=conversation.pk,
        subject_kind=conversation.subject_kind,
        subject_id=conversation.subject_id,
        vendor_id=conversation.vendor_id,
        vendor_name=conversation.vendor.name,
        vendor_timezone=conversation.vendor.timezone,
        customer_name=conversation.customer.name,
        title=summary.title,
        subject_status=summary.status,
        last_message_at=conversation.last_message_at,
        unread_count=conversation.unread,  # type: ignore[attr-defined]
        preview=preview[:140],
        preview_mine=last is not None and last.author_role == role,
        url=url_of(
            kind=conversation.subject_kind,
            subject_id=conversation.subject_id,
            vendor_id=conversation.vendor_id,
        ),
    )


def unread_total(*, actor: Any, as_vendor: bool = False, vendor_id: int | None = None) -> int:
    """How many messages await the actor's side across all conversations (a badge)."""
    role = AuthorRole.VENDOR if as_vendor else AuthorRole.CUSTOMER
    conversations = Conversation.objects.all()
    if as_vendor:
        ids = staff_vendor_ids(user=actor)
        conversations = conversations.filter(
            vendor_id__in=ids if vendor_id is None else [v for v in ids if v == vendor_id]
        )
    else:
        conversations = conversations.filter(customer_id=actor.pk)
    counts = conversations.annotate(unread=_unread_count(role)).values_list("unread", flat=True)
    return sum(counts)


# --- attachments -----------------------------------------------------------------------------


def attachment_get(
    *,
    actor: Any,
    attachment_id: int,
    message_id: int | None = None,
    side: str | None = None,
    vendor_id: int | None = None,
) -> Attachment:
    """The attachment, if `actor` takes part in its conversation — as its customer, on its
    vendor's staff (of `vendor_id`, when given) or, when no side is asked for, as an
    operator. Anyone else: NotFound."""
    attachment = (
        Attachment.objects.select_related("message__conversation").filter(pk=attachment_id).first()
    )
    if attachment is None or (message_id is not None and attachment.message_id != message_id):
        raise NotFound("No such attachment.")
    conversation = attachment.message.conversation
    if side in (None, AuthorRole.CUSTOMER) and conversation.customer_id == actor.pk:
        return attachment
    if (
        side in (None, AuthorRole.VENDOR)
        and vendor_id in (None, conversation.vendor_id)
        and membership_get(user=actor, vendor_id=conversation.vendor_id) is not None
    ):
        return attachment
    if side is None and getattr(actor, "is_operator", False):
        return attachment
    raise NotFound("No such attachment.")
