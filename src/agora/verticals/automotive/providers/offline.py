"""The default provider: answers from a fixture file shipped with the project, so a laptop
needs no API key.

The fixture (`offline_vehicles.json`, beside this module) holds, per registration, the
answers DVLA and DVSA gave in their own shapes, recorded on `recorded_on`; they go through
the same mapping as live answers. So that the demo never goes stale, every date that
moves with time (tax due, MOT tests and expiry) is moved on by the whole years since
`recorded_on`: an MOT due in three weeks when recorded is due in three weeks a year later.
`failures` lists registrations that answer as an outage would, to see that path offline.
"""

from __future__ import annotations

import json
import threading
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from agora.core import clock
from agora.verticals.automotive import mapping
from agora.verticals.automotive.profile import VehicleProfile
from agora.verticals.automotive.providers.base import VehicleDataUnavailable, VehicleNotFound

FIXTURE = Path(__file__).with_name("offline_vehicles.json")
UK = ZoneInfo("Europe/London")
# The dates that age: everything else (year of manufacture, first registration) stays.
_MOVING_DATES = frozenset(
    {"taxDueDate", "motExpiryDate", "completedDate", "expiryDate", "motTestDueDate"}
)


def _years_since(recorded: date, today: date) -> int:
    years = today.year - recorded.year
    if (today.month, today.day) < (recorded.month, recorded.day):
        years -= 1
    return max(0, years)


def _shift(value: str, years: int) -> str:
    day = date.fromisoformat(value[:10])
    try:
        moved = day.replace(year=day.year + years)
    except ValueError:  # 29 February into a year without one
        moved = day.replace(year=day.year + years, day=28)
    return moved.isoformat() + value[10:]


def _aged(body: Any, years: int) -> Any:
    if years == 0:
        return body
    if isinstance(body, dict):
        return {
            key: _shift(value, years)
            if key in _MOVING_DATES and isinstance(value, str) and value
            else _aged(value, years)
            for key, value in body.items()
        }
    if isinstance(body, list):
        return [_aged(item, years) for item in body]
    return body


class OfflineProvider:
    name = "offline"

    def __init__(self, fixture: Path | None = None) -> None:
        self._path = fixture or FIXTURE
        self._data: dict[str, Any] | None = None
        self._lock = threading.Lock()

    def _fixture(self) -> dict[str, Any]:
        with self._lock:
            if self._data is None:
                self._data = json.loads(self._path.read_text(encoding="utf-8"))
            return self._data

    def registrations(self) -> list[str]:
        return sorted(self._fixture()["vehicles"])

    def lookup(self, registration: str) -> VehicleProfile:
        data = self._fixture()
        if registration in data.get("failures", {}):
            raise VehicleDataUnavailable(f"{registration}: simulated outage", retry_after=30)
        record = data["vehicles"].get(registration)
        if record is None:
            raise VehicleNotFound(registration)
        today = clock.now().astimezone(UK).date()
        years = _years_since(date.fromisoformat(data["recorded_on"]), today)
        dvla, dvsa = _aged(record.get("dvla"), years), _aged(record.get("dvsa"), years)
        return mapping.merge(
            registration,
            dvla=mapping.from_dvla(dvla) if dvla else None,
            dvsa=mapping.from_dvsa(dvsa) if dvsa else None,
        )
