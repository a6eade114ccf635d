"""Bearer tokens: issue, use, expire, revoke; only a hash is stored."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings

from agora.accounts.models import ApiToken, User
from agora.core import clock
from tests.conftest import ApiClient, assert_problem
from tests.factories import UserFactory, current_totp_code

pytestmark = pytest.mark.django_db

PASSWORD = "pass-word-123"  # the factories' password


def sign_in(anon: ApiClient, user: User, password: str = PASSWORD) -> Any:
    body = {"email": user.email, "password": password}
    if user.otp_enabled_at is not None:  # operators have two-factor sign-in
        body["otp"] = current_totp_code(user)
    return anon.post("/auth/token", body)


def issue(anon: ApiClient, user: User) -> str:
    response = sign_in(anon, user)
    assert response.status_code == 200, response.content
    return str(response.json()["access_token"])


# --- issue ---------------------------------------------------------------------------------------


def test_signing_in_issues_a_bearer_token(anon: ApiClient, user: User) -> None:
    response = sign_in(anon, user)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == settings.AGORA_TOKEN_TTL_SECONDS == 12 * 3600
    assert body["access_token"].startswith("agora_")
    assert len(body["access_token"]) >= 40
    token = ApiToken.objects.get()
    assert token.user == user
    assert token.expires_at - token.created_at == timedelta(hours=12)
    assert token.revoked_at is None


def test_each_sign_in_issues_a_new_token(anon: ApiClient, user: User) -> None:
    first, second = issue(anon, user), issue(anon, user)

    assert first != second
    assert ApiToken.objects.filter(user=user).count() == 2


def test_the_email_is_matched_case_insensitively(anon: ApiClient) -> None:
    user = UserFactory(email="ann@example.test")

    response = anon.post("/auth/token", {"email": "  ANN@Example.Test ", "password": PASSWORD})

    assert response.status_code == 200, response.content
    assert ApiToken.objects.get().user == user


@pytest.mark.parametrize(
    ("email", "password"),
    [("ann@example.test", "wrong-password"), ("nobody@example.test", PASSWORD)],
    ids=["wrong-password", "unknown-email"],
)
def test_wrong_credentials_are_401_invalid_credentials_alike(
    anon: ApiClient, email: str, password: str
) -> None:
    UserFactory(email="ann@example.test")

    response = anon.post("/auth/token", {"email": email, "password": password})

    # the same answer either way: the API does not reveal which addresses have accounts
    body = assert_problem(response, 401, "invalid_credentials")
    assert body["detail"] == "The e-mail or password is wrong."
    assert ApiToken.objects.count() == 0


def test_an_inactive_user_cannot_sign_in(anon: ApiClient) -> None:
    user = UserFactory(is_active=False)

    response = sign_in(anon, user)

    assert_problem(response, 401, "invalid_credentials")
    assert ApiToken.objects.count() == 0


# --- /me -----------------------------------------------------------------------------------------


def test_me_describes_the_token_user(anon: ApiClient) -> None:
    user = UserFactory(email="ann@example.test", name="Ann Example")
    me = ApiClient(issue(anon, user)).get("/me")

    assert me.status_code == 200
    assert me.json() == {
        "id": user.pk,
        "email": "ann@example.test",
        "name": "Ann Example",
        "roles": ["customer"],
        "vendor_ids": [],
        "two_factor_enabled": False,
    }


def test_an_operator_is_a_customer_too(anon: ApiClient, operator_user: User) -> None:
    me = ApiClient(issue(anon, operator_user)).get("/me")

    assert me.json()["roles"] == ["customer", "operator"]


# --- tokens that do not work ---------------------------------------------------------------------


def test_an_unknown_token_is_401(user: User) -> None:
    response = ApiClient("agora_not-a-real-token").get("/me")

    body = assert_problem(response, 401, "not_authenticated")
    assert body["detail"] == "The bearer token is not valid."
    assert response["WWW-Authenticate"] == 'Bearer realm="agora"'


def test_a_token_expires_after_its_ttl(anon: ApiClient, user: User) -> None:
    client = ApiClient(issue(anon, user))
    ttl = settings.AGORA_TOKEN_TTL_SECONDS

    clock.advance(timedelta(seconds=ttl - 5))
    assert client.get("/me").status_code == 200

    clock.advance(timedelta(seconds=5))
    body = assert_problem(client.get("/me"), 401, "not_authenticated")
    assert "expired" in body["detail"]
    assert body["detail"] == "The bearer token has expired."


def test_a_shorter_configured_ttl_is_honoured(anon: ApiClient, user: User, settings: Any) -> None:
    settings.AGORA_TOKEN_TTL_SECONDS = 60
    response = sign_in(anon, user)
    client = ApiClient(response.json()["access_token"])

    assert response.json()["expires_in"] == 60
    clock.advance(timedelta(seconds=61))
    assert_problem(client.get("/me"), 401, "not_authenticated")


def test_revoking_a_token_ends_it_and_only_it(anon: ApiClient, user: User) -> None:
    # Given two tokens of one user
    revoked, kept = ApiClient(issue(anon, user)), ApiClient(issue(anon, user))

    # When one is revoked
    response = revoked.delete("/auth/token")

    # Then it no longer works, saying why, and the other still does
    assert response.status_code == 204
    assert response.content == b""
    body = assert_problem(revoked.get("/me"), 401, "not_authenticated")
    assert "revoked" in body["detail"]
    assert kept.get("/me").status_code == 200
    assert ApiToken.objects.filter(revoked_at__isnull=False).count() == 1


def test_revoking_needs_a_token(anon: ApiClient) -> None:
    assert_problem(anon.delete("/auth/token"), 401, "not_authenticated")


def test_a_revoked_token_cannot_revoke_again(anon: ApiClient, user: User) -> None:
    client = ApiClient(issue(anon, user))
    client.delete("/auth/token")
    revoked_at = ApiToken.objects.get().revoked_at

    response = client.delete("/auth/token")

    assert_problem(response, 401, "not_authenticated")
    assert ApiToken.objects.get().revoked_at == revoked_at


@pytest.mark.parametrize(
    "header",
    [
        "Token agora_abc",
        "Basic dXNlcjpwYXNz",
        "Bearer ",
        "Bearer",
        "Bearer    ",
        "agora_abc",
    ],
)
def test_a_malformed_authorization_header_is_401(anon: ApiClient, user: User, header: str) -> None:
    response = anon.get("/me", headers={"Authorization": header})

    body = assert_problem(response, 401, "not_authenticated")
    assert body["detail"] == "Use the Authorization header as 'Bearer <token>'."


def test_a_valid_token_under_another_scheme_is_401(anon: ApiClient, user: User) -> None:
    token = issue(anon, user)

    response = anon.get("/me", headers={"Authorization": f"Token {token}"})

    assert_problem(response, 401, "not_authenticated")


def test_the_scheme_is_case_insensitive(anon: ApiClient, user: User) -> None:
    token = issue(anon, user)

    response = anon.get("/me", headers={"Authorization": f"bearer {token}"})

    assert response.status_code == 200


def test_a_deactivated_users_token_stops_working(anon: ApiClient, user: User) -> None:
    client = ApiClient(issue(anon, user))
    User.objects.filter(pk=user.pk).update(is_active=False)

    assert_problem(client.get("/me"), 401, "not_authenticated")


def test_registration_ignores_a_stale_token() -> None:
    # Registration needs no authentication, so a leftover token does not get in the way.
    response = ApiClient("agora_stale").post(
        "/auth/register",
        {"email": "cy@example.test", "password": "cy-long-passphrase", "name": "Cy"},
    )

    assert response.status_code == 201


# --- storage -------------------------------------------------------------------------------------


def test_only_a_sha256_of_the_token_is_stored(anon: ApiClient, user: User) -> None:
    raw = issue(anon, user)

    row = ApiToken.objects.values().get()
    assert row["token_hash"] == hashlib.sha256(raw.encode()).hexdigest()
    assert all(raw not in str(value) for value in row.values())
    # the prefix shown in the admin is too short to use
    assert raw.startswith(row["prefix"])
    assert len(row["prefix"]) == len("agora_") + 6
