"""A vehicle as Agora knows it: one profile merged from whatever sources answered. Pure.

A profile is stored (the cache, a saved vehicle's `profile`) as the JSON of `to_json`,
which is also exactly what `GET /vehicles/lookup` answers but for `mot.status`: that
depends on the day it is read, so it is worked out when the profile is shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

MOT_VALID = "valid"
MOT_EXPIRED = "expired"
MOT_UNKNOWN = "unknown"

ADVISORY = "advisory"


@dataclass(frozen=True)
class Defect:
    text: str
    type: str  # advisory, minor, major, dangerous, fail, prs, user_entered
    dangerous: bool = False

    @property
    def label(self) -> str:
        return label(self.type)


@dataclass(frozen=True)
class Odometer:
    value: int | None
    unit: str | None  # "mi" or "km"; both None when it was not read


@dataclass(frozen=True)
class MotTest:
    completed_at: datetime
    result: str  # "passed" or "failed"
    expiry_date: date | None
    odometer: Odometer
    defects: tuple[Defect, ...] = ()
    test_number: str = ""

    @property
    def advisories(self) -> tuple[Defect, ...]:
        return tuple(defect for defect in self.defects if defect.type == ADVISORY)


@dataclass(frozen=True)
class VehicleProfile:
    registration: str
    make: str | None = None
    model: str | None = None
    colour: str | None = None
    fuel_type: str | None = None
    year_of_manufacture: int | None = None
    engine_capacity_cc: int | None = None
    first_registered: str | None = None  # "YYYY-MM" (DVLA) or "YYYY-MM-DD" (DVSA)
    tax_status: str | None = None
    tax_due_date: date | None = None
    mot_expiry_date: date | None = None
    mot_tests: tuple[MotTest, ...] = ()  # newest first
    vehicle_type: str | None = None  # car, van, motorbike (the catalogue's vehicle_types)
    # Sources that failed to answer: the profile lacks what only they know.
    unavailable_sources: tuple[str, ...] = field(default=())

    @property
    def partial(self) -> bool:
        return bool(self.unavailable_sources)

    @property
    def fuel_label(self) -> str:
        return label(self.fuel_type)

    def served_by(self, vehicle_types: object) -> bool:
        """Whether a listing declaring `vehicle_types` (its attribute, e.g. ["car", "van"])
        serves this vehicle. A listing that declares none serves every vehicle; an electric
        car is served by "car" and by "ev"."""
        if not isinstance(vehicle_types, list) or not vehicle_types:
            return True
        if self.vehicle_type in vehicle_types:
            return True
        return self.fuel_type == "electric" and "ev" in vehicle_types

    def mot_status(self, today: date) -> str:
        """`valid` until the end of the expiry date, `expired` after; `unknown` without one
        (a vehicle DVLA holds no MOT details for, and DVSA did not answer)."""
        if self.mot_expiry_date is None:
            return MOT_UNKNOWN
        return MOT_VALID if self.mot_expiry_date >= today else MOT_EXPIRED

    @property
    def latest_odometer(self) -> Odometer | None:
        for test in self.mot_tests:
            if test.odometer.value is not None:
                return test.odometer
        return None

    @property
    def last_advisories(self) -> tuple[Defect, ...]:
        """The advisories of the most recent test (what a garage might quote for)."""
        return self.mot_tests[0].advisories if self.mot_tests else ()

    # --- stored form ----------------------------------------------------------------------

    def to_json(self, *, today: date | None = None) -> dict[str, Any]:
        """The API's shape. With `today`, `mot.status` is filled in for that day."""
        return {
            "registration": self.registration,
            "make": self.make,
            "model": self.model,
            "colour": self.colour,
            "fuel_type": self.fuel_type,
            "year_of_manufacture": self.year_of_manufacture,
            "engine_capacity_cc": self.engine_capacity_cc,
            "first_registered": self.first_registered,
            "vehicle_type": self.vehicle_type,
            "tax": {
                "status": self.tax_status,
                "due_date": _iso(self.tax_due_date),
            },
            "mot": {
                "status": self.mot_status(today) if today is not None else None,
                "expiry_date": _iso(self.mot_expiry_date),
                "tests": [
                    {
                        "completed_at": test.completed_at.isoformat(),
                        "result": test.result,
                        "expiry_date": _iso(test.expiry_date),
                        "odometer": {"value": test.odometer.value, "unit": test.odometer.unit},
                        "test_number": test.test_number,
                        "defects": [
                            {"text": d.text, "type": d.type, "dangerous": d.dangerous}
                            for d in test.defects
                        ],
                    }
                    for test in self.mot_tests
                ],
            },
            "partial": self.partial,
            "unavailable_sources": list(self.unavailable_sources),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> VehicleProfile:
        tax = data.get("tax") or {}
        mot = data.get("mot") or {}
        return cls(
            registration=data["registration"],
            make=data.get("make"),
            model=data.get("model"),
            colour=data.get("colour"),
            fuel_type=data.get("fuel_type"),
            year_of_manufacture=data.get("year_of_manufacture"),
            engine_capacity_cc=data.get("engine_capacity_cc"),
            first_registered=data.get("first_registered"),
            vehicle_type=data.get("vehicle_type"),
            tax_status=tax.get("status"),
            tax_due_date=_date(tax.get("due_date")),
            mot_expiry_date=_date(mot.get("expiry_date")),
            mot_tests=tuple(
                MotTest(
                    completed_at=datetime.fromisoformat(test["completed_at"]),
                    result=test["result"],
                    expiry_date=_date(test.get("expiry_date")),
                    odometer=Odometer(
                        value=(test.get("odometer") or {}).get("value"),
                        unit=(test.get("odometer") or {}).get("unit"),
                    ),
                    test_number=test.get("test_number", ""),
                    defects=tuple(
                        Defect(text=d["text"], type=d["type"], dangerous=d.get("dangerous", False))
                        for d in test.get("defects", [])
                    ),
                )
                for test in mot.get("tests", [])
            ),
            unavailable_sources=tuple(data.get("unavailable_sources", [])),
        )


def label(code: str | None) -> str:
    """A code as words: `hybrid_electric` → `Hybrid electric`."""
    return (code or "").replace("_", " ").capitalize()


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None
