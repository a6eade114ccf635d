from __future__ import annotations

from agora.core.models import AuditLog
from agora.core.pagination import Page, paginate


def audit_entries(*, action_prefix: str | None, cursor: str | None, limit: int) -> Page[AuditLog]:
    """The audit log, newest first, optionally only actions starting with `action_prefix`."""
    entries = AuditLog.objects.select_related("content_type")
    if action_prefix:
        entries = entries.filter(action__startswith=action_prefix)
    return paginate(entries, ordering=("-at", "-id"), cursor=cursor, limit=limit)
