"""Idempotency-Key (API.md Conventions; ARCHITECTURE.md invariant 4, "exactly once").

POST /api/v1/auth/register stands in for every write: it creates a row, so "moves
nothing twice" is simply "one user".
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from agora.accounts import selectors
from agora.accounts.models import ApiToken, User
from agora.core import clock
from agora.core.idempotency import prune_expired_keys
from agora.core.models import AuditLog, IdempotencyKey
from agora.core.tasks import prune_idempotency_keys
from tests.conftest import ApiClient, assert_problem, token_for
from tests.factories import UserFactory
from tests.race import run_concurrently

ANN = {"email": "ann@example.test", "password": "correct-horse-battery", "name": "Ann"}
BOB = {"email": "bob@example.test", "password": "battery-staple-horse", "name": "Bob"}


def emails() -> list[str]:
    return sorted(User.objects.values_list("email", flat=True))


# --- replay --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_retry_with_same_key_replays_the_first_response_and_creates_one_user(
    anon: ApiClient,
) -> None:
    # Given a registration that went through with a key
    first = anon.post("/auth/register", ANN, idempotency_key="reg-1")
    assert first.status_code == 201, first.content
    assert "Idempotent-Replayed" not in first
    audit_rows = AuditLog.objects.count()

    # When the client retries it (say, after a timeout)
    retry = anon.post("/auth/register", ANN, idempotency_key="reg-1")

    # Then it gets the very same answer, marked as a replay, and nothing happened twice
    assert retry.status_code == 201
    assert retry.content == first.content
    assert retry["Content-Type"] == first["Content-Type"]
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json() == {
        "id": User.objects.get().pk,
        "email": "ann@example.test",
        "name": "Ann",
        "roles": ["customer"],
    }
    assert emails() == ["ann@example.test"]
    assert AuditLog.objects.count() == audit_rows


@pytest.mark.django_db
def test_same_body_with_keys_in_other_json_formatting_is_the_same_request(
    anon: ApiClient,
) -> None:
    # The fingerprint is over the parsed JSON, so key order and spacing do not matter.
    first = anon.post("/auth/register", ANN, idempotency_key="reg-1")
    reordered = json.dumps(dict(reversed(list(ANN.items()))), indent=2)

    retry = anon.post("/auth/register", reordered, idempotency_key="reg-1", raw=True)

    assert retry.status_code == 201
    assert retry.content == first.content
    assert retry["Idempotent-Replayed"] == "true"
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_same_key_with_a_different_body_is_422_and_changes_nothing(anon: ApiClient) -> None:
    anon.post("/auth/register", ANN, idempotency_key="reg-1")
    stored = IdempotencyKey.objects.get()

    response = anon.post("/auth/register", BOB, idempotency_key="reg-1")

    body = assert_problem(response, 422, "idempotency_key_reused")
    assert body["detail"] == "This Idempotency-Key was used with a different request."
    assert emails() == ["ann@example.test"]
    # the stored first response is untouched
    again = IdempotencyKey.objects.get()
    assert (again.pk, again.fingerprint, again.body) == (stored.pk, stored.fingerprint, stored.body)


@pytest.mark.django_db
def test_same_key_on_another_endpoint_is_a_different_request(anon: ApiClient) -> None:
    anon.post("/auth/register", ANN, idempotency_key="k")

    response = anon.post(
        "/auth/token", {"email": ANN["email"], "password": ANN["password"]}, idempotency_key="k"
    )

    assert_problem(response, 422, "idempotency_key_reused")
    assert ApiToken.objects.count() == 0


@pytest.mark.django_db
def test_a_refusal_that_reflects_a_decision_is_replayed(anon: ApiClient) -> None:
    # Given ann already has an account
    UserFactory(email="ann@example.test")

    # When a registration for her address is refused, and then retried with its key
    first = anon.post("/auth/register", ANN, idempotency_key="reg-1")
    retry = anon.post("/auth/register", ANN, idempotency_key="reg-1")

    # Then the retry gets the same 409, replayed
    assert_problem(first, 409, "email_taken")
    assert_problem(retry, 409, "email_taken")
    assert retry.content == first.content
    assert retry["Idempotent-Replayed"] == "true"
    assert User.objects.count() == 1


# --- outcomes that are not stored ----------------------------------------------------------------


@pytest.mark.django_db
def test_a_validation_error_is_not_stored_so_the_corrected_request_may_reuse_the_key(
    anon: ApiClient,
) -> None:
    # Given a request refused for bad input
    weak = anon.post("/auth/register", {**ANN, "password": "password"}, idempotency_key="reg-1")
    assert_problem(weak, 422, "validation_error")
    assert IdempotencyKey.objects.count() == 0

    # When the client fixes it and sends it with the same key
    fixed = anon.post("/auth/register", ANN, idempotency_key="reg-1")

    # Then it runs for real
    assert fixed.status_code == 201, fixed.content
    assert "Idempotent-Replayed" not in fixed
    assert emails() == ["ann@example.test"]
    assert IdempotencyKey.objects.get().status_code == 201


@pytest.mark.django_db
def test_a_crash_rolls_back_the_work_and_the_key_so_the_retry_runs(
    anon: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the request crashes after the user row was written
    real_profile = selectors.user_profile

    def crash(**kwargs: Any) -> None:
        raise RuntimeError("simulated crash")

    monkeypatch.setattr(selectors, "user_profile", crash)
    crashed = anon.post("/auth/register", ANN, idempotency_key="reg-1")
    assert_problem(crashed, 500, "internal_error")

    # Then neither the user nor the key survived: the request's writes are all or nothing
    assert User.objects.count() == 0
    assert IdempotencyKey.objects.count() == 0

    # And once the fault is gone, the retry with the same key does the work once
    monkeypatch.setattr(selectors, "user_profile", real_profile)
    retry = anon.post("/auth/register", ANN, idempotency_key="reg-1")
    assert retry.status_code == 201, retry.content
    assert "Idempotent-Replayed" not in retry
    assert emails() == ["ann@example.test"]


@pytest.mark.django_db
def test_reads_ignore_the_header(as_user: ApiClient) -> None:
    response = as_user.get("/me", headers={"Idempotency-Key": "read-1"})

    assert response.status_code == 200
    assert "Idempotent-Replayed" not in response
    assert IdempotencyKey.objects.count() == 0


# --- the key itself ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "   ", "k" * 256])
def test_empty_or_overlong_key_is_400_and_nothing_runs(anon: ApiClient, key: str) -> None:
    response = anon.post("/auth/register", ANN, idempotency_key=key)

    body = assert_problem(response, 400, "validation_error")
    assert body["errors"] == [{"loc": ["header", "Idempotency-Key"], "msg": "invalid"}]
    assert User.objects.count() == 0
    assert IdempotencyKey.objects.count() == 0


@pytest.mark.django_db
def test_a_key_of_255_characters_is_accepted(anon: ApiClient) -> None:
    key = "k" * 255

    first = anon.post("/auth/register", ANN, idempotency_key=key)
    retry = anon.post("/auth/register", ANN, idempotency_key=key)

    assert first.status_code == 201
    assert retry["Idempotent-Replayed"] == "true"
    assert IdempotencyKey.objects.get().key == key


# --- scope: keys belong to their user ------------------------------------------------------------


@pytest.mark.django_db
def test_two_users_may_use_the_same_key_independently() -> None:
    # Given two signed-in users whose clients happen to pick the same key
    ann, bob = UserFactory(), UserFactory()
    as_ann, as_bob = ApiClient(token_for(ann)), ApiClient(token_for(bob))

    # When both revoke their token with it
    ann_revoked = as_ann.delete("/auth/token", headers={"Idempotency-Key": "revoke"})
    bob_revoked = as_bob.delete("/auth/token", headers={"Idempotency-Key": "revoke"})

    # Then bob's request ran for real rather than replaying ann's: his token is revoked too
    assert ann_revoked.status_code == 204
    assert bob_revoked.status_code == 204
    assert "Idempotent-Replayed" not in bob_revoked
    assert ApiToken.objects.filter(revoked_at__isnull=True).count() == 0
    assert_problem(as_bob.get("/me"), 401, "not_authenticated")
    rows = IdempotencyKey.objects.order_by("user_id")
    assert [(r.scope, r.user_id, r.key) for r in rows] == [
        (f"user:{ann.pk}", ann.pk, "revoke"),
        (f"user:{bob.pk}", bob.pk, "revoke"),
    ]


@pytest.mark.django_db
def test_the_same_key_from_another_user_is_not_a_reuse(anon: ApiClient) -> None:
    # Given ann used key "k" for one request
    ann = UserFactory()
    as_ann = ApiClient(token_for(ann))
    assert as_ann.post("/auth/register", ANN, idempotency_key="k").status_code == 201

    # When bob, and an anonymous client, use "k" for different requests
    bob = UserFactory()
    as_bob = ApiClient(token_for(bob))
    by_bob = as_bob.post("/auth/register", BOB, idempotency_key="k")
    by_anon = anon.post(
        "/auth/register",
        {"email": "cy@example.test", "password": "cy-long-passphrase", "name": "Cy"},
        idempotency_key="k",
    )

    # Then neither is told the key was reused: each scope has its own "k"
    assert by_bob.status_code == 201, by_bob.content
    assert by_anon.status_code == 201, by_anon.content
    assert set(IdempotencyKey.objects.values_list("scope", flat=True)) == {
        f"user:{ann.pk}",
        f"user:{bob.pk}",
        "anonymous",
    }
    # ...while ann reusing "k" for something else is
    assert_problem(
        as_ann.post("/auth/register", BOB, idempotency_key="k"), 422, "idempotency_key_reused"
    )


# --- expiry --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_key_is_remembered_for_24_hours(anon: ApiClient) -> None:
    anon.post("/auth/register", ANN, idempotency_key="reg-1")
    clock.advance(timedelta(hours=23, minutes=59))

    response = anon.post("/auth/register", BOB, idempotency_key="reg-1")

    assert_problem(response, 422, "idempotency_key_reused")
    assert emails() == ["ann@example.test"]


@pytest.mark.django_db
def test_an_expired_key_may_be_reused(anon: ApiClient) -> None:
    # Given a key used more than 24 hours ago
    anon.post("/auth/register", ANN, idempotency_key="reg-1")
    clock.advance(timedelta(hours=24, seconds=1))

    # When it is used again for another request
    response = anon.post("/auth/register", BOB, idempotency_key="reg-1")

    # Then that request runs, and the key now remembers it instead
    assert response.status_code == 201, response.content
    assert "Idempotent-Replayed" not in response
    assert emails() == ["ann@example.test", "bob@example.test"]
    row = IdempotencyKey.objects.get()
    assert json.loads(row.body)["email"] == "bob@example.test"
    assert row.created_at == pytest.approx(clock.now(), abs=timedelta(seconds=5))


@pytest.mark.django_db
def test_prune_deletes_expired_keys_only(anon: ApiClient) -> None:
    anon.post("/auth/register", ANN, idempotency_key="old")
    clock.advance(timedelta(hours=20))
    anon.post("/auth/register", BOB, idempotency_key="recent")
    clock.advance(timedelta(hours=5))  # "old" is 25 h old, "recent" 5 h

    deleted = prune_idempotency_keys.call()

    assert deleted == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["recent"]
    assert prune_expired_keys() == 0


# --- under real concurrency ----------------------------------------------------------------------

RACERS = 8


def register_from_a_thread(headers: dict[str, str]) -> Any:
    response = Client().post(
        "/api/v1/auth/register",
        data=json.dumps(ANN),
        content_type="application/json",
        headers=headers,
    )
    return response.status_code, response.content, response.get("Idempotent-Replayed")


@pytest.mark.race
@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_with_one_key_register_exactly_once() -> None:
    # When 8 copies of one request with one key arrive at the same moment
    results = run_concurrently(
        lambda _: register_from_a_thread({"Idempotency-Key": "race-1"}), threads=RACERS
    )

    # Then exactly one user exists, and every client got the same 201 and body
    assert emails() == ["ann@example.test"]
    user = User.objects.get()
    expected = {"id": user.pk, "email": "ann@example.test", "name": "Ann", "roles": ["customer"]}
    assert [status for status, _, _ in results] == [201] * RACERS
    assert len({content for _, content, _ in results}) == 1
    assert json.loads(results[0][1]) == expected
    # one request did the work; the other seven were replays of it
    assert sorted(str(replayed) for _, _, replayed in results) == ["None"] + ["true"] * (RACERS - 1)
    assert IdempotencyKey.objects.count() == 1
    assert AuditLog.objects.filter(action="user.registered").count() == 1


@pytest.mark.race
@pytest.mark.django_db(transaction=True)
def test_the_same_race_without_a_key_has_one_winner_and_clean_conflicts() -> None:
    # The guard matters: without the key, 8 identical requests are 8 attempts. The unique
    # e-mail still lets only one through, and the losers get 409, never a 500.
    results = run_concurrently(lambda _: register_from_a_thread({}), threads=RACERS)

    statuses = sorted(status for status, _, _ in results)
    assert statuses == [201] + [409] * (RACERS - 1)
    for status, content, replayed in results:
        assert replayed is None
        if status == 409:
            assert json.loads(content)["code"] == "email_taken"
    assert emails() == ["ann@example.test"]
    assert IdempotencyKey.objects.count() == 0
