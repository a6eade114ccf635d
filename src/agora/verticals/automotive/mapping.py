"""From the two real sources' answers to one VehicleProfile. Pure: JSON in, profile out.

- DVLA Vehicle Enquiry Service (`POST /vehicle-enquiry/v1/vehicles`): make, colour, fuel
  type, engine capacity, year of manufacture, first registration, tax status and due
  date, MOT status and expiry — no model, no test history.
- DVSA MOT History API (`GET /v1/trade/vehicles/registration/{reg}`): make, model, fuel,
  colour, engine size, first use, and every MOT test with its result, odometer reading
  and defects (advisories among them); a vehicle too new for its first MOT has
  `motTestDueDate` instead of tests.

Where both know a thing, DVLA (the register) wins, except the MOT expiry: DVSA records a
test the moment it ends and DVLA's copy follows later, so the later of the two is kept.
The offline provider feeds its fixture, recorded in these same shapes, through here too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from agora.verticals.automotive.profile import Defect, MotTest, Odometer, VehicleProfile

DVLA = "dvla"
DVSA = "dvsa"

# DVLA's words for fuel, and DVSA's in capitals, to one vocabulary.
_FUEL = {
    "ELECTRICITY": "electric",
    "ELECTRIC": "electric",
    "HYBRID ELECTRIC": "hybrid_electric",
    "ELECTRIC DIESEL": "hybrid_diesel",
    "GAS BI-FUEL": "gas_bi_fuel",
    "GAS/PETROL": "gas_bi_fuel",
}


def vehicle_type(type_approval: Any, wheelplan: Any) -> str | None:
    """DVLA's type approval (EU vehicle category) as the catalogue's `vehicle_types`:
    M1 a car, N1 a van, L a motorbike (or a two-wheeled wheelplan); anything else (buses,
    lorries) none of them."""
    code = (_text(type_approval) or "").upper()
    if code.startswith("M1"):
        return "car"
    if code.startswith("N1"):
        return "van"
    if code.startswith("L") or "2-WHEELED" in (_text(wheelplan) or "").upper():
        return "motorbike"
    return None


@dataclass(frozen=True)
class DvlaPart:
    make: str | None
    colour: str | None
    fuel_type: str | None
    year_of_manufacture: int | None
    engine_capacity_cc: int | None
    first_registered: str | None
    tax_status: str | None
    tax_due_date: date | None
    mot_expiry_date: date | None
    vehicle_type: str | None = None


@dataclass(frozen=True)
class DvsaPart:
    make: str | None
    model: str | None
    colour: str | None
    fuel_type: str | None
    year_of_manufacture: int | None
    engine_capacity_cc: int | None
    first_registered: str | None
    mot_expiry_date: date | None
    mot_tests: tuple[MotTest, ...]


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def _date(value: Any) -> date | None:
    text = _text(value)
    if text is None:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _moment(value: Any) -> datetime | None:
    text = _text(value)
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        day = _date(text)
        return datetime(day.year, day.month, day.day, tzinfo=UTC) if day else None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _code(value: Any) -> str | None:
    """A source's label as a code: `Not Taxed for on Road Use` → `not_taxed_for_on_road_use`,
    `USER ENTERED` → `user_entered`."""
    text = _text(value)
    if text is None:
        return None
    return "_".join(text.lower().replace("-", " ").replace("/", " ").split())


def fuel(value: Any) -> str | None:
    text = _text(value)
    if text is None:
        return None
    return _FUEL.get(text.upper()) or _code(text)


def from_dvla(body: dict[str, Any]) -> DvlaPart:
    return DvlaPart(
        make=_text(body.get("make")),
        colour=_text(body.get("colour")),
        fuel_type=fuel(body.get("fuelType")),
        year_of_manufacture=_int(body.get("yearOfManufacture")),
        engine_capacity_cc=_int(body.get("engineCapacity")),
        first_registered=_text(body.get("monthOfFirstRegistration")),
        tax_status=_code(body.get("taxStatus")),
        tax_due_date=_date(body.get("taxDueDate")),
        mot_expiry_date=_date(body.get("motExpiryDate")),
        vehicle_type=vehicle_type(body.get("typeApproval"), body.get("wheelplan")),
    )


def _odometer(test: dict[str, Any]) -> Odometer:
    if (test.get("odometerResultType") or "READ").upper() != "READ":
        return Odometer(value=None, unit=None)
    value = _int(test.get("odometerValue"))
    unit = (_text(test.get("odometerUnit")) or "").lower() or None
    return Odometer(value=value, unit=unit if value is not None else None)


def _test(test: dict[str, Any]) -> MotTest | None:
    completed_at = _moment(test.get("completedDate"))
    if completed_at is None:
        return None
    return MotTest(
        completed_at=completed_at,
        result=_code(test.get("testResult")) or "unknown",
        expiry_date=_date(test.get("expiryDate")),
        odometer=_odometer(test),
        test_number=_text(test.get("motTestNumber")) or "",
        defects=tuple(
            Defect(
                text=_text(defect.get("text")) or "",
                type=_code(defect.get("type")) or "advisory",
                dangerous=bool(defect.get("dangerous")),
            )
            for defect in test.get("defects") or []
        ),
    )


def from_dvsa(body: dict[str, Any]) -> DvsaPart:
    tests = [t for t in (_test(raw) for raw in body.get("motTests") or []) if t is not None]
    tests.sort(key=lambda t: t.completed_at, reverse=True)
    expiries = [t.expiry_date for t in tests if t.result == "passed" and t.expiry_date]
    expiry = max(expiries) if expiries else _date(body.get("motTestDueDate"))
    manufactured = _date(body.get("manufactureDate"))
    return DvsaPart(
        make=_text(body.get("make")),
        model=_text(body.get("model")),
        colour=_text(body.get("primaryColour")),
        fuel_type=fuel(body.get("fuelType")),
        year_of_manufacture=manufactured.year
        if manufactured
        else _int(body.get("manufactureYear")),
        engine_capacity_cc=_int(body.get("engineSize")),
        first_registered=_text(body.get("firstUsedDate") or body.get("registrationDate")),
        mot_expiry_date=expiry,
        mot_tests=tuple(tests),
    )


def _later(*days: date | None) -> date | None:
    known = [day for day in days if day is not None]
    return max(known) if known else None


def merge(
    registration: str,
    *,
    dvla: DvlaPart | None,
    dvsa: DvsaPart | None,
    unavailable: tuple[str, ...] = (),
) -> VehicleProfile:
    """One profile from the parts that answered. Precondition: at least one part."""
    if dvla is None and dvsa is None:
        raise ValueError("merge needs at least one source")
    return VehicleProfile(
        registration=registration,
        make=(dvla.make if dvla else None) or (dvsa.make if dvsa else None),
        model=dvsa.model if dvsa else None,
        colour=(dvla.colour if dvla else None) or (dvsa.colour if dvsa else None),
        fuel_type=(dvla.fuel_type if dvla else None) or (dvsa.fuel_type if dvsa else None),
        year_of_manufacture=(dvla.year_of_manufacture if dvla else None)
        or (dvsa.year_of_manufacture if dvsa else None),
        engine_capacity_cc=(dvla.engine_capacity_cc if dvla else None)
        or (dvsa.engine_capacity_cc if dvsa else None),
        first_registered=(dvla.first_registered if dvla else None)
        or (dvsa.first_registered if dvsa else None),
        tax_status=dvla.tax_status if dvla else None,
        tax_due_date=dvla.tax_due_date if dvla else None,
        mot_expiry_date=_later(
            dvla.mot_expiry_date if dvla else None, dvsa.mot_expiry_date if dvsa else None
        ),
        mot_tests=dvsa.mot_tests if dvsa else (),
        vehicle_type=dvla.vehicle_type if dvla else None,
        unavailable_sources=tuple(sorted(unavailable)),
    )
