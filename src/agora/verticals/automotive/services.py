"""Vehicle writes: the public lookup (it counts against a rate limit), the garage, and a
saved vehicle's refresh from its provider.

A lookup may wait on an outside API for seconds, so it is always made before any
transaction opens: on SQLite a transaction is the database's one write lock.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import fields, replace
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction

from agora.accounts.models import User
from agora.bookings.models import Booking, BookingStatus
from agora.bookings.services import lifecycle
from agora.bookings.services.announce import announce
from agora.core import clock, ratelimit
from agora.core.audit import audit_log
from agora.core.errors import DomainError, InvalidInput, InvalidTransition, RateLimited
from agora.verticals.automotive import selectors
from agora.verticals.automotive.errors import garage_full, vehicle_already_saved
from agora.verticals.automotive.models import JobStage, JobStageKind, Vehicle
from agora.verticals.automotive.profile import VehicleProfile
from agora.verticals.automotive.registration import display

LOOKUP_WINDOW_SECONDS = 60
GARAGE_LIMIT = 20
# A saved vehicle's data older than this is looked up again before a reminder relies on it.
STALE_AFTER = timedelta(hours=20)


def vehicle_lookup(*, registration: str, client_ip: str) -> VehicleProfile:
    """The public lookup: rate-limited per client address (429), then the cached profile.
    Each call counts, answered from the cache or not, so the limit bounds what a client
    can learn as well as what it can cost upstream."""
    normal = selectors.parse_registration(registration, loc=["query", "registration"])
    attempts = ratelimit.hit(
        scope="vehicle-lookup", ident=client_ip, window_seconds=LOOKUP_WINDOW_SECONDS
    )
    if attempts > settings.AGORA_VEHICLE_LOOKUPS_PER_MINUTE:
        raise RateLimited(
            "Too many vehicle lookups; try again in a minute.",
            retry_after=ratelimit.retry_after(window_seconds=LOOKUP_WINDOW_SECONDS),
        )
    return selectors.vehicle_profile(registration_number=normal)


def _copy_profile(vehicle: Vehicle, profile: VehicleProfile) -> None:
    vehicle.make = (profile.make or "")[:60]
    vehicle.model = (profile.model or "")[:60]
    vehicle.colour = (profile.colour or "")[:40]
    vehicle.fuel_type = (profile.fuel_type or "")[:40]
    vehicle.year_of_manufacture = profile.year_of_manufacture
    vehicle.engine_capacity_cc = profile.engine_capacity_cc
    vehicle.mot_expiry_date = profile.mot_expiry_date
    vehicle.tax_due_date = profile.tax_due_date
    vehicle.profile = profile.to_json()


def vehicle_add(*, owner: User, registration: str) -> Vehicle:
    """Save a vehicle to the owner's garage with its looked-up data.

    422 not a registration; 404 no such vehicle; 503 no data source answered; 409 already
    in the garage, or the garage is full. A partial profile is saved as it is and
    completed by a later refresh.
    """
    normal = selectors.parse_registration(registration, loc=["body", "registration"])
    if selectors.garage_has(owner=owner, registration_number=normal):
        raise vehicle_already_saved(display(normal))
    if selectors.garage_count(owner=owner) >= GARAGE_LIMIT:
        raise garage_full(GARAGE_LIMIT)
    profile = selectors.vehicle_profile(registration_number=normal)
    now = clock.now()
    vehicle = Vehicle(owner=owner, registration=normal, refreshed_at=now, created_at=now)
    _copy_profile(vehicle, profile)
    try:
        with transaction.atomic():
            vehicle.save()
            audit_log(
                actor=owner,
                action="vehicle.added",
                target=vehicle,
                data={"registration": normal, "partial": profile.partial},
            )
    except IntegrityError as error:
        # The same registration saved by a concurrent request of the same owner.
        raise vehicle_already_saved(display(normal)) from error
    return vehicle


def vehicle_remove(*, owner: User, vehicle: Vehicle) -> None:
    """Take a vehicle out of its owner's garage. Precondition: `vehicle` was found for
    `owner` (selectors.vehicle_get_for_owner). The row stays for the bookings made for it,
    and no reminder goes out for it any more."""
    with transaction.atomic():
        removed = Vehicle.objects.filter(
            pk=vehicle.pk, owner_id=owner.pk, removed_at__isnull=True
        ).update(removed_at=clock.now())
        if removed:
            audit_log(
                actor=owner,
                action="vehicle.removed",
                target=vehicle,
                data={"registration": vehicle.registration},
            )


def vehicle_refresh(*, vehicle: Vehicle) -> Vehicle:
    """Look the vehicle up again and keep what comes back. A provider that fails leaves
    the saved data as it was (the caller goes on with it); a partial answer only fills
    what it knows, so a missing source does not blank a known MOT history."""
    selectors.forget_profile(registration_number=vehicle.registration)
    try:
        profile = selectors.vehicle_profile(registration_number=vehicle.registration)
    except DomainError:
        return vehicle
    if profile.partial:
        profile = _completed(profile, vehicle.vehicle_profile)
    _copy_profile(vehicle, profile)
    vehicle.refreshed_at = clock.now()
    with transaction.atomic():
        Vehicle.objects.filter(pk=vehicle.pk).update(
            make=vehicle.make,
            model=vehicle.model,
            colour=vehicle.colour,
            fuel_type=vehicle.fuel_type,
            year_of_manufacture=vehicle.year_of_manufacture,
            engine_capacity_cc=vehicle.engine_capacity_cc,
            mot_expiry_date=vehicle.mot_expiry_date,
            tax_due_date=vehicle.tax_due_date,
            profile=vehicle.profile,
            refreshed_at=vehicle.refreshed_at,
        )
    return vehicle


def _completed(fresh: VehicleProfile, known: VehicleProfile) -> VehicleProfile:
    """`fresh` (partial) with what it lacks taken from what was known before."""
    missing = {
        f.name: getattr(known, f.name)
        for f in fields(fresh)
        if f.name not in ("registration", "unavailable_sources")
        and getattr(fresh, f.name) in (None, ())
        and getattr(known, f.name) not in (None, ())
    }
    return replace(fresh, **missing)


def vehicle_needs_refresh(*, vehicle: Vehicle) -> bool:
    return vehicle.refreshed_at <= clock.now() - STALE_AFTER or bool(vehicle.profile.get("partial"))


# --- live job tracking ----------------------------------------------------------------------

TRACKABLE = (BookingStatus.ACCEPTED, BookingStatus.IN_PROGRESS)


def job_stage_add(*, actor: User, booking: Booking, stage: str, note: str = "") -> JobStage:
    """Record where the job is (checked in, inspecting, ... returned) and tell the customer.

    Precondition: `actor` is on the staff of the booking's vendor (the caller found the
    booking with `booking_get_for_staff`). The first stage of an accepted booking starts
    it (`booking_start`: work has begun). Only an accepted or started booking has stages;
    one cancelled meanwhile is refused (409), checked under the booking's row lock so a
    stage never lands on a cancelled job. The stage is a `booking.stage` event, so the
    customer's booking page, which listens to the booking's events, shows it at once.
    """
    if stage not in JobStageKind.values:
        raise InvalidInput(
            f"Unknown stage {stage!r}.",
            errors=[{"loc": ["body", "stage"], "msg": "unknown stage", "type": "enum"}],
        )
    if Booking.objects.filter(pk=booking.pk, status=BookingStatus.ACCEPTED).exists():
        # Moved meanwhile (started by another stage, or cancelled: refused below) is fine.
        with suppress(InvalidTransition):
            lifecycle.booking_start(actor=actor, booking=booking)
    with transaction.atomic():
        locked = (
            Booking.objects.select_for_update(of=("self",))
            .select_related("listing", "vendor")
            .get(pk=booking.pk)
        )
        if locked.status not in TRACKABLE:
            raise InvalidTransition(
                f"A {locked.status} booking has no job to track.",
                extra={"from": locked.status, "to": stage},
            )
        record = JobStage.objects.create(
            booking=locked, stage=stage, note=note.strip(), actor=actor, at=clock.now()
        )
        audit_log(
            actor=actor,
            action="booking.stage",
            target=locked,
            data={"stage": stage, "note": record.note},
        )
        announce(
            "booking.stage",
            locked,
            stage=stage,
            stage_label=JobStageKind(stage).label,
            note=record.note,
        )
    return record
