"""An outside client over real HTTP: what API.md promises, seen from the wire."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from agora.accounts.models import User

pytestmark = pytest.mark.django_db(transaction=True)

ANN = {"email": "Ann@Example.test", "password": "correct-horse-battery", "name": "Ann"}


@pytest.fixture
def http(live_server: Any) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{live_server.url}/api/v1", timeout=10) as client:
        yield client


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail", "code"} <= body.keys()
    assert (body["status"], body["code"]) == (status, code)
    return body


def test_register_sign_in_and_see_yourself(http: httpx.Client) -> None:
    registered = http.post("/auth/register", json=ANN)
    assert registered.status_code == 201, registered.text
    assert registered.headers["content-type"].startswith("application/json")
    account = registered.json()
    assert account == {
        "id": account["id"],
        "email": "ann@example.test",
        "name": "Ann",
        "roles": ["customer"],
    }

    token = http.post(
        "/auth/token", json={"email": "ann@example.test", "password": ANN["password"]}
    )
    assert token.status_code == 200, token.text
    assert token.json()["token_type"] == "bearer"

    me = http.get("/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert me.status_code == 200
    assert me.json() == {**account, "vendor_ids": [], "two_factor_enabled": False}
    assert len(me.headers["x-request-id"]) == 32


def test_malformed_json_is_400_problem(http: httpx.Client) -> None:
    response = http.post(
        "/auth/register",
        content=b'{"email": "ann@example.test", "password": ',
        headers={"Content-Type": "application/json"},
    )

    assert_problem(response, 400, "validation_error")
    assert User.objects.count() == 0


def test_duplicate_email_is_409(http: httpx.Client) -> None:
    assert http.post("/auth/register", json=ANN).status_code == 201

    response = http.post("/auth/register", json={**ANN, "email": "ANN@example.TEST"})

    assert_problem(response, 409, "email_taken")
    assert User.objects.count() == 1


def test_wrong_password_is_401_invalid_credentials(http: httpx.Client) -> None:
    http.post("/auth/register", json=ANN)

    response = http.post("/auth/token", json={"email": ANN["email"], "password": "not-it-at-all"})

    body = assert_problem(response, 401, "invalid_credentials")
    assert body["detail"] == "The e-mail or password is wrong."


def test_a_retry_with_an_idempotency_key_is_replayed_over_the_wire(http: httpx.Client) -> None:
    first = http.post("/auth/register", json=ANN, headers={"Idempotency-Key": "wire-1"})
    retry = http.post("/auth/register", json=ANN, headers={"Idempotency-Key": "wire-1"})

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.content == first.content
    assert retry.headers["idempotent-replayed"] == "true"
    assert User.objects.count() == 1


def test_unknown_endpoint_is_404_problem(http: httpx.Client) -> None:
    assert_problem(http.get("/no-such-endpoint"), 404, "not_found")
