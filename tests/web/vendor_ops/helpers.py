"""Read-outs shared by the operations page tests."""

from __future__ import annotations

import html as html_lib
import re
from typing import Any

from django.db.models import Model

from agora.core.audit import audit_trail


def html(response: Any) -> str:
    return response.content.decode()


def text(response: Any) -> str:
    """The page's visible text with tags removed and whitespace collapsed."""
    without_tags = re.sub(r"<[^>]+>", " ", html(response))
    return re.sub(r"\s+", " ", html_lib.unescape(without_tags)).strip()


def actions(target: Model) -> list[str]:
    return list(audit_trail(target).values_list("action", flat=True))


def last_audit(target: Model) -> Any:
    return audit_trail(target).last()
