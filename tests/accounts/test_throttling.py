"""Sign-in throttling: failures per e-mail, attempts per IP address, fixed windows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.conf import settings

from agora.accounts.models import ApiToken, User
from agora.core import clock
from agora.core.models import RateCounter
from tests.conftest import ApiClient, assert_problem
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pass-word-123"
# 100 seconds into a 15-minute window (windows are aligned to the epoch)
WINDOW_START = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
START = WINDOW_START + timedelta(seconds=100)


@pytest.fixture(autouse=True)
def _frozen_clock() -> Iterator[None]:
    with clock.frozen(START):
        yield


def sign_in(anon: ApiClient, email: str, password: str, ip: str = "127.0.0.1") -> Any:
    return anon.client.post(
        "/api/v1/auth/token",
        data={"email": email, "password": password},
        content_type="application/json",
        REMOTE_ADDR=ip,
    )


def fail_until_locked(anon: ApiClient, email: str) -> None:
    for _ in range(settings.AGORA_SIGNIN_MAX_FAILURES):
        assert_problem(sign_in(anon, email, "wrong-password"), 401, "invalid_credentials")


def test_too_many_failures_lock_the_email_even_for_the_right_password(anon: ApiClient) -> None:
    # Given ten wrong passwords for ann
    ann = UserFactory(email="ann@example.test")
    assert settings.AGORA_SIGNIN_MAX_FAILURES == 10
    fail_until_locked(anon, ann.email)

    # When the right one is tried next
    response = sign_in(anon, ann.email, PASSWORD)

    # Then it is refused for the rest of the window, with the time to wait
    body = assert_problem(response, 429, "rate_limited")
    window = settings.AGORA_SIGNIN_WINDOW_SECONDS
    assert body["retry_after"] == window - 100
    assert response["Retry-After"] == str(window - 100)
    assert body["detail"] == "Too many sign-in attempts; wait and try again."
    assert ApiToken.objects.count() == 0


def test_nine_failures_do_not_lock(anon: ApiClient) -> None:
    ann = UserFactory(email="ann@example.test")
    for _ in range(settings.AGORA_SIGNIN_MAX_FAILURES - 1):
        sign_in(anon, ann.email, "wrong-password")

    assert sign_in(anon, ann.email, PASSWORD).status_code == 200


def test_the_lock_counts_failures_whatever_the_letter_case(anon: ApiClient) -> None:
    ann = UserFactory(email="ann@example.test")
    for index in range(settings.AGORA_SIGNIN_MAX_FAILURES):
        email = "ANN@example.test" if index % 2 else "ann@EXAMPLE.test"
        sign_in(anon, email, "wrong-password")

    assert_problem(sign_in(anon, ann.email, PASSWORD), 429, "rate_limited")


def test_failures_for_an_unknown_email_are_counted_too(anon: ApiClient) -> None:
    fail_until_locked(anon, "nobody@example.test")

    assert_problem(sign_in(anon, "nobody@example.test", "x"), 429, "rate_limited")


def test_other_emails_are_unaffected(anon: ApiClient) -> None:
    ann, bob = UserFactory(email="ann@example.test"), UserFactory(email="bob@example.test")
    fail_until_locked(anon, ann.email)

    response = sign_in(anon, bob.email, PASSWORD)

    assert response.status_code == 200
    assert ApiToken.objects.get().user == bob


def test_after_the_window_sign_in_works_again(anon: ApiClient) -> None:
    ann = UserFactory(email="ann@example.test")
    fail_until_locked(anon, ann.email)
    retry_after = sign_in(anon, ann.email, PASSWORD).json()["retry_after"]

    # one second before the advertised time, still locked
    clock.advance(timedelta(seconds=retry_after - 1))
    assert_problem(sign_in(anon, ann.email, PASSWORD), 429, "rate_limited")

    # at the advertised time, open again
    clock.advance(timedelta(seconds=1))
    response = sign_in(anon, ann.email, PASSWORD)
    assert response.status_code == 200, response.content
    assert ApiToken.objects.get().user == ann


def test_a_locked_attempt_does_not_extend_the_lock(anon: ApiClient) -> None:
    # Throttled attempts are refused before the password is checked, so hammering the
    # locked account does not push its window further out.
    ann = UserFactory(email="ann@example.test")
    fail_until_locked(anon, ann.email)
    for _ in range(20):
        sign_in(anon, ann.email, "still-guessing")

    clock.advance(timedelta(seconds=settings.AGORA_SIGNIN_WINDOW_SECONDS))

    assert sign_in(anon, ann.email, PASSWORD).status_code == 200


def test_too_many_attempts_from_one_ip_are_refused(anon: ApiClient, settings: Any) -> None:
    # Given a low per-IP limit, and attempts on different accounts from one address
    settings.AGORA_SIGNIN_MAX_PER_IP = 3
    users = UserFactory.create_batch(5)
    assert sign_in(anon, users[0].email, PASSWORD).status_code == 200
    assert sign_in(anon, users[1].email, "wrong").status_code == 401
    assert sign_in(anon, users[2].email, PASSWORD).status_code == 200

    # When a fourth attempt comes from the same address, with a right password
    response = sign_in(anon, users[3].email, PASSWORD)

    # Then it is refused, while another address still gets through
    body = assert_problem(response, 429, "rate_limited")
    assert body["retry_after"] == settings.AGORA_SIGNIN_WINDOW_SECONDS - 100
    assert sign_in(anon, users[3].email, PASSWORD, ip="10.0.0.2").status_code == 200
    assert sorted(ApiToken.objects.values_list("user__email", flat=True)) == sorted(
        [users[0].email, users[2].email, users[3].email]
    )


def test_the_per_ip_limit_resets_with_the_window(anon: ApiClient, settings: Any) -> None:
    settings.AGORA_SIGNIN_MAX_PER_IP = 2
    user = UserFactory()
    sign_in(anon, user.email, PASSWORD)
    sign_in(anon, user.email, PASSWORD)
    assert_problem(sign_in(anon, user.email, PASSWORD), 429, "rate_limited")

    clock.advance(timedelta(seconds=settings.AGORA_SIGNIN_WINDOW_SECONDS - 100))

    assert sign_in(anon, user.email, PASSWORD).status_code == 200


def test_throttling_leaves_accounts_alone(anon: ApiClient) -> None:
    ann = UserFactory(email="ann@example.test")
    before = User.objects.values().get(pk=ann.pk)
    fail_until_locked(anon, ann.email)
    sign_in(anon, ann.email, PASSWORD)

    assert User.objects.values().get(pk=ann.pk) == before


def test_a_longest_possible_email_can_sign_in_and_be_throttled(anon: ApiClient) -> None:
    # Counter keys embed the e-mail; one of 253 characters must not overflow them (a
    # PostgreSQL varchar(255) would refuse it, and every sign-in would be a 500).
    long_email = "a" * 240 + "@example.test"
    UserFactory(email=long_email)

    assert sign_in(anon, long_email, PASSWORD).status_code == 200
    fail_until_locked(anon, long_email)
    assert_problem(sign_in(anon, long_email, PASSWORD), 429, "rate_limited")
    # ...without locking out a different long address that shares a prefix
    other = "a" * 239 + "b@example.test"
    UserFactory(email=other)
    assert sign_in(anon, other, PASSWORD).status_code == 200
    assert all(len(key) <= 255 for key in RateCounter.objects.values_list("key", flat=True))


def sign_in_with_key(anon: ApiClient, email: str, password: str, key: str, ip: str) -> Any:
    return anon.client.post(
        "/api/v1/auth/token",
        data={"email": email, "password": password},
        content_type="application/json",
        REMOTE_ADDR=ip,
        headers={"Idempotency-Key": key},
    )


@pytest.mark.parametrize("same_key", [True, False], ids=["one-key", "a-key-per-try"])
def test_an_idempotency_key_does_not_lift_the_failure_limit(
    anon: ApiClient, same_key: bool
) -> None:
    # Given wrong passwords for ann, each sent with an Idempotency-Key (a refused request's
    # writes are rolled back under a key: the failure counters must survive that)
    ann = UserFactory(email="ann@example.test")
    for index in range(settings.AGORA_SIGNIN_MAX_FAILURES):
        key = "k" if same_key else f"k-{index}"
        response = sign_in_with_key(anon, ann.email, "wrong-password", key, "127.0.0.1")
        assert_problem(response, 401, "invalid_credentials")

    # When the right password comes next, with yet another key
    response = sign_in_with_key(anon, ann.email, PASSWORD, "k-right", "127.0.0.1")

    # Then the account is locked exactly as without keys
    assert_problem(response, 429, "rate_limited")
    assert ApiToken.objects.count() == 0


def test_an_idempotency_key_does_not_lift_the_per_ip_limit(anon: ApiClient, settings: Any) -> None:
    settings.AGORA_SIGNIN_MAX_PER_IP = 3
    users = UserFactory.create_batch(4)
    for index, user in enumerate(users[:3]):
        sign_in_with_key(anon, user.email, "wrong", f"ip-{index}", "10.9.9.9")

    response = sign_in_with_key(anon, users[3].email, PASSWORD, "ip-last", "10.9.9.9")

    assert_problem(response, 429, "rate_limited")


def test_a_token_response_is_never_stored_or_replayed(anon: ApiClient) -> None:
    # Given a sign-in with an Idempotency-Key
    from agora.core.models import IdempotencyKey

    ann = UserFactory(email="ann@example.test")
    first = sign_in_with_key(anon, ann.email, PASSWORD, "same", "127.0.0.1")
    assert first.status_code == 200
    assert first["Cache-Control"] == "no-store"

    # When it is sent again with the same key
    second = sign_in_with_key(anon, ann.email, PASSWORD, "same", "127.0.0.1")

    # Then nothing was kept to replay: a fresh token, and no stored body holds either
    assert second.status_code == 200
    assert "Idempotent-Replayed" not in second
    assert first.json()["access_token"] != second.json()["access_token"]
    stored = "".join(IdempotencyKey.objects.values_list("body", flat=True))
    assert first.json()["access_token"] not in stored
    assert ApiToken.objects.filter(user=ann).count() == 2
