"""Automatic assignment for on-demand categories: every few seconds the open requests
waiting for a vendor are assigned together, optimally (`agora.quotes.assignment`), one
vendor each; the vendor answers by its deadline — a quote, or a pass — and a request whose
vendor passed or did not answer goes to the next batch, where the next best vendor gets it.

A vendor holds at most one unanswered assignment at a time, and is never offered the same
request twice (one invitation per request and vendor).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from django.db import transaction

from agora.core import clock
from agora.quotes import candidates, timers
from agora.quotes.assignment import assign_optimal
from agora.quotes.matching import Match
from agora.quotes.models import (
    AssignmentMode,
    Invitation,
    InvitationKind,
    InvitationStatus,
    QuoteRequest,
    RequestStatus,
)
from agora.quotes.selectors import quote_settings
from agora.quotes.services.requests import invite, lapse_invitation, locked_request

# How many of each request's best vendors enter the batch's matrix.
CANDIDATES_PER_REQUEST = 10
BATCH_SIZE = 100


@dataclass(frozen=True)
class BatchResult:
    considered: int
    assigned: int
    pairs: list[tuple[int, int]] = field(default_factory=list)  # (request id, vendor id)


def _waiting(now: datetime, limit: int) -> list[QuoteRequest]:
    pending = Invitation.objects.filter(status=InvitationStatus.INVITED).values("request_id")
    return list(
        QuoteRequest.objects.select_related("category", "city", "customer")
        .filter(
            assignment_mode=AssignmentMode.AUTOMATIC,
            status=RequestStatus.OPEN,
            expires_at__gt=now,
        )
        .exclude(pk__in=pending)
        .order_by("created_at", "pk")[:limit]
    )


def _busy_vendor_ids() -> set[int]:
    return set(
        Invitation.objects.filter(
            kind=InvitationKind.ASSIGNMENT, status=InvitationStatus.INVITED
        ).values_list("vendor_id", flat=True)
    )


def assignment_batch_run(*, limit: int = BATCH_SIZE) -> BatchResult:
    """Assign the waiting requests of on-demand categories, one vendor each, so that as
    many as possible are served and the total score is the highest."""
    now = clock.now()
    waiting = _waiting(now, limit)
    if not waiting:
        return BatchResult(considered=0, assigned=0)
    busy = _busy_vendor_ids()
    asked: dict[int, set[int]] = {}
    for request_id, vendor_id in Invitation.objects.filter(
        request__in=[r.pk for r in waiting]
    ).values_list("request_id", "vendor_id"):
        asked.setdefault(request_id, set()).add(vendor_id)
    options: list[dict[int, Match]] = []
    deadlines: list[int] = []
    for request in waiting:
        settings = quote_settings(category=request.category)
        matches = candidates.matches_for(
            request=request,
            default_radius_km=settings.default_radius_km,
            limit=CANDIDATES_PER_REQUEST,
            exclude_vendor_ids=busy | asked.get(request.pk, set()),
        )
        options.append({m.vendor_id: m for m in matches})
        deadlines.append(settings.assignment_deadline_minutes)
    vendor_ids = sorted({vendor_id for row in options for vendor_id in row})
    if not vendor_ids:
        return BatchResult(considered=len(waiting), assigned=0)
    column = {vendor_id: index for index, vendor_id in enumerate(vendor_ids)}
    scores = np.full((len(waiting), len(vendor_ids)), np.nan)
    for row, matches_by_vendor in enumerate(options):
        for vendor_id, match in matches_by_vendor.items():
            scores[row, column[vendor_id]] = match.score
    pairs = []
    for row, col in assign_optimal(scores):
        request, vendor_id = waiting[row], vendor_ids[col]
        match = options[row][vendor_id]
        if _offer(request.pk, match, deadline_minutes=deadlines[row], batch_size=len(waiting)):
            pairs.append((request.pk, vendor_id))
    return BatchResult(considered=len(waiting), assigned=len(pairs), pairs=pairs)


@transaction.atomic
def _offer(request_id: int, match: Match, *, deadline_minutes: int, batch_size: int) -> bool:
    """Offer the request to the chosen vendor, unless it changed since the batch read it
    (answered, cancelled, assigned by another worker's batch)."""
    request = locked_request(request_id)
    if request.status != RequestStatus.OPEN:
        return False
    if (
        Invitation.objects.filter(request=request, status=InvitationStatus.INVITED).exists()
        or Invitation.objects.filter(request=request, vendor_id=match.vendor_id).exists()
    ):
        return False
    now = clock.now()
    round_number = Invitation.objects.filter(request=request).count() + 1
    breakdown = {**match.breakdown, "assignment": {"batch_size": batch_size, "round": round_number}}
    invitations = invite(
        request,
        [Match(vendor_id=match.vendor_id, score=match.score, breakdown=breakdown)],
        wave=round_number,
        kind=InvitationKind.ASSIGNMENT,
        actor=None,
        respond_by=now + timedelta(minutes=deadline_minutes),
    )
    for invitation in invitations:
        timers.after_assignment(invitation=invitation)
    return bool(invitations)


def assignments_lapse_due(*, now: datetime | None = None, limit: int = 200) -> int:
    """Assignments not answered by their deadline lapse; their requests go to the next
    batch (and so to the next best vendor)."""
    now = now or clock.now()
    due = list(
        Invitation.objects.filter(
            kind=InvitationKind.ASSIGNMENT,
            status=InvitationStatus.INVITED,
            respond_by__lte=now,
        )
        .order_by("respond_by", "pk")
        .values_list("pk", "request_id")[:limit]
    )
    done = 0
    for invitation_id, request_id in due:
        with transaction.atomic():
            locked_request(request_id)
            invitation = Invitation.objects.get(pk=invitation_id)
            if invitation.status != InvitationStatus.INVITED:
                continue
            lapse_invitation(invitation, now=now)
            done += 1
    if done:
        timers.assign_soon()
    return done
