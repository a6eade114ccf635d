"""Template tags of the automotive pages: a booking's job stages, for the customer's and
the vendor's booking pages (both listen to the booking's live events and re-render)."""

from __future__ import annotations

from typing import Any

from django import template

from agora.verticals.automotive.models import JobStageKind
from agora.verticals.automotive.selectors import job_stages as stages_of

register = template.Library()


@register.simple_tag
def job_stages(booking: Any) -> list[dict[str, Any]]:
    """The booking's stages, oldest first, as `{stage, label, note, at}`."""
    return [
        {"stage": s.stage, "label": JobStageKind(s.stage).label, "note": s.note, "at": s.at}
        for s in stages_of(booking=booking)
    ]


@register.simple_tag
def job_stage_choices() -> list[tuple[str, str]]:
    return list(JobStageKind.choices)
