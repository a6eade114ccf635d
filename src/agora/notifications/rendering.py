"""Words for an event and one audience: the mail's subject, text and HTML, the notice."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string

# Which of an event's paths each audience opens (one event serves several audiences).
_URL_KEY = {"user": "url", "vendor": "vendor_url", "operators": "operator_url", "address": "url"}


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str

    @property
    def notice(self) -> str:
        """The in-app body: the text's first paragraph."""
        return self.text.strip().split("\n\n", 1)[0].strip()


def absolute(path: str) -> str:
    if not path or path.startswith(("http://", "https://")):
        return path
    return f"{settings.AGORA_BASE_URL}/{path.lstrip('/')}"


def path_for(*, audience: str, data: dict[str, Any]) -> str:
    """The local path this audience should open, falling back to the event's `url`."""
    value = data.get(_URL_KEY.get(audience, "url")) or data.get("url") or ""
    return str(value)


def context(
    *,
    event_name: str,
    audience: str,
    data: dict[str, Any],
    recipient: Any = None,
    unsubscribe_url: str = "",
) -> dict[str, Any]:
    name = getattr(recipient, "name", "") or ""
    return {
        "event": event_name,
        "data": data,
        "recipient": recipient,
        "recipient_name": name.split()[0] if name.strip() else "",
        "site_name": settings.AGORA_SITE_NAME,
        "base_url": settings.AGORA_BASE_URL,
        "link": absolute(path_for(audience=audience, data=data)),
        "unsubscribe_url": unsubscribe_url,
    }


def render(
    *,
    event_name: str,
    audience: str,
    data: dict[str, Any],
    recipient: Any = None,
    unsubscribe_url: str = "",
    html: bool = True,
) -> Rendered:
    ctx = context(
        event_name=event_name,
        audience=audience,
        data=data,
        recipient=recipient,
        unsubscribe_url=unsubscribe_url,
    )
    base = f"notifications/{event_name}/{audience}"
    subject = " ".join(render_to_string(f"{base}.subject.txt", ctx).split())
    text = render_to_string(f"{base}.txt", ctx).strip() + "\n"
    body_html = render_to_string(f"{base}.html", ctx) if html else ""
    return Rendered(subject=subject, text=text, html=body_html)
