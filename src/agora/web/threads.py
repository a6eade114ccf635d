"""What the customer's and the vendor's message pages share: the reply form, sending it
once, and the thread as the templates show it (`messaging/partials/thread.html`).

Both portals call the same services and selectors as `agora.messaging.api`; each says
which side it speaks for (`side`), so a person who is both a customer and on a vendor's
staff writes as the portal they are in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from agora.accounts.models import User
from agora.core.errors import DomainError, NotFound
from agora.messaging import services, subjects
from agora.messaging.attachments import MAX_ATTACHMENT_BYTES
from agora.messaging.models import AuthorRole
from agora.messaging.schemas import RAW_TEXT_LIMIT
from agora.messaging.selectors import ConversationSummary, MessageView, Thread
from agora.web.account import once
from agora.web.account.display import local_time
from agora.web.account.refusals import attach_to_form

ACCEPTED_FILES = "application/pdf,image/jpeg,image/png,image/webp"


class MessageForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput, max_length=64)
    text = forms.CharField(
        required=False,
        max_length=RAW_TEXT_LIMIT,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Your message",
    )
    file = forms.FileField(
        required=False,
        label=f"Attach a file (PDF, JPEG, PNG or WebP, up to {MAX_ATTACHMENT_BYTES // 2**20} MB)",
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPTED_FILES}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("text") or "").strip() and not data.get("file"):
            self.add_error("text", "Write a message or attach a file.")
        return data


def new_form() -> MessageForm:
    return MessageForm(initial={"token": once.new_token()})


@dataclass(frozen=True)
class ShownFile:
    name: str
    url: str
    size: int
    is_image: bool


@dataclass(frozen=True)
class ShownMessage:
    id: int
    author: str
    own_side: bool
    text: str
    when: str
    created_at: datetime
    hidden_note: str
    files: list[ShownFile]


def _author(message: MessageView, *, reader_role: str, vendor_name: str) -> str:
    if message.mine:
        return "You"
    if message.author_role == AuthorRole.OPERATOR:
        return f"{message.author_name} (marketplace team)"
    if message.author_role == AuthorRole.VENDOR and reader_role != AuthorRole.VENDOR:
        return f"{message.author_name} at {vendor_name}"
    if message.author_role == AuthorRole.CUSTOMER and reader_role != AuthorRole.CUSTOMER:
        return f"{message.author_name} (customer)"
    return message.author_name


def _hidden_note(message: MessageView, *, reader_role: str, phrase: str) -> str:
    if not message.contact_hidden:
        return ""
    if message.own_side:
        other = "vendor" if reader_role == AuthorRole.CUSTOMER else "customer"
        return (
            f"Phone numbers and e-mail addresses here are hidden from the {other} "
            f"until the {phrase}."
        )
    return f"Contact details in this message are shown once the {phrase}."


def shown_messages(thread: Thread, *, files_url: str, files_query: str = "") -> list[ShownMessage]:
    """The page's messages, oldest first, worded for the reader."""
    phrase = subjects.source_for(thread.subject.kind).unlock_phrase
    timezone = thread.subject.vendor_timezone
    return [
        ShownMessage(
            id=message.id,
            author=_author(
                message, reader_role=thread.role, vendor_name=thread.subject.vendor_name
            ),
            own_side=message.own_side,
            text=message.text,
            when=local_time(message.created_at, timezone),
            created_at=message.created_at,
            hidden_note=_hidden_note(message, reader_role=thread.role, phrase=phrase),
            files=[
                ShownFile(
                    name=file.name,
                    url=f"{files_url}{file.id}/{files_query}",
                    size=file.size,
                    is_image=file.is_image,
                )
                for file in message.attachments
            ],
        )
        for message in thread.oldest_first
    ]


def thread_context(
    thread: Thread,
    *,
    page_url: str,
    thread_url: str,
    files_url: str,
    subject_page: str,
    cursor: str | None,
    files_query: str = "",
) -> dict[str, Any]:
    """What the conversation page and its thread partial show."""
    subject = thread.subject
    phrase = subjects.source_for(subject.kind).unlock_phrase
    other = subject.vendor_name if thread.role == AuthorRole.CUSTOMER else subject.customer_name
    joiner = "&" if "?" in page_url else "?"
    return {
        "page_title": f"Messages: {subject.title}",
        "thread": thread,
        "messages": shown_messages(thread, files_url=files_url, files_query=files_query),
        "other_party": other,
        "subject_page": subject_page,
        "contact_phrase": phrase,
        "page_url": page_url,
        "thread_url": thread_url,
        "earlier_url": f"{page_url}{joiner}{urlencode({'before': thread.next_cursor})}"
        if thread.next_cursor
        else "",
        "newer_url": page_url if cursor else "",
    }


@dataclass(frozen=True)
class ShownConversation:
    summary: ConversationSummary
    when: str


def shown_conversations(items: list[ConversationSummary]) -> list[ShownConversation]:
    return [
        ShownConversation(summary=item, when=local_time(item.last_message_at, item.vendor_timezone))
        for item in items
    ]


def send_from_form(
    request: HttpRequest,
    form: MessageForm,
    *,
    user: User,
    kind: str,
    subject_id: int,
    vendor_id: int | None,
    side: str,
    page_url: str,
) -> HttpResponse | None:
    """Send the form's message once per form token; the redirect back to the thread, or
    None with the refusal put on the form."""
    token = form.cleaned_data["token"]
    purpose = f"message:{side}:{kind}:{subject_id}"
    upload = form.cleaned_data.get("file")
    with transaction.atomic():
        done = once.claim(user=user, purpose=purpose, token=token)
        if done:
            return redirect(done)
        try:
            sent = services.message_send(
                actor=user,
                subject_kind=kind,
                subject_id=subject_id,
                text=form.cleaned_data.get("text") or "",
                vendor_id=vendor_id,
                side=side,
                attachments=[upload] if upload else [],
            )
        except NotFound:
            raise  # not theirs: the 404 page, and the rollback undoes the token's claim
        except DomainError as error:
            transaction.set_rollback(True)
            attach_to_form(form, _on_form(error))
            return None
        target = f"{page_url}#message-{sent.message.pk}"
        once.remember(user=user, purpose=purpose, token=token, result=target)
    if sent.notice:
        messages.info(request, sent.notice)
    return redirect(target)


def _on_form(error: DomainError) -> DomainError:
    """A refused file is about the form's one `file` field (the API names `files[i]`), in
    the refusal's whole sentence rather than its terse `msg`."""
    for item in error.extra.get("errors", []):
        loc = item.get("loc", [])
        if "files" in loc:
            item["loc"] = ["body", "file"]
            item["msg"] = error.detail
    return error
