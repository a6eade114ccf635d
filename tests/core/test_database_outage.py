"""While the database cannot be reached, every answer is 503 with Retry-After, not a 500.

The outage is real: the connection is closed and its settings pointed at a database that
is not there (a missing directory on SQLite, a port nobody listens on for PostgreSQL), so
the driver fails to connect exactly as it does when the server is down. Wherever the
request first needs the database — the view, the bearer-token middleware, the claim of an
Idempotency-Key, the session of a signed-in page — the answer is the same.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from agora.core.errors import DATABASE_RETRY_AFTER_SECONDS
from tests.conftest import assert_problem, run_coroutine, token_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

RETRY_AFTER = str(DATABASE_RETRY_AFTER_SECONDS)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # free once closed: nothing listens there


@contextmanager
def database_down() -> Iterator[None]:
    settings_dict = connection.settings_dict
    saved = dict(settings_dict)
    connection.close()
    if connection.vendor == "sqlite":
        settings_dict["NAME"] = "/nonexistent-agora-outage/agora.sqlite3"
    else:
        settings_dict.update(HOST="127.0.0.1", PORT=str(_closed_port()))
        settings_dict.setdefault("OPTIONS", {})
        settings_dict["OPTIONS"] = {**settings_dict["OPTIONS"], "connect_timeout": 2}
    try:
        yield
    finally:
        connection.close()
        settings_dict.clear()
        settings_dict.update(saved)


def browser() -> Client:
    return Client(raise_request_exception=False)


def assert_unavailable_problem(response: Any) -> None:
    problem = assert_problem(response, 503, "unavailable")
    assert response["Retry-After"] == RETRY_AFTER
    assert "retry" in problem["detail"]


def assert_unavailable_page(response: Any) -> None:
    assert response.status_code == 503
    assert response["Retry-After"] == RETRY_AFTER
    assert response["Content-Type"].startswith("text/html")
    assert "Back in a moment" in response.content.decode()


def test_an_api_read_answers_503_while_the_database_is_down() -> None:
    with database_down():
        response = browser().get("/api/v1/listings")

    assert_unavailable_problem(response)


def test_an_api_call_with_a_token_answers_503() -> None:
    # The token is looked up by a middleware, before any view runs.
    token = token_for(UserFactory())

    with database_down():
        response = browser().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})

    assert_unavailable_problem(response)


def test_an_idempotent_write_answers_503() -> None:
    # The key is claimed in a transaction opened by a middleware.
    body = '{"email": "ann@example.test", "password": "correct-horse-battery", "name": "Ann"}'

    with database_down():
        response = browser().post(
            "/api/v1/auth/register",
            data=body,
            content_type="application/json",
            headers={"Idempotency-Key": "outage-1"},
        )

    assert_unavailable_problem(response)


def test_a_public_page_answers_503() -> None:
    with database_down():
        response = browser().get("/")

    assert_unavailable_page(response)


def test_a_signed_in_page_answers_503() -> None:
    client = browser()
    client.force_login(UserFactory())

    with database_down():
        response = client.get("/account/")

    assert_unavailable_page(response)


def test_the_health_checks_say_the_database_is_unreachable() -> None:
    from agora.asgi import application

    with database_down():
        page = browser().get("/healthz")
        status, document = run_coroutine(application.health.check())

    assert page.status_code == 503
    assert page.json() == {"status": "error", "database": "unreachable"}
    assert (status, document) == (503, {"status": "error", "database": "unreachable"})


def test_everything_answers_again_once_the_database_is_back() -> None:
    with database_down():
        assert browser().get("/api/v1/listings").status_code == 503

    assert browser().get("/api/v1/listings").status_code == 200
    assert browser().get("/").status_code == 200
