"""Shared fixtures: an API client speaking JSON, users, tokens, and a movable clock."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from agora.core import clock
from tests.factories import UserFactory

# The browser fixtures serve every folder's browser tests from one Playwright session.
pytest_plugins = ["tests.browser_fixtures"]


def pytest_configure(config: pytest.Config) -> None:
    # WhiteNoise serves STATIC_ROOT and warns, for every client it starts, when the folder
    # is missing; `make run` fills it with collectstatic, tests need only that it exists.
    from django.conf import settings

    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every transactional test restores the database's initial contents afterwards.

    Migrations seed rows (content types, the category tree). A transactional test flushes
    the tables when it ends; without serialized rollback Django then re-creates the content
    types, and a later test *with* serialized rollback fails restoring its snapshot
    (IntegrityError on django_content_type). One rule for every transactional test (race
    tests, live_server tests) makes the outcome independent of test order.
    """
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker is not None:
            wants_transaction = marker.kwargs.get("transaction", False)
        else:
            wants_transaction = "live_server" in getattr(item, "fixturenames", ())
        if not wants_transaction or (marker and marker.kwargs.get("serialized_rollback")):
            continue
        kwargs = {**(marker.kwargs if marker else {}), "transaction": True}
        kwargs["serialized_rollback"] = True
        args = marker.args if marker else ()
        item.add_marker(pytest.mark.django_db(*args, **kwargs), append=False)


@pytest.fixture(autouse=True)
def _fast_and_isolated(settings: Any) -> Iterator[None]:
    # Argon2 is deliberately slow; a test checks it is configured
    # (accounts/test_registration.py) and the rest use a fast hasher so the suite stays quick.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    clock.reset()
    yield
    clock.reset()


class ApiClient:
    """Django's test client with JSON bodies, an optional bearer token and idempotency keys."""

    def __init__(self, token: str | None = None) -> None:
        self.client = Client()
        self.token = token

    def _headers(
        self, idempotency_key: str | None, headers: dict[str, str] | None
    ) -> dict[str, str]:
        result = dict(headers or {})
        if self.token:
            result["Authorization"] = f"Bearer {self.token}"
        if idempotency_key is not None:
            result["Idempotency-Key"] = idempotency_key
        return result

    def get(self, path: str, headers: dict[str, str] | None = None, **params: Any) -> Any:
        return self.client.get(f"/api/v1{path}", params, headers=self._headers(None, headers))

    def _send(
        self,
        method: str,
        path: str,
        body: Any,
        idempotency_key: str | None,
        headers: dict[str, str] | None,
        raw: bool,
    ) -> Any:
        data = body if raw else json.dumps(body) if body is not None else ""
        return getattr(self.client, method)(
            f"/api/v1{path}",
            data=data,
            content_type="application/json",
            headers=self._headers(idempotency_key, headers),
        )

    def post(
        self,
        path: str,
        body: Any = None,
        *,
        idempotency_key: str | None = None,
        headers: dict[str, str] | None = None,
        raw: bool = False,
    ) -> Any:
        return self._send("post", path, body, idempotency_key, headers, raw)

    def put(
        self,
        path: str,
        body: Any = None,
        *,
        idempotency_key: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        return self._send("put", path, body, idempotency_key, headers, False)

    def patch(
        self,
        path: str,
        body: Any = None,
        *,
        idempotency_key: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        return self._send("patch", path, body, idempotency_key, headers, False)

    def delete(self, path: str, *, headers: dict[str, str] | None = None) -> Any:
        return self.client.delete(f"/api/v1{path}", headers=self._headers(None, headers))


def token_for(user: Any) -> str:
    """A token for `user`, signed in through the real service: with the password and, for
    an account with two-factor sign-in (every factory-made operator), its current code."""
    from agora.accounts.services import token_issue
    from tests.factories import current_totp_code

    otp = current_totp_code(user, fresh=True) if user.otp_enabled_at is not None else None
    return token_issue(email=user.email, password="pass-word-123", ip="127.0.0.1", otp=otp).token


@pytest.fixture
def anon() -> ApiClient:
    return ApiClient()


@pytest.fixture
def user(db: Any) -> Any:
    return UserFactory()


@pytest.fixture
def operator_user(db: Any) -> Any:
    return UserFactory(is_operator=True, is_staff=True)


@pytest.fixture
def as_user(user: Any) -> ApiClient:
    return ApiClient(token_for(user))


@pytest.fixture
def as_operator(operator_user: Any) -> ApiClient:
    return ApiClient(token_for(operator_user))


def run_coroutine(coroutine: Any) -> Any:
    """asyncio.run in a thread of its own: a browser test earlier in the same process
    leaves Playwright's event loop marked as running in the main thread, where
    asyncio.run would refuse to start."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def without_request_id(body: dict[str, Any]) -> dict[str, Any]:
    """A problem body without its request id, which differs for every request."""
    return {key: value for key, value in body.items() if key != "request_id"}


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    """The response is problem+json with this status and code; return its body."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json"), response["Content-Type"]
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert {"type", "title", "detail"} <= body.keys()
    return body
