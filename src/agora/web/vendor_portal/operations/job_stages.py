"""Live job tracking from the vendor's booking page: the staff say where the job is
(checked in, inspecting, ... returned) through `job_stage_add`, the service behind
`POST /api/v1/bookings/{id}/stages`; it is one of the booking page's moves."""

from __future__ import annotations

from django import forms

from agora.accounts.models import User
from agora.bookings.models import Booking
from agora.verticals.automotive.models import JobStageKind
from agora.verticals.automotive.services import job_stage_add


class StageForm(forms.Form):
    stage = forms.ChoiceField(choices=JobStageKind.choices, label="Stage")
    note = forms.CharField(required=False, max_length=500, label="Note for the customer (optional)")


def record_stage(user: User, booking: Booking, fields: dict[str, str]) -> Booking:
    job_stage_add(actor=user, booking=booking, stage=fields["stage"], note=fields["note"])
    return booking
