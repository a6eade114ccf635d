"""Every write of the messaging app: sending a message and marking a conversation read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q

from agora.accounts.models import User
from agora.core import clock
from agora.core.validation import field_error
from agora.messaging import subjects
from agora.messaging.attachments import PreparedFile, prepare_attachments
from agora.messaging.masking import mask_contacts
from agora.messaging.models import Attachment, AuthorRole, Conversation, Message
from agora.messaging.subjects import Participation
from agora.notifications.outbox import emit
from agora.reviews.text import plain_text

MAX_TEXT_LENGTH = 5000
PREVIEW_LENGTH = 140


@dataclass(frozen=True)
class SentMessage:
    message: Message
    participation: Participation
    # The text holds contact details the other side reads masked until the subject is paid.
    contact_hidden: bool

    @property
    def notice(self) -> str:
        if not self.contact_hidden:
            return ""
        other = "vendor" if self.participation.role == AuthorRole.CUSTOMER else "customer"
        phrase = subjects.source_for(self.participation.subject.kind).unlock_phrase
        return (
            f"Phone numbers and e-mail addresses in your message are hidden from the {other} "
            f"until the {phrase}."
        )


def clean_message_text(value: str, *, with_files: bool = False) -> str:
    """The text as stored: HTML removed (like reviews), 1–5,000 characters — or none at
    all when files are sent with it."""
    text = plain_text(value or "")
    if not text and not with_files:
        raise field_error("text", "write a message", "too_short")
    if len(text) > MAX_TEXT_LENGTH:
        raise field_error("text", f"write at most {MAX_TEXT_LENGTH} characters", "too_long")
    return text


def first_name(user: User) -> str:
    parts = (user.name or "").split()
    return parts[0] if parts else "Someone"


def _conversation(party: Participation) -> Conversation:
    subject = party.subject
    lookup = {
        "subject_kind": subject.kind,
        "subject_id": subject.id,
        "vendor_id": subject.vendor_id,
    }
    conversation = Conversation.objects.filter(**lookup).first()
    if conversation is not None:
        return conversation
    try:
        # A savepoint: the first messages of two people at once meet on the unique
        # constraint, and the loser carries on with the winner's conversation.
        with transaction.atomic():
            return Conversation.objects.create(**lookup, customer_id=subject.customer_id)
    except IntegrityError:
        return Conversation.objects.get(**lookup)


def _store(message: Message, files: list[PreparedFile], stored: list[Attachment]) -> None:
    """Write the files and their rows; `stored` collects each file as soon as it is on disk,
    so a failure part-way can remove what was written."""
    for prepared in files:
        attachment = Attachment(
            message=message,
            original_name=prepared.original_name,
            content_type=prepared.content_type,
            size=prepared.size,
            created_at=message.created_at,
        )
        attachment.file.save(prepared.storage_name, prepared.content, save=False)
        stored.append(attachment)
    Attachment.objects.bulk_create(stored)


_READ_FIELDS: dict[str, str] = {
    AuthorRole.CUSTOMER: "customer_last_read_at",
    AuthorRole.VENDOR: "vendor_last_read_at",
}


def _announce(message: Message, *, party: Participation, shown: str, files: int) -> None:
    """`message.created` for both sides: `url` is the customer's page of the conversation,
    `vendor_url` the vendor portal's; `author_id` lets delivery leave the author out;
    `preview` is what the other side may read of it now."""
    subject = party.subject
    author = message.author
    emit(
        "message.created",
        subject=message,
        data={
            "id": message.pk,
            "conversation_id": message.conversation_id,
            "subject": subject.reference,
            "subject_title": subject.title,
            "vendor_name": subject.vendor_name,
            "url": subjects.customer_url(
                kind=subject.kind, subject_id=subject.id, vendor_id=subject.vendor_id
            ),
            "vendor_url": subjects.vendor_url(
                kind=subject.kind, subject_id=subject.id, vendor_id=subject.vendor_id
            ),
            "preview": shown[:PREVIEW_LENGTH],
            "preview_truncated": len(shown) > PREVIEW_LENGTH,
            "author_id": author.pk,
            "author_name": first_name(author),
            "author_role": party.role,
            "attachments": files,
        },
        user_id=subject.customer_id,
        vendor_id=subject.vendor_id,
    )


def _discard(files: list[Attachment]) -> None:
    for attachment in files:
        attachment.file.delete(save=False)


def message_send(
    *,
    actor: User,
    subject_kind: str,
    subject_id: int,
    text: str,
    vendor_id: int | None = None,
    side: str | None = None,
    attachments: Sequence[UploadedFile] = (),
) -> SentMessage:
    """Send `text` (and files) into the conversation about the subject, starting it if
    this is the first message, and announce it (`message.created`) in the same transaction.

    Who may write is `subjects.participation`'s answer (anyone else: NotFound). The subject
    is found and the files checked and re-encoded before the transaction opens, so the
    database is not held while images are decoded. Phone numbers and e-mail addresses are
    found once, here: the message keeps the text as written plus a masked copy that the
    other side reads while the subject is unpaid (`selectors`). An operator's words are
    never masked.
    """
    party = subjects.participation(
        actor=actor, kind=subject_kind, subject_id=subject_id, vendor_id=vendor_id, side=side
    )
    subject = party.subject
    source = subjects.source_for(subject.kind)
    cleaned = clean_message_text(text, with_files=bool(attachments))
    files = prepare_attachments(list(attachments))
    masked = (
        None
        if party.role == AuthorRole.OPERATOR
        else mask_contacts(cleaned, until=source.unlock_phrase)
    )
    hidden = masked is not None and masked.hidden
    contact_hidden = hidden and not subject.contact_allowed
    stored: list[Attachment] = []
    try:
        with transaction.atomic():
            conversation = _conversation(party)
            now = clock.now()
            message = Message.objects.create(
                conversation=conversation,
                author=actor,
                author_role=party.role,
                text=cleaned,
                masked_text=masked.text if masked is not None and hidden else "",
                created_at=now,
            )
            _store(message, files, stored)
            read_by_author = {_READ_FIELDS[party.role]: now} if party.role in _READ_FIELDS else {}
            Conversation.objects.filter(pk=conversation.pk).update(
                last_message_at=now, last_message=message, **read_by_author
            )
            shown = masked.text if contact_hidden and masked is not None else cleaned
            _announce(message, party=party, shown=shown, files=len(stored))
    except BaseException:
        # The rows are gone with the transaction; the files it wrote would stay behind.
        _discard(stored)
        raise
    message.conversation = conversation
    message.attachment_list = stored  # type: ignore[attr-defined]
    return SentMessage(message=message, participation=party, contact_hidden=contact_hidden)


def conversation_mark_read(
    *,
    actor: User,
    subject_kind: str,
    subject_id: int,
    vendor_id: int | None = None,
    side: str | None = None,
    seen_until: datetime | None = None,
) -> Conversation | None:
    """Mark the conversation read for the actor's side (the customer, or all of the
    vendor's staff) up to `seen_until` — the newest message a page showed, so one that
    arrived while it rendered stays unread — or up to now. Read state never moves back.
    None when nothing has been written yet. Operators read without leaving a trace: they
    are neither side."""
    party = subjects.participation(
        actor=actor, kind=subject_kind, subject_id=subject_id, vendor_id=vendor_id, side=side
    )
    subject = party.subject
    conversation = Conversation.objects.filter(
        subject_kind=subject.kind, subject_id=subject.id, vendor_id=subject.vendor_id
    ).first()
    if conversation is None or party.role == AuthorRole.OPERATOR:
        return conversation
    field = "customer_last_read_at" if party.role == AuthorRole.CUSTOMER else "vendor_last_read_at"
    until = seen_until or clock.now()
    with transaction.atomic():
        moved = (
            Conversation.objects.filter(pk=conversation.pk)
            .filter(Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__lt": until}))
            .update(**{field: until})
        )
    if moved:
        setattr(conversation, field, until)
    return conversation
