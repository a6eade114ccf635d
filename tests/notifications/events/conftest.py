"""Shared read-outs of the lifecycle-event tests: the outbox rows a service wrote, and the
mails the delivery engine sends for them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.core.mail import EmailMessage

from agora.notifications import delivery
from agora.notifications.models import Event, Notification
from tests.vendors.fixtures import _no_static_finders

__all__ = ["_no_static_finders"]

HREF = re.compile(r'href="([^"]*)"')
URL_IN_TEXT = re.compile(r"https?://\S+")


# Links in the mails are absolute from AGORA_BASE_URL: a base of our own shows they are.
BASE = "https://market.example"
# The booking every test of these files books, as the mails write it.
WHEN = "Tue 6 Jan 2026, 10:00"


@pytest.fixture(autouse=True)
def _base_url(settings: Any) -> None:
    settings.AGORA_BASE_URL = BASE


@pytest.fixture(autouse=True)
def _empty_mailbox() -> Iterator[None]:
    mail.outbox = []
    yield
    mail.outbox = []


def domain_events() -> list[Event]:
    """Every event the services wrote, oldest first (not the notices' own announcements)."""
    return list(Event.objects.exclude(name="notification.created").order_by("id"))


def names() -> list[str]:
    return [event.name for event in domain_events()]


def the_event(name: str) -> Event:
    """The one event called `name`."""
    found = [event for event in domain_events() if event.name == name]
    assert len(found) == 1, names()
    return found[0]


def routing(event: Event) -> tuple[str, int | None, int | None, bool]:
    return (event.name, event.user_id, event.vendor_id, event.operators)


def money(amount: int, currency: str = "GBP") -> dict[str, Any]:
    return {"amount": amount, "currency": currency}


def deliver() -> list[EmailMessage]:
    """Run the outbox (sequence, fan out, send) and return the mails it sent, each checked
    to be well formed."""
    mail.outbox = []
    delivery.run_once()
    sent = list(mail.outbox)
    for message in sent:
        assert len(message.to) == 1, message.to
        assert_well_formed(message)
    return sent


def one_each(sent: list[EmailMessage]) -> dict[str, EmailMessage]:
    """The mails by address; nobody got two."""
    by_address: dict[str, EmailMessage] = {}
    for message in sent:
        (address,) = message.to
        assert address not in by_address, f"two mails to {address}"
        by_address[address] = message
    return by_address


def delivered() -> dict[str, EmailMessage]:
    return one_each(deliver())


def flush() -> int:
    """Deliver what earlier steps announced and forget it: the next `delivered()` shows
    only the mails of what follows. Returns how many events there were so far."""
    delivery.run_once()
    mail.outbox = []
    return len(domain_events())


def new_names(since: int) -> list[str]:
    """The names of the events written after the first `since`."""
    return [event.name for event in domain_events()[since:]]


def subjects(mails: dict[str, EmailMessage]) -> dict[str, str]:
    return {address: message.subject for address, message in mails.items()}


def html_of(message: EmailMessage) -> str:
    alternatives = getattr(message, "alternatives", [])
    assert len(alternatives) == 1, alternatives
    content, mimetype = alternatives[0]
    assert mimetype == "text/html"
    return str(content)


def assert_well_formed(message: EmailMessage) -> None:
    """A text body and an HTML alternative, every link absolute on this site, nothing left
    unrendered and no missing value shown as "None"."""
    html = html_of(message)
    base = settings.AGORA_BASE_URL
    for part in (message.subject, message.body, html):
        assert "None" not in part, part
        assert "{{" not in part, part
        assert "{%" not in part, part
    assert "\n" not in message.subject
    assert message.body.strip(), message.subject
    hrefs = HREF.findall(html)
    assert hrefs, html
    for href in hrefs:
        assert href.startswith(f"{base}/"), href
    for url in URL_IN_TEXT.findall(message.body):
        assert url.startswith(f"{base}/"), url


def links(message: EmailMessage) -> list[str]:
    """The HTML links, in order (the first is the site's name in the header)."""
    return HREF.findall(html_of(message))


def notice_of(user: Any, name: str) -> Notification:
    return Notification.objects.get(user=user, name=name)
