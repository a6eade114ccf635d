"""POST /api/v1/auth/register (API.md, Accounts)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher

import agora.settings
from agora.accounts.models import ApiToken, User
from agora.core.models import AuditLog
from tests.conftest import ApiClient, assert_problem
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ANN = {"email": "ann@example.test", "password": "correct-horse-battery", "name": "Ann Example"}


def test_register_creates_a_customer(anon: ApiClient) -> None:
    response = anon.post("/auth/register", ANN)

    assert response.status_code == 201
    user = User.objects.get()
    assert response.json() == {
        "id": user.pk,
        "email": "ann@example.test",
        "name": "Ann Example",
        "roles": ["customer"],
    }
    assert user.check_password("correct-horse-battery")
    assert "correct-horse-battery" not in user.password
    assert (user.is_active, user.is_operator, user.is_staff, user.is_superuser) == (
        True,
        False,
        False,
        False,
    )
    # registering does not sign in
    assert ApiToken.objects.count() == 0
    [entry] = AuditLog.objects.all()
    assert (entry.action, entry.actor_id, entry.object_id) == (
        "user.registered",
        user.pk,
        str(user.pk),
    )


def test_email_is_normalised_to_lowercase_and_name_is_trimmed(anon: ApiClient) -> None:
    response = anon.post(
        "/auth/register", {**ANN, "email": "  Ann.Example@EXAMPLE.Test ", "name": "  Ann  "}
    )

    assert response.status_code == 201, response.content
    assert response.json()["email"] == "ann.example@example.test"
    assert response.json()["name"] == "Ann"
    assert User.objects.get().email == "ann.example@example.test"


def test_the_new_account_can_sign_in(anon: ApiClient) -> None:
    anon.post("/auth/register", {**ANN, "email": "Ann@Example.test"})

    response = anon.post(
        "/auth/token", {"email": "ann@example.test", "password": "correct-horse-battery"}
    )

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("password", "This password is too common."),
        ("12345678", "This password is entirely numeric."),
        ("k9#Lm2", "This password is too short. It must contain at least 8 characters."),
        ("ann@example.test", "The password is too similar to the email."),
        ("Ann Example-Quartermaine", "The password is too similar to the name."),
    ],
    ids=["common", "numeric", "too-short", "equal-to-email", "equal-to-name"],
)
def test_a_weak_password_is_refused_and_creates_nothing(
    anon: ApiClient, password: str, reason: str
) -> None:
    response = anon.post(
        "/auth/register", {**ANN, "name": "Ann Example-Quartermaine", "password": password}
    )

    body = assert_problem(response, 422, "validation_error")
    assert body["detail"] == "The password is too weak."
    assert body["errors"]
    assert all(error["loc"] == ["body", "password"] for error in body["errors"])
    assert reason in [error["msg"] for error in body["errors"]]
    assert User.objects.count() == 0
    assert AuditLog.objects.count() == 0


@pytest.mark.parametrize(
    "email", ["not-an-email", "ann@", "@example.test", "ann example@example.test", ""]
)
def test_an_invalid_email_is_refused(anon: ApiClient, email: str) -> None:
    response = anon.post("/auth/register", {**ANN, "email": email})

    body = assert_problem(response, 422, "validation_error")
    assert body["errors"] == [
        {"loc": ["body", "email"], "msg": "invalid e-mail address", "type": "email"}
    ]
    assert User.objects.count() == 0


@pytest.mark.parametrize("name", ["", "   ", "\t\n"])
def test_a_blank_name_is_refused(anon: ApiClient, name: str) -> None:
    response = anon.post("/auth/register", {**ANN, "name": name})

    body = assert_problem(response, 422, "validation_error")
    assert body["errors"] == [
        {"loc": ["body", "name"], "msg": "must not be blank", "type": "missing"}
    ]
    assert User.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [("email", "a" * 250 + "@x.io"), ("name", "n" * 151), ("password", "p" * 257)],
)
def test_overlong_fields_are_refused_by_the_schema(anon: ApiClient, field: str, value: str) -> None:
    response = anon.post("/auth/register", {**ANN, field: value})

    body = assert_problem(response, 422, "validation_error")
    assert [error["loc"][-1] for error in body["errors"]] == [field]
    assert User.objects.count() == 0


def test_registering_a_taken_email_changes_nothing(anon: ApiClient) -> None:
    existing = UserFactory(email="ann@example.test", name="The First Ann")

    response = anon.post("/auth/register", {**ANN, "email": "ANN@example.test"})

    assert_problem(response, 409, "email_taken")
    assert list(User.objects.values_list("pk", "name")) == [(existing.pk, "The First Ann")]
    assert AuditLog.objects.count() == 0


def test_argon2_is_the_configured_password_hasher() -> None:
    # The suite swaps in MD5 for speed (conftest), so read the settings module itself.
    assert agora.settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_registration_hashes_with_argon2_when_configured(anon: ApiClient, settings: Any) -> None:
    settings.PASSWORD_HASHERS = agora.settings.PASSWORD_HASHERS

    anon.post("/auth/register", ANN)

    stored = User.objects.get().password
    assert stored.startswith(f"{Argon2PasswordHasher.algorithm}$argon2id$")
    assert User.objects.get().check_password("correct-horse-battery")
