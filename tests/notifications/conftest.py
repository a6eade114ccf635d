"""Test event types with templates of their own, so delivery tests need no domain wording."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agora.notifications import catalogue

TEMPLATES_DIR = Path(__file__).parent / "templates"

PING = catalogue.EventType("test.ping", "bookings", ("user", "vendor", "operators"))
PING_MANDATORY = catalogue.EventType(
    "test.ping", "bookings", ("user", "vendor", "operators"), mandatory=True
)


@pytest.fixture
def ping_templates(settings: Any) -> None:
    engines = [dict(engine) for engine in settings.TEMPLATES]
    engines[0]["DIRS"] = [TEMPLATES_DIR, *engines[0].get("DIRS", [])]
    settings.TEMPLATES = engines


@pytest.fixture
def ping_event(ping_templates: None) -> Iterator[catalogue.EventType]:
    """`test.ping`: for the user, all vendor staff and operators; switchable (bookings)."""
    catalogue.register(PING)
    yield PING
    catalogue.EVENT_TYPES.pop("test.ping", None)


@pytest.fixture
def mandatory_ping_event(ping_templates: None) -> Iterator[catalogue.EventType]:
    catalogue.register(PING_MANDATORY)
    yield PING_MANDATORY
    catalogue.EVENT_TYPES.pop("test.ping", None)
