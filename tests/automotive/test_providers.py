"""The dvla_dvsa provider against the recorded DVLA and DVSA responses: merging, unknown
registrations, 429 and 5xx retried with backoff (Retry-After honoured), timeouts, one
source down (a partial answer), the circuit breaker, and the OAuth token's cache."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import httpx
import pytest

from agora.verticals.automotive.profile import Defect, Odometer
from agora.verticals.automotive.providers import VehicleDataUnavailable, VehicleNotFound
from agora.verticals.automotive.providers.dvla_dvsa import DvlaDvsaProvider
from tests.automotive.upstream import (
    DVLA_URL,
    DVSA_URL,
    TOKEN_URL,
    FakeTime,
    Upstream,
    make_provider,
    response,
)


@pytest.fixture
def provider(upstream: Upstream, fake_time: FakeTime) -> DvlaDvsaProvider:
    return make_provider(upstream, fake_time)


def test_both_sources_are_asked_as_their_apis_require_and_merged(
    provider: DvlaDvsaProvider, upstream: Upstream
) -> None:
    profile = provider.lookup("AB12CDE")

    # DVLA: POST with the key in x-api-key and the registration in the body (not the URL)
    (dvla,) = upstream.calls("dvla")
    assert (dvla.method, str(dvla.url)) == ("POST", f"{DVLA_URL}/v1/vehicles")
    assert dvla.headers["x-api-key"] == "dvla-test-key"
    assert json.loads(dvla.content) == {"registrationNumber": "AB12CDE"}
    # DVSA: a client-credentials token, then GET with it and the API key
    (token,) = upstream.calls("token")
    assert (token.method, str(token.url)) == ("POST", TOKEN_URL)
    assert dict(httpx.QueryParams(token.content.decode())) == {
        "grant_type": "client_credentials",
        "client_id": "client-id",
        "client_secret": "client-secret",
        "scope": "https://tapi.dvsa.gov.uk/.default",
    }
    (dvsa,) = upstream.calls("dvsa")
    assert (dvsa.method, str(dvsa.url)) == (
        "GET",
        f"{DVSA_URL}/v1/trade/vehicles/registration/AB12CDE",
    )
    assert dvsa.headers["Authorization"].startswith("Bearer eyJ0eXAi")
    assert dvsa.headers["X-API-Key"] == "dvsa-test-key"

    # make, colour, fuel, engine, tax from DVLA; the model and the tests only DVSA has
    assert (profile.make, profile.model, profile.colour) == ("VAUXHALL", "ASTRA", "SILVER")
    assert (profile.fuel_type, profile.engine_capacity_cc) == ("petrol", 1398)
    assert profile.year_of_manufacture == 2012
    assert (profile.tax_status, profile.tax_due_date) == ("taxed", date(2027, 3, 1))
    assert profile.mot_expiry_date == date(2026, 12, 29)
    assert profile.unavailable_sources == ()
    assert len(profile.mot_tests) == 7
    latest = profile.mot_tests[0]
    assert latest.completed_at == datetime(2025, 12, 16, 10, 42, 13, tzinfo=UTC)
    assert (latest.result, latest.expiry_date) == ("passed", date(2026, 12, 29))
    assert latest.odometer == Odometer(value=61250, unit="mi")
    assert latest.advisories == (
        Defect(
            "Nearside Front Tyre worn close to legal limit/worn on edge (5.2.3 (e))", "advisory"
        ),
        Defect(
            "Front Brake disc worn, pitted or scored, but not seriously weakened (1.1.14 (a) (ii))",
            "advisory",
        ),
        Defect("Oil leak, but not excessive (8.4.1 (a) (i))", "advisory"),
    )
    failed = profile.mot_tests[2]
    assert (failed.result, failed.expiry_date) == ("failed", None)
    assert [d.type for d in failed.defects] == ["major", "major", "advisory"]
    # newest first
    assert [t.completed_at for t in profile.mot_tests] == sorted(
        (t.completed_at for t in profile.mot_tests), reverse=True
    )


def test_the_later_mot_expiry_wins_when_dvla_lags_behind_a_new_test(
    provider: DvlaDvsaProvider, upstream: Upstream
) -> None:
    upstream.then("dvla", response("dvla_vehicle", motExpiryDate="2025-12-29"))

    assert provider.lookup("AB12CDE").mot_expiry_date == date(2026, 12, 29)


def test_a_new_vehicle_has_its_first_mot_due_date_and_no_tests(
    provider: DvlaDvsaProvider, upstream: Upstream
) -> None:
    upstream.then(
        "dvla",
        response(
            "dvla_vehicle",
            without=("motExpiryDate", "engineCapacity"),
            registrationNumber="GX24NBC",
            make="KIA",
            fuelType="ELECTRICITY",
            motStatus="No details held by DVLA",
            yearOfManufacture=2024,
        ),
    )
    upstream.then("dvsa", "dvsa_new_vehicle")

    profile = provider.lookup("GX24NBC")

    assert (profile.make, profile.model, profile.fuel_type) == ("KIA", "NIRO", "electric")
    assert (profile.year_of_manufacture, profile.engine_capacity_cc) == (2024, None)
    assert profile.mot_tests == ()
    assert profile.mot_expiry_date == date(2027, 3, 27)  # DVSA's motTestDueDate


def test_an_unknown_registration_is_not_found(
    provider: DvlaDvsaProvider, upstream: Upstream
) -> None:
    upstream.always("dvla", "dvla_not_found").always("dvsa", "dvsa_not_found")

    with pytest.raises(VehicleNotFound):
        provider.lookup("ZZ99ZZZ")
    # a 404 is an answer: nothing retried
    assert (len(upstream.calls("dvla")), len(upstream.calls("dvsa"))) == (1, 1)


def test_dvla_refusing_the_format_is_not_found_too(
    provider: DvlaDvsaProvider, upstream: Upstream
) -> None:
    upstream.always("dvla", "dvla_bad_request").always("dvsa", "dvsa_not_found")

    with pytest.raises(VehicleNotFound):
        provider.lookup("A1")


def test_429_is_retried_after_the_wait_retry_after_asks(
    provider: DvlaDvsaProvider, upstream: Upstream, fake_time: FakeTime
) -> None:
    upstream.then("dvla", "dvla_throttled")  # Retry-After: 2
    upstream.then("dvsa", "dvsa_throttled", "dvsa_throttled")  # Retry-After: 1, twice

    profile = provider.lookup("AB12CDE")

    assert profile.model == "ASTRA"
    assert profile.tax_status == "taxed"
    assert not profile.partial
    assert (len(upstream.calls("dvla")), len(upstream.calls("dvsa"))) == (2, 3)
    assert sorted(fake_time.slept) == [1.0, 1.0, 2.0]


def test_5xx_is_retried_with_exponential_backoff(
    provider: DvlaDvsaProvider, upstream: Upstream, fake_time: FakeTime
) -> None:
    upstream.then("dvsa", "dvsa_server_error", "dvsa_server_error")

    profile = provider.lookup("AB12CDE")

    assert profile.model == "ASTRA"
    assert len(upstream.calls("dvsa")) == 3
    assert fake_time.slept == [0.25, 0.5]


def test_a_retry_after_longer_than_we_wait_gives_up_at_once_and_passes_it_on(
    provider: DvlaDvsaProvider, upstream: Upstream, fake_time: FakeTime
) -> None:
    throttled = response("dvla_throttled")
    throttled.headers["Retry-After"] = "120"
    upstream.always("dvla", throttled).always("dvsa", "dvsa_not_found")

    with pytest.raises(VehicleDataUnavailable) as refused:
        provider.lookup("AB12CDE")

    assert refused.value.retry_after == 120
    assert len(upstream.calls("dvla")) == 1
    assert fake_time.slept == []


def test_timeouts_are_retried_then_the_source_counts_as_unavailable(
    provider: DvlaDvsaProvider, upstream: Upstream, fake_time: FakeTime
) -> None:
    upstream.always("dvsa", httpx.ReadTimeout)

    profile = provider.lookup("AB12CDE")

    # three attempts at DVSA, then DVLA's answer alone
    assert len(upstream.calls("dvsa")) == 3
    assert profile.unavailable_sources == ("dvsa",)
    assert profile.partial
    assert (profile.make, profile.model, profile.mot_tests) == ("VAUXHALL", None, ())
    assert profile.mot_expiry_date == date(2026, 12, 29)  # DVLA knows the expiry


def test_dvla_down_gives_a_partial_answer_from_dvsa(
    provider: DvlaDvsaProvider, upstream: Upstream
) -> None:
    upstream.always("dvla", "dvla_unavailable")

    profile = provider.lookup("AB12CDE")

    assert profile.unavailable_sources == ("dvla",)
    assert (profile.make, profile.model, profile.colour) == ("VAUXHALL", "ASTRA", "Silver")
    assert (profile.tax_status, profile.tax_due_date) == (None, None)
    assert len(profile.mot_tests) == 7


def test_both_down_is_unavailable(provider: DvlaDvsaProvider, upstream: Upstream) -> None:
    upstream.always("dvla", httpx.ConnectError).always("dvsa", "dvsa_server_error")

    with pytest.raises(VehicleDataUnavailable):
        provider.lookup("AB12CDE")


def test_dvla_down_and_dvsa_not_knowing_the_car_cannot_say_not_found(
    provider: DvlaDvsaProvider, upstream: Upstream
) -> None:
    upstream.always("dvla", "dvla_server_error").always("dvsa", "dvsa_not_found")

    with pytest.raises(VehicleDataUnavailable):
        provider.lookup("AB12CDE")


def test_the_circuit_opens_after_repeated_failures_and_recovers(
    upstream: Upstream, fake_time: FakeTime
) -> None:
    provider = make_provider(upstream, fake_time, retries=0, failure_threshold=3, reset_seconds=30)
    upstream.always("dvsa", "dvsa_server_error")

    for _ in range(3):
        assert provider.lookup("AB12CDE").unavailable_sources == ("dvsa",)
    assert provider.dvsa_breaker.state == "open"
    asked = len(upstream.calls("dvsa"))

    # open: DVSA is not asked at all, the answer is still DVLA's
    assert provider.lookup("AB12CDE").unavailable_sources == ("dvsa",)
    assert len(upstream.calls("dvsa")) == asked

    # after the reset time one trial goes out; it fails, so the circuit opens again
    fake_time.now += 31
    provider.lookup("AB12CDE")
    assert len(upstream.calls("dvsa")) == asked + 1
    assert provider.dvsa_breaker.state == "open"

    # DVSA is back: the next trial succeeds and the circuit closes
    upstream.always("dvsa", "dvsa_vehicle")
    fake_time.now += 31
    profile = provider.lookup("AB12CDE")
    assert profile.unavailable_sources == ()
    assert profile.model == "ASTRA"
    assert provider.dvsa_breaker.state == "closed"
    # DVLA's breaker never moved
    assert provider.dvla_breaker.state == "closed"


def test_the_oauth_token_is_fetched_once_and_renewed_before_it_expires(
    provider: DvlaDvsaProvider, upstream: Upstream, fake_time: FakeTime
) -> None:
    for registration in ("AB12CDE", "AB12CDF", "AB12CDG"):
        provider.lookup(registration)
    assert len(upstream.calls("token")) == 1
    assert len(upstream.calls("dvsa")) == 3

    # expires_in 3599 s: renewed a minute before, not after
    fake_time.now += 3599 - 61
    provider.lookup("AB12CDH")
    assert len(upstream.calls("token")) == 1
    fake_time.now += 2
    provider.lookup("AB12CDJ")
    assert len(upstream.calls("token")) == 2


def test_a_token_dvsa_refuses_is_replaced_once(
    provider: DvlaDvsaProvider, upstream: Upstream
) -> None:
    upstream.then("dvsa", "dvsa_token_expired")

    profile = provider.lookup("AB12CDE")

    assert profile.model == "ASTRA"
    assert len(upstream.calls("token")) == 2
    assert len(upstream.calls("dvsa")) == 2


def test_dvla_answers_are_kept_a_day(provider: DvlaDvsaProvider, upstream: Upstream) -> None:
    provider.lookup("AB12CDE")
    provider.lookup("AB12CDE")

    assert len(upstream.calls("dvla")) == 1
    assert len(upstream.calls("dvsa")) == 2  # the MOT history is the caller's to cache
