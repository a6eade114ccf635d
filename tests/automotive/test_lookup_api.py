"""GET /vehicles/lookup: public, rate-limited, any spacing and case; 404 unknown, 422 not
a registration, 503 when no data source answers; a burst costs one upstream call."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest

from agora.verticals.automotive.providers.dvla_dvsa import DvlaDvsaProvider
from tests.automotive.upstream import Upstream
from tests.conftest import ApiClient, assert_problem

pytestmark = pytest.mark.django_db


def lookup(client: ApiClient, registration: str) -> Any:
    return client.get("/vehicles/lookup", registration=registration)


def test_a_registration_is_looked_up_by_anyone(anon: ApiClient, now: datetime) -> None:
    response = lookup(anon, "ab12 cde")

    assert response.status_code == 200, response.content
    body = response.json()
    assert {k: body[k] for k in body if k != "mot"} == {
        "registration": "AB12CDE",
        "make": "VAUXHALL",
        "model": "ASTRA",
        "colour": "SILVER",
        "fuel_type": "petrol",
        "year_of_manufacture": 2012,
        "engine_capacity_cc": 1398,
        "first_registered": "2012-05",
        "vehicle_type": "car",
        "tax": {"status": "taxed", "due_date": "2027-03-01"},
        "partial": False,
        "unavailable_sources": [],
    }
    mot = body["mot"]
    assert (mot["status"], mot["expiry_date"], mot["days_left"]) == ("valid", "2026-12-29", 28)
    assert len(mot["tests"]) == 7
    assert mot["tests"][0] == {
        "completed_at": "2025-12-16T10:42:13Z",
        "result": "passed",
        "expiry_date": "2026-12-29",
        "odometer": {"value": 61250, "unit": "mi"},
        "test_number": mot["tests"][0]["test_number"],
        "defects": [
            {
                "text": "Nearside Front Tyre worn close to legal limit/worn on edge (5.2.3 (e))",
                "type": "advisory",
                "dangerous": False,
            },
            {
                "text": "Front Brake disc worn, pitted or scored, but not seriously weakened "
                "(1.1.14 (a) (ii))",
                "type": "advisory",
                "dangerous": False,
            },
            {
                "text": "Oil leak, but not excessive (8.4.1 (a) (i))",
                "type": "advisory",
                "dangerous": False,
            },
        ],
    }
    assert len(mot["tests"][0]["test_number"]) == 12


def test_an_expired_mot(anon: ApiClient, now: datetime) -> None:
    mot = lookup(anon, "MT05 OLD").json()["mot"]

    assert (mot["status"], mot["expiry_date"], mot["days_left"]) == ("expired", "2025-07-14", -505)


def test_unknown_is_404(anon: ApiClient, now: datetime) -> None:
    assert_problem(lookup(anon, "ZZ99 ZZZ"), 404, "vehicle_not_found")


@pytest.mark.parametrize("text", ["hello world", "AB12CDEFG", "ÅB12CDE", "A-1", " "])
def test_not_a_registration_is_422(anon: ApiClient, now: datetime, text: str) -> None:
    body = assert_problem(lookup(anon, text), 422, "validation_error")

    assert body["errors"][0]["loc"] == ["query", "registration"]


def test_a_missing_registration_is_422(anon: ApiClient) -> None:
    assert_problem(anon.get("/vehicles/lookup"), 422, "validation_error")


def test_the_provider_failing_is_503_with_retry_after(anon: ApiClient, now: datetime) -> None:
    response = lookup(anon, "ER19 ERR")  # the offline fixture's simulated outage

    assert_problem(response, 503, "vehicle_data_unavailable")
    assert response["Retry-After"] == "30"


def test_both_live_sources_down_is_503(
    anon: ApiClient, now: datetime, live: DvlaDvsaProvider, upstream: Upstream
) -> None:
    upstream.always("dvla", "dvla_unavailable").always("dvsa", httpx.ConnectTimeout)

    assert_problem(lookup(anon, "AB12CDE"), 503, "vehicle_data_unavailable")


def test_one_live_source_down_is_a_partial_answer(
    anon: ApiClient, now: datetime, live: DvlaDvsaProvider, upstream: Upstream
) -> None:
    upstream.always("dvsa", "dvsa_server_error")

    body = lookup(anon, "AB12CDE").json()

    assert (body["partial"], body["unavailable_sources"]) == (True, ["dvsa"])
    assert (body["make"], body["model"]) == ("VAUXHALL", None)
    assert body["mot"]["status"] == "valid"
    assert body["mot"]["tests"] == []


def test_lookups_are_rate_limited_per_address(
    anon: ApiClient, now: datetime, settings: Any
) -> None:
    settings.AGORA_VEHICLE_LOOKUPS_PER_MINUTE = 3
    for _ in range(3):
        assert lookup(anon, "AB12CDE").status_code == 200

    response = lookup(anon, "AB12CDE")

    body = assert_problem(response, 429, "rate_limited")
    assert response["Retry-After"] == str(body["retry_after"])
    other = ApiClient()
    other.client.defaults["REMOTE_ADDR"] = "203.0.113.9"
    assert lookup(other, "AB12CDE").status_code == 200


def test_a_burst_of_lookups_costs_one_upstream_call(
    anon: ApiClient, now: datetime, live: DvlaDvsaProvider, upstream: Upstream, settings: Any
) -> None:
    settings.AGORA_VEHICLE_LOOKUPS_PER_MINUTE = 1000
    for text in ["AB12CDE", "ab12cde", "AB12 CDE", " ab 12 cde "] * 5:
        assert lookup(anon, text).json()["model"] == "ASTRA"

    assert (len(upstream.calls("dvla")), len(upstream.calls("dvsa"))) == (1, 1)
    assert len(upstream.calls("token")) == 1


def test_unknown_registrations_are_remembered_too(
    anon: ApiClient, now: datetime, live: DvlaDvsaProvider, upstream: Upstream
) -> None:
    upstream.always("dvla", "dvla_not_found").always("dvsa", "dvsa_not_found")

    for _ in range(3):
        assert_problem(lookup(anon, "ZZ99ZZZ"), 404, "vehicle_not_found")

    assert (len(upstream.calls("dvla")), len(upstream.calls("dvsa"))) == (1, 1)


def test_an_outage_is_not_cached(
    anon: ApiClient, now: datetime, live: DvlaDvsaProvider, upstream: Upstream
) -> None:
    upstream.then("dvla", *["dvla_unavailable"] * 3).then("dvsa", *["dvsa_server_error"] * 3)
    assert_problem(lookup(anon, "AB12CDE"), 503, "vehicle_data_unavailable")

    assert lookup(anon, "AB12CDE").json()["model"] == "ASTRA"


def test_the_openapi_document_describes_the_lookup(anon: ApiClient) -> None:
    document = anon.get("/openapi.json").json()
    operation = document["paths"]["/api/v1/vehicles/lookup"]["get"]

    assert {"200", "404", "422", "429", "503"} <= set(operation["responses"])
    assert "/api/v1/me/vehicles/{vehicle_id}" in document["paths"]
