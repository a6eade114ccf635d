"""Sign-ups are throttled per address of origin, the same through the API and the page.

Both doors call `accounts.services.user_register`, which counts the attempt against one
limit (SIGNUPS_PER_IP an hour): mass-creating accounts through the API is no easier than
through the sign-up form.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from agora.accounts.models import User
from agora.core import clock
from tests.conftest import ApiClient, assert_problem

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"
SIGNUPS_PER_IP = 20  # agora.accounts.services.SIGNUPS_PER_IP


def api_register(client: ApiClient, n: int, **kwargs: Any) -> Any:
    return client.post(
        "/auth/register",
        {"email": f"api{n}@example.test", "password": PASSWORD, "name": f"Api {n}"},
        **kwargs,
    )


def page_register(client: Client, n: int) -> Any:
    return client.post(
        "/signup/",
        {"email": f"page{n}@example.test", "password": PASSWORD, "name": f"Page {n}"},
    )


def test_the_api_refuses_sign_ups_past_the_limit(anon: ApiClient) -> None:
    # Given the limit's worth of accounts registered from one address
    for n in range(SIGNUPS_PER_IP):
        assert api_register(anon, n).status_code == 201

    # When one more is attempted from it
    response = api_register(anon, SIGNUPS_PER_IP)

    # Then it is refused with a wait, and no account is created
    body = assert_problem(response, 429, "rate_limited")
    assert int(response["Retry-After"]) == body["retry_after"] > 0
    assert User.objects.count() == SIGNUPS_PER_IP
    assert not User.objects.filter(email=f"api{SIGNUPS_PER_IP}@example.test").exists()


def test_the_limit_is_shared_by_the_page_and_the_api(anon: ApiClient, client: Client) -> None:
    # Given sign-ups from one address through the page, up to one short of the limit...
    for n in range(SIGNUPS_PER_IP - 1):
        assert page_register(Client(), n).status_code == 302
    # ...and the last one allowed through the API
    assert api_register(anon, 0).status_code == 201

    # Then neither door takes another
    assert_problem(api_register(anon, 1), 429, "rate_limited")
    refused = page_register(client, SIGNUPS_PER_IP)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "Too many new accounts" in refused.content.decode()
    assert User.objects.count() == SIGNUPS_PER_IP


def test_refused_sign_ups_count_too_even_under_an_idempotency_key(anon: ApiClient) -> None:
    # Given an account, and attempts to register it again (409), each under a fresh key
    assert api_register(anon, 0).status_code == 201
    for attempt in range(SIGNUPS_PER_IP - 1):
        taken = api_register(anon, 0, idempotency_key=f"again-{attempt}")
        assert_problem(taken, 409, "email_taken")

    # Then the limit is reached all the same: a refusal rolled back is still counted
    assert_problem(api_register(anon, 1, idempotency_key="new"), 429, "rate_limited")
    assert User.objects.count() == 1


def test_the_window_reopens_an_hour_later(anon: ApiClient) -> None:
    with clock.frozen(clock.now()):
        for n in range(SIGNUPS_PER_IP):
            assert api_register(anon, n).status_code == 201
        assert_problem(api_register(anon, SIGNUPS_PER_IP), 429, "rate_limited")

        clock.advance(timedelta(hours=1))

        assert api_register(anon, SIGNUPS_PER_IP).status_code == 201
