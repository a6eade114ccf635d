from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from agora.core import clock
from agora.verticals.automotive.profile import Odometer, VehicleProfile, label
from agora.verticals.automotive.registration import display


class Vehicle(models.Model):
    """A vehicle in a customer's garage: its registration and what was last looked up.

    The columns beside `profile` are copies of it that lists, bookings and the reminder
    sweep read without parsing JSON. Removing a vehicle from the garage keeps the row
    (`removed_at`): bookings made for it still show the vendor which car it was.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="vehicles"
    )
    registration = models.CharField(max_length=8, help_text="Normal form: AB12CDE.")
    make = models.CharField(max_length=60, blank=True, default="")
    model = models.CharField(max_length=60, blank=True, default="")
    colour = models.CharField(max_length=40, blank=True, default="")
    fuel_type = models.CharField(max_length=40, blank=True, default="")
    year_of_manufacture = models.PositiveSmallIntegerField(null=True, blank=True)
    engine_capacity_cc = models.PositiveIntegerField(null=True, blank=True)
    mot_expiry_date = models.DateField(null=True, blank=True)
    tax_due_date = models.DateField(null=True, blank=True)
    profile = models.JSONField(default=dict)
    refreshed_at = models.DateTimeField(default=clock.now)
    created_at = models.DateTimeField(default=clock.now)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["owner", "-created_at"]),
            models.Index(
                fields=["mot_expiry_date"],
                condition=models.Q(removed_at__isnull=True),
                name="vehicle_mot_due_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "registration"],
                condition=models.Q(removed_at__isnull=True),
                name="vehicle_once_per_garage",
            )
        ]

    def __str__(self) -> str:
        return self.registration

    @property
    def registration_display(self) -> str:
        return display(self.registration)

    @property
    def vehicle_profile(self) -> VehicleProfile:
        return VehicleProfile.from_json(self.profile)

    @property
    def latest_odometer(self) -> Odometer | None:
        """The mileage at the last MOT that read it (what a garage wants to know)."""
        for test in (self.profile.get("mot") or {}).get("tests", []):
            odometer: dict[str, Any] = test.get("odometer") or {}
            if odometer.get("value") is not None:
                return Odometer(value=odometer["value"], unit=odometer.get("unit"))
        return None

    @property
    def fuel_label(self) -> str:
        return label(self.fuel_type)

    @property
    def title(self) -> str:
        """`VAUXHALL ASTRA` or as much of it as is known."""
        return " ".join(part for part in (self.make, self.model) if part) or self.registration


class ReminderKind(models.TextChoices):
    DAYS_28 = "28d", "28 days before"
    DAYS_14 = "14d", "14 days before"
    DAYS_1 = "1d", "The day before"
    EXPIRED = "expired", "Expired"


class MotReminder(models.Model):
    """One MOT reminder sent, for one vehicle's expiry date: the row's uniqueness is what
    makes each reminder go exactly once, however many sweeps run or race."""

    vehicle = models.ForeignKey(Vehicle, on_delete=models.CASCADE, related_name="mot_reminders")
    expiry_date = models.DateField()
    kind = models.CharField(max_length=8, choices=ReminderKind.choices)
    sent_at = models.DateTimeField(default=clock.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["vehicle", "expiry_date", "kind"], name="mot_reminder_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} reminder for {self.vehicle_id} ({self.expiry_date})"


class JobStageKind(models.TextChoices):
    """Where the job on the customer's vehicle is (a workshop's words)."""

    CHECKED_IN = "checked_in", "Checked in"
    COLLECTED = "collected", "Collected from you"
    INSPECTING = "inspecting", "Inspecting"
    WAITING_FOR_APPROVAL = "waiting_for_approval", "Waiting for your approval"
    IN_REPAIR = "in_repair", "In repair"
    READY = "ready", "Ready"
    RETURNED = "returned", "Returned to you"


class JobStage(models.Model):
    """A step of the job a booking is for, told by the vendor's staff as it happens; the
    customer follows them live on the booking page (each is a `booking.stage` event)."""

    booking = models.ForeignKey(
        "bookings.Booking", on_delete=models.CASCADE, related_name="job_stages"
    )
    stage = models.CharField(max_length=24, choices=JobStageKind.choices)
    note = models.CharField(max_length=500, blank=True, default="")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    at = models.DateTimeField(default=clock.now)

    class Meta:
        indexes = [models.Index(fields=["booking", "at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(stage__in=JobStageKind.values), name="job_stage_known"
            )
        ]

    def __str__(self) -> str:
        return f"{self.stage} ({self.booking_id})"
