"""Conversations between a customer and a vendor's staff about one thing they share.

A conversation's subject is generic — a kind (`booking`, `order`, `quote_request`) and an
id — plus the vendor on the other side, so a quote request, which invites several vendors,
has one conversation per invited vendor while a booking or an order (one vendor each) has
one. `agora.messaging.subjects` knows how each kind is looked up and who may see it.

A message keeps the text its author wrote (HTML removed) and, when that text holds a phone
number or an e-mail address, a masked copy: the other side reads the masked copy until the
subject has been paid (contact details exchanged before payment would let both sides take
the deal off the marketplace, past its commission). See `agora.messaging.masking`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from agora.core import clock


class SubjectKind(models.TextChoices):
    BOOKING = "booking", "Booking"
    ORDER = "order", "Order"
    QUOTE_REQUEST = "quote_request", "Quote request"


class AuthorRole(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    VENDOR = "vendor", "Vendor staff"
    OPERATOR = "operator", "Operator"


class Conversation(models.Model):
    """The thread between `customer` and `vendor`'s staff about one subject.

    Read state is kept per side, not per person: a vendor's staff share one inbox, so a
    message one of them has read is read for the vendor. A message is unread for a side
    when it was written after that side's `*_last_read_at` by someone not on that side.
    """

    subject_kind = models.CharField(max_length=16, choices=SubjectKind.choices)
    subject_id = models.BigIntegerField()
    vendor = models.ForeignKey(
        "vendors.Vendor", on_delete=models.CASCADE, related_name="conversations"
    )
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations"
    )
    created_at = models.DateTimeField(default=clock.now)
    # Set with the first message (a conversation starts with one), so lists sort without NULLs.
    last_message_at = models.DateTimeField(default=clock.now)
    last_message = models.ForeignKey(
        "Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    customer_last_read_at = models.DateTimeField(null=True, blank=True)
    vendor_last_read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subject_kind", "subject_id", "vendor"], name="conversation_once"
            ),
            models.CheckConstraint(
                condition=models.Q(subject_kind__in=SubjectKind.values),
                name="conversation_kind_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "-last_message_at", "-id"], name="conversation_mine"),
            models.Index(fields=["vendor", "-last_message_at", "-id"], name="conversation_vendor"),
        ]

    def __str__(self) -> str:
        return f"{self.subject_kind}:{self.subject_id} with vendor {self.vendor_id}"

    @property
    def subject(self) -> str:
        """How events and logs name the subject, e.g. `booking:12`."""
        return f"{self.subject_kind}:{self.subject_id}"


class Message(models.Model):
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="messages_written"
    )
    author_role = models.CharField(max_length=16, choices=AuthorRole.choices)
    text = models.TextField(help_text="As written, HTML removed.")
    masked_text = models.TextField(
        blank=True,
        default="",
        help_text="The text with contact details hidden; empty when it holds none.",
    )
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        indexes = [
            models.Index(fields=["conversation", "-created_at", "-id"], name="message_thread"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(author_role__in=AuthorRole.values),
                name="message_author_role_valid",
            )
        ]

    def __str__(self) -> str:
        return f"message {self.pk} in {self.conversation_id}"

    @property
    def hides_contact(self) -> bool:
        """Whether the text holds contact details that are masked for the other side."""
        return bool(self.masked_text)


def attachment_path(instance: Attachment, filename: str) -> str:
    """`messaging/attachments/<year>/<month>/<name>`, dated by agora's clock."""
    return f"messaging/attachments/{(instance.created_at or clock.now()):%Y/%m}/{filename}"


class Attachment(models.Model):
    """A file sent with a message: a PDF or a JPEG, PNG or WebP image (re-encoded without
    its metadata). Stored under `messaging/` in MEDIA_ROOT, which `/media/` does not serve:
    only the scoped downloads of the API and the portals hand it out."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=200)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return f"{self.original_name} on message {self.message_id}"

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")
