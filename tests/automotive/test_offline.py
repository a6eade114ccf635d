"""The offline provider: the shipped fixture, through the same mapping as live answers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from agora.core import clock
from agora.verticals.automotive.profile import MOT_EXPIRED, MOT_UNKNOWN, MOT_VALID
from agora.verticals.automotive.providers import VehicleDataUnavailable, VehicleNotFound
from tests.automotive.conftest import NOW


def test_the_fixture_has_the_named_cars_and_a_dozen_more(offline_provider: Any) -> None:
    registrations = offline_provider.registrations()

    assert {"AB12CDE", "MT05OLD"} <= set(registrations)
    assert len(registrations) >= 14


def test_ab12cde_has_several_tests_with_advisories(offline_provider: Any, now: datetime) -> None:
    profile = offline_provider.lookup("AB12CDE")

    assert (profile.make, profile.model, profile.fuel_type) == ("VAUXHALL", "ASTRA", "petrol")
    assert profile.mot_status(now.date()) == MOT_VALID
    assert profile.mot_expiry_date == date(2026, 12, 29)
    assert len(profile.mot_tests) >= 3
    assert len(profile.last_advisories) == 3
    assert sum(1 for t in profile.mot_tests if t.advisories) >= 3


def test_mt05old_has_an_expired_mot(offline_provider: Any, now: datetime) -> None:
    profile = offline_provider.lookup("MT05OLD")

    assert profile.mot_status(now.date()) == MOT_EXPIRED
    assert profile.mot_expiry_date == date(2025, 7, 14)
    assert profile.tax_status == "untaxed"


def test_every_fixture_vehicle_maps_to_a_complete_profile(
    offline_provider: Any, now: datetime
) -> None:
    for registration in offline_provider.registrations():
        profile = offline_provider.lookup(registration)
        assert profile.registration == registration
        assert profile.make
        assert profile.fuel_type
        assert profile.year_of_manufacture
        assert not profile.partial
        assert profile.mot_status(now.date()) in (MOT_VALID, MOT_EXPIRED, MOT_UNKNOWN)


def test_unknown_and_outage(offline_provider: Any) -> None:
    with pytest.raises(VehicleNotFound):
        offline_provider.lookup("ZZ99ZZZ")
    with pytest.raises(VehicleDataUnavailable):
        offline_provider.lookup("ER19ERR")


def test_dates_age_by_whole_years_so_the_demo_never_goes_stale(offline_provider: Any) -> None:
    with clock.frozen(NOW + timedelta(days=365 + 10)):  # 11 December 2027
        profile = offline_provider.lookup("AB12CDE")

    # recorded as due on 29 December 2026: a year on, due on 29 December 2027
    assert profile.mot_expiry_date == date(2027, 12, 29)
    assert profile.tax_due_date == date(2028, 3, 1)
    assert profile.mot_tests[0].completed_at == datetime(2026, 12, 16, 10, 42, 13, tzinfo=UTC)
    assert profile.year_of_manufacture == 2012  # facts do not move


def test_vehicle_types_come_from_dvla_type_approval(offline_provider: Any) -> None:
    types = {r: offline_provider.lookup(r).vehicle_type for r in ("AB12CDE", "SN16XPT", "DY10HGF")}

    assert types == {"AB12CDE": "car", "SN16XPT": "van", "DY10HGF": "motorbike"}


@pytest.mark.parametrize(
    ("registration", "declared", "served"),
    [
        ("AB12CDE", None, True),
        ("AB12CDE", [], True),
        ("AB12CDE", ["car", "van"], True),
        ("AB12CDE", ["motorbike"], False),
        ("SN16XPT", ["car"], False),
        ("KX19LMN", ["ev"], True),
        ("AB12CDE", ["ev"], False),
    ],
)
def test_which_listings_serve_a_vehicle(
    offline_provider: Any, registration: str, declared: Any, served: bool
) -> None:
    assert offline_provider.lookup(registration).served_by(declared) is served


def test_a_misconfigured_provider_is_reported_by_the_system_checks(settings: Any) -> None:
    from agora.verticals.automotive.checks import vehicle_provider_configured

    assert vehicle_provider_configured() == []
    settings.AGORA_VEHICLE_PROVIDER = "dvla_dvsa"
    settings.DVLA_API_KEY = ""
    (error,) = vehicle_provider_configured()
    assert error.id == "automotive.E002"
    assert "DVLA_API_KEY" in error.msg
    settings.AGORA_VEHICLE_PROVIDER = "carfax"
    assert [e.id for e in vehicle_provider_configured()] == ["automotive.E001"]
