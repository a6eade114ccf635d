from __future__ import annotations

from django.conf import settings
from django.db import models

from agora.core import clock


class VendorSchedule(models.Model):
    """Opening hours in the vendor's time zone, as `PUT /vendors/{id}/schedule` takes them.

    Stored as the validated payload; agora.availability parses it into a Schedule."""

    vendor = models.OneToOneField(
        "vendors.Vendor", on_delete=models.CASCADE, related_name="schedule"
    )
    weekly = models.JSONField(default=dict)
    overrides = models.JSONField(default=list)
    holidays = models.JSONField(default=list, help_text="ISO dates the vendor is closed.")
    updated_at = models.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return f"schedule of {self.vendor_id}"


class ResourceKind(models.TextChoices):
    BAY = "bay", "Bay or room"
    PERSON = "person", "Person"
    VEHICLE = "vehicle", "Vehicle"
    EQUIPMENT = "equipment", "Equipment"


class Resource(models.Model):
    """A bay, a mechanic, a van: something with its own capacity that several listings
    share. A listing assigned to a resource books the resource's capacity, not its own."""

    vendor = models.ForeignKey("vendors.Vendor", on_delete=models.CASCADE, related_name="resources")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=ResourceKind.choices, default=ResourceKind.BAY)
    capacity = models.PositiveIntegerField(default=1)
    schedule = models.JSONField(
        null=True, blank=True, help_text="Own opening hours; empty means the vendor's."
    )
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(capacity__gte=1), name="resource_capacity_positive"
            )
        ]

    def __str__(self) -> str:
        return self.name


class ResourceAssignment(models.Model):
    listing = models.OneToOneField(
        "catalog.Listing", on_delete=models.CASCADE, related_name="resource_assignment"
    )
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="assignments")

    def __str__(self) -> str:
        return f"{self.listing_id} → {self.resource_id}"


class CapacityUnit(models.Model):
    """The row locked to take capacity: one per unassigned service listing and one per
    resource. Every booking of the unit is decided while holding this row's lock, so
    two bookers of the same unit are serialised (PostgreSQL: SELECT ... FOR UPDATE;
    SQLite: the single writer lock of BEGIN IMMEDIATE)."""

    vendor = models.ForeignKey("vendors.Vendor", on_delete=models.CASCADE, related_name="+")
    listing = models.OneToOneField(
        "catalog.Listing",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="capacity_unit",
    )
    resource = models.OneToOneField(
        Resource, on_delete=models.CASCADE, null=True, blank=True, related_name="capacity_unit"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(listing__isnull=False) & models.Q(resource__isnull=True))
                | (models.Q(listing__isnull=True) & models.Q(resource__isnull=False)),
                name="capacity_unit_one_owner",
            )
        ]

    def __str__(self) -> str:
        return f"unit {self.pk}"


class BookingStatus(models.TextChoices):
    HELD = "held", "Held (awaiting payment)"
    PENDING = "pending", "Awaiting vendor"
    ACCEPTED = "accepted", "Accepted"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    REVIEWED = "reviewed", "Reviewed"
    DECLINED = "declined", "Declined"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired"
    NO_SHOW = "no_show", "No-show"


# The one definition of which states take capacity. `held` takes it only until
# `hold_expires_at` — an expired hold is freed inside the next booking transaction and
# swept by a task. `pending` (awaiting the vendor's approval) takes it too: a slot
# offered to someone else while its first booker waits is exactly Cal.com's #10789.
OCCUPYING_STATUSES = (
    BookingStatus.HELD,
    BookingStatus.PENDING,
    BookingStatus.ACCEPTED,
    BookingStatus.IN_PROGRESS,
)


class Booking(models.Model):
    listing = models.ForeignKey(
        "catalog.Listing", on_delete=models.PROTECT, related_name="bookings"
    )
    vendor = models.ForeignKey("vendors.Vendor", on_delete=models.PROTECT, related_name="bookings")
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bookings"
    )
    unit = models.ForeignKey(CapacityUnit, on_delete=models.PROTECT, related_name="bookings")
    # Set only when the unit has capacity 1: PostgreSQL's exclusion constraint then
    # forbids two occupying bookings of the unit whose blocked spans overlap.
    exclusive_unit_id = models.BigIntegerField(null=True, blank=True, editable=False)
    status = models.CharField(
        max_length=16, choices=BookingStatus.choices, default=BookingStatus.HELD
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    blocked_from = models.DateTimeField(help_text="start − buffer before")
    blocked_until = models.DateTimeField(help_text="end + buffer after")
    seats = models.PositiveIntegerField(default=1)
    hold_expires_at = models.DateTimeField(null=True, blank=True)
    price_amount = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    notes = models.TextField(blank=True, default="")
    pickup = models.JSONField(null=True, blank=True, help_text="Pickup and drop details.")
    pickup_confirmed_at = models.DateTimeField(null=True, blank=True)
    # The customer's vehicle the work is for (automotive bookings; API.md "Vehicles").
    vehicle = models.ForeignKey(
        "automotive.Vehicle",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="bookings",
    )
    payment_reference = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(default=clock.now)
    paid_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancellation_fee_amount = models.PositiveIntegerField(default=0)
    escrow_released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["unit", "status", "blocked_from"]),
            models.Index(fields=["customer", "-created_at"]),
            models.Index(fields=["vendor", "start"]),
            models.Index(fields=["status", "hold_expires_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="booking_end_after_start"
            ),
            models.CheckConstraint(condition=models.Q(seats__gte=1), name="booking_seats_positive"),
            models.CheckConstraint(
                condition=models.Q(status__in=BookingStatus.values), name="booking_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"booking {self.pk} ({self.status})"

    @property
    def reference(self) -> str:
        """How payments refer to this booking (payments knows no bookings)."""
        return f"booking:{self.pk}"


class TimeBlock(models.Model):
    """Time a vendor blocks by hand (a bay under repair, a day off): takes the whole
    capacity of the vendor's units, or of one resource."""

    vendor = models.ForeignKey(
        "vendors.Vendor", on_delete=models.CASCADE, related_name="time_blocks"
    )
    resource = models.ForeignKey(
        Resource, on_delete=models.CASCADE, null=True, blank=True, related_name="time_blocks"
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        indexes = [models.Index(fields=["vendor", "start"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="block_end_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"block {self.start:%Y-%m-%d %H:%M}"


class CancellationPolicy(models.Model):
    """Per vendor: customers cancel free until `free_until_hours` before the start; later,
    `late_fee_bp` of the price is kept (basis points). Vendors' own cancellations always
    refund in full."""

    vendor = models.OneToOneField(
        "vendors.Vendor", on_delete=models.CASCADE, related_name="cancellation_policy"
    )
    free_until_hours = models.PositiveIntegerField(default=24)
    late_fee_bp = models.PositiveIntegerField(default=5000)
    acceptance_timeout_hours = models.PositiveIntegerField(default=24)

    def __str__(self) -> str:
        return f"policy of {self.vendor_id}"


class PickupOption(models.Model):
    """Pickup and drop as an add-on of a service listing (a garage collecting the car):
    the customer gives addresses and time windows, the vendor confirms."""

    listing = models.OneToOneField(
        "catalog.Listing", on_delete=models.CASCADE, related_name="pickup_option"
    )
    fee_amount = models.PositiveIntegerField(default=0)
    max_distance_km = models.PositiveIntegerField(default=10)

    def __str__(self) -> str:
        return f"pickup for {self.listing_id}"


class CalendarFeedToken(models.Model):
    """One person's secret address of a vendor's (or one resource's) iCalendar feed.

    Calendar apps cannot send a bearer token, so the token rides in the URL. Each staff
    member has their own, per vendor and resource: it is revoked when they leave the staff
    or rotate it, and answers only while they are still on the staff. Only the token's
    SHA-256 is stored; the token itself is an HMAC of `nonce` under SECRET_KEY, so the
    person can be shown their address again without it being kept anywhere (see
    agora.bookings.calendar).
    """

    vendor = models.ForeignKey(
        "vendors.Vendor", on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    resource = models.ForeignKey(
        Resource, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    nonce = models.CharField(max_length=32)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=clock.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # One live address per person, vendor and resource (or the whole vendor).
            models.UniqueConstraint(
                fields=["vendor", "user", "resource"],
                condition=models.Q(revoked_at__isnull=True, resource__isnull=False),
                name="calendar_feed_live_per_resource",
            ),
            models.UniqueConstraint(
                fields=["vendor", "user"],
                condition=models.Q(revoked_at__isnull=True, resource__isnull=True),
                name="calendar_feed_live_per_vendor",
            ),
        ]

    def __str__(self) -> str:
        return f"calendar feed {self.pk} of {self.user_id}@{self.vendor_id}"
