"""Quote jobs: a customer's request, the vendors invited to it, their quotes.

A request (`QuoteRequest`) lives `open → quoted → accepted | expired | cancelled`; the
matching engine invites vendors to it (`Invitation`, with the score and its breakdown that
explain the choice to the operator); each invited vendor may answer with one `Quote`,
which it can revise (every version is kept as a `QuoteRevision`) or withdraw. Accepting a
quote turns it into a paid booking and declines the others.

`QuoteCategorySettings` holds what the operator sets per category — the questions a
request answers, how many vendors are invited, the response SLA, automatic assignment —
inherited down the category tree (a category without a value takes its parent's).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from agora.core import clock
from agora.core.money import Money


class AssignmentMode(models.TextChoices):
    BROADCAST = "broadcast", "Invite several vendors to quote"
    AUTOMATIC = "automatic", "Assign one vendor at a time (on demand)"


class QuoteCategorySettings(models.Model):
    """A category's quote settings; a null field inherits the parent category's value (and
    the built-in default at the root, see `agora.quotes.selectors.DEFAULTS`)."""

    category = models.OneToOneField(
        "catalog.Category", on_delete=models.CASCADE, related_name="quote_settings"
    )
    request_schema = models.JSONField(
        default=dict, blank=True, help_text="JSON Schema of the answers a request gives."
    )
    invite_count = models.PositiveSmallIntegerField(null=True, blank=True)
    response_sla_minutes = models.PositiveIntegerField(null=True, blank=True)
    max_waves = models.PositiveSmallIntegerField(null=True, blank=True)
    request_ttl_hours = models.PositiveIntegerField(null=True, blank=True)
    default_radius_km = models.PositiveIntegerField(null=True, blank=True)
    assignment_mode = models.CharField(
        max_length=16, choices=AssignmentMode.choices, blank=True, default=""
    )
    assignment_deadline_minutes = models.PositiveIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        verbose_name_plural = "quote category settings"

    def __str__(self) -> str:
        return f"quote settings of {self.category_id}"


class Urgency(models.TextChoices):
    STANDARD = "standard", "Standard"
    URGENT = "urgent", "Urgent"
    EMERGENCY = "emergency", "Emergency"


class RequestStatus(models.TextChoices):
    OPEN = "open", "Open"
    QUOTED = "quoted", "Quoted"
    ACCEPTED = "accepted", "Accepted"
    EXPIRED = "expired", "Expired"
    CANCELLED = "cancelled", "Cancelled"


# A request still looking for its vendor: quotes can be offered and accepted.
LIVE_REQUEST_STATUSES = (RequestStatus.OPEN, RequestStatus.QUOTED)


class QuoteRequest(models.Model):
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="quote_requests"
    )
    category = models.ForeignKey(
        "catalog.Category", on_delete=models.PROTECT, related_name="quote_requests"
    )
    listing = models.ForeignKey(
        "catalog.Listing",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="quote_requests",
        help_text="Asked of this listing's vendor only.",
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    answers = models.JSONField(default=dict, blank=True)
    city = models.ForeignKey(
        "catalog.City", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    lat = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    lng = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)
    urgency = models.CharField(max_length=16, choices=Urgency.choices, default=Urgency.STANDARD)
    budget_amount = models.PositiveIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True, default="")
    status = models.CharField(
        max_length=16, choices=RequestStatus.choices, default=RequestStatus.OPEN
    )
    assignment_mode = models.CharField(
        max_length=16, choices=AssignmentMode.choices, default=AssignmentMode.BROADCAST
    )
    wave = models.PositiveSmallIntegerField(default=1)
    next_wave_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    accepted_quote = models.ForeignKey(
        "Quote", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    booking = models.ForeignKey(
        "bookings.Booking", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=clock.now)
    first_quote_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["customer", "-created_at", "-id"], name="quote_request_mine"),
            models.Index(fields=["status", "expires_at"], name="quote_request_expiry"),
            models.Index(fields=["status", "next_wave_at"], name="quote_request_wave"),
            models.Index(fields=["assignment_mode", "status"], name="quote_request_assign"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=RequestStatus.values),
                name="quote_request_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(window_start__isnull=True)
                | models.Q(window_end__isnull=True)
                | models.Q(window_end__gt=models.F("window_start")),
                name="quote_request_window_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"quote request {self.pk} ({self.status})"

    @property
    def budget(self) -> Money | None:
        if self.budget_amount is None or not self.currency:
            return None
        return Money(self.budget_amount, self.currency)


class InvitationKind(models.TextChoices):
    BROADCAST = "broadcast", "Invited to quote"
    ASSIGNMENT = "assignment", "Assigned (answer by the deadline)"


class InvitationStatus(models.TextChoices):
    INVITED = "invited", "Invited"
    QUOTED = "quoted", "Quoted"
    PASSED = "passed", "Passed"
    LAPSED = "lapsed", "Not answered in time"
    CLOSED = "closed", "Request closed before an answer"


class Invitation(models.Model):
    """A vendor asked to quote on a request, and why: `score` and `breakdown` are the
    matching engine's, kept as they were when the vendor was chosen."""

    request = models.ForeignKey(QuoteRequest, on_delete=models.CASCADE, related_name="invitations")
    vendor = models.ForeignKey(
        "vendors.Vendor", on_delete=models.CASCADE, related_name="quote_invitations"
    )
    kind = models.CharField(
        max_length=16, choices=InvitationKind.choices, default=InvitationKind.BROADCAST
    )
    status = models.CharField(
        max_length=16, choices=InvitationStatus.choices, default=InvitationStatus.INVITED
    )
    score = models.FloatField()
    breakdown = models.JSONField(default=dict)
    rank = models.PositiveSmallIntegerField(default=1)
    wave = models.PositiveSmallIntegerField(default=1)
    invited_at = models.DateTimeField(default=clock.now)
    respond_by = models.DateTimeField(null=True, blank=True)
    seen_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["request", "vendor"], name="invitation_once"),
            models.CheckConstraint(
                condition=models.Q(status__in=InvitationStatus.values),
                name="invitation_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["vendor", "-invited_at", "-id"], name="invitation_vendor"),
            models.Index(fields=["status", "respond_by"], name="invitation_deadline"),
        ]

    def __str__(self) -> str:
        return f"invitation of {self.vendor_id} to {self.request_id}"


class QuoteStatus(models.TextChoices):
    OFFERED = "offered", "Offered"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    WITHDRAWN = "withdrawn", "Withdrawn"
    EXPIRED = "expired", "Expired"


class Pricing(models.TextChoices):
    FIXED = "fixed", "Fixed price"
    ESTIMATE = "estimate", "Estimate"


class Quote(models.Model):
    """A vendor's offer for a request; one per (request, vendor). A revision replaces the
    terms here and keeps the earlier ones as `QuoteRevision` rows."""

    request = models.ForeignKey(QuoteRequest, on_delete=models.CASCADE, related_name="quotes")
    vendor = models.ForeignKey("vendors.Vendor", on_delete=models.PROTECT, related_name="quotes")
    status = models.CharField(
        max_length=16, choices=QuoteStatus.choices, default=QuoteStatus.OFFERED
    )
    revision = models.PositiveSmallIntegerField(default=1)
    price_amount = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    lines = models.JSONField(default=list, blank=True)
    pricing = models.CharField(max_length=16, choices=Pricing.choices, default=Pricing.FIXED)
    valid_until = models.DateTimeField()
    start = models.DateTimeField(null=True, blank=True)
    duration_minutes = models.PositiveIntegerField(null=True, blank=True)
    message = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    booking = models.ForeignKey(
        "bookings.Booking", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["request", "vendor"], name="quote_once_per_vendor"),
            models.CheckConstraint(
                condition=models.Q(status__in=QuoteStatus.values), name="quote_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(price_amount__gt=0), name="quote_price_positive"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "valid_until"], name="quote_expiry"),
            models.Index(fields=["vendor", "-created_at"], name="quote_vendor"),
        ]

    def __str__(self) -> str:
        return f"quote {self.pk} ({self.status})"

    @property
    def price(self) -> Money:
        return Money(self.price_amount, self.currency)


class QuoteRevision(models.Model):
    """Every version of a quote's terms, the current one included (the customer sees how
    a quote changed)."""

    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="revisions")
    revision = models.PositiveSmallIntegerField()
    price_amount = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    lines = models.JSONField(default=list, blank=True)
    pricing = models.CharField(max_length=16, choices=Pricing.choices, default=Pricing.FIXED)
    valid_until = models.DateTimeField()
    start = models.DateTimeField(null=True, blank=True)
    duration_minutes = models.PositiveIntegerField(null=True, blank=True)
    message = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["revision"]
        constraints = [
            models.UniqueConstraint(fields=["quote", "revision"], name="quote_revision_once")
        ]

    def __str__(self) -> str:
        return f"revision {self.revision} of quote {self.quote_id}"


class VendorQuoteStats(models.Model):
    """Running counters behind a vendor's quote metrics and its matching score. Every
    change is an `F()` update in the transaction of the event it counts."""

    vendor = models.OneToOneField(
        "vendors.Vendor", on_delete=models.CASCADE, primary_key=True, related_name="quote_stats"
    )
    invitations = models.PositiveIntegerField(default=0)
    responses = models.PositiveIntegerField(default=0, help_text="Quoted or passed.")
    quotes = models.PositiveIntegerField(default=0)
    passes = models.PositiveIntegerField(default=0)
    lapses = models.PositiveIntegerField(default=0)
    wins = models.PositiveIntegerField(default=0)
    response_seconds = models.BigIntegerField(
        default=0, help_text="Sum of invitation-to-answer times."
    )
    open_invitations = models.IntegerField(default=0, help_text="Invitations not yet answered.")
    last_invited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "vendor quote stats"

    def __str__(self) -> str:
        return f"quote stats of {self.vendor_id}"
