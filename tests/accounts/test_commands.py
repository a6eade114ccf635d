"""`agora createoperator` and `agora demo` (API.md, Command line)."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from agora.accounts.models import User
from agora.accounts.two_factor import codes
from agora.core import clock
from agora.core.models import AuditLog
from agora.demo.accounts import DEMO_PASSWORD, DEMO_USERS
from agora.demo.two_factor import DEMO_OPERATOR_EMAIL, DEMO_OPERATOR_TOTP_SECRET
from tests.conftest import ApiClient
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

STRONG = "operator-long-passphrase"


def run(*args: Any, **options: Any) -> str:
    out = StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


def sign_in(email: str, password: str) -> Any:
    body = {"email": email, "password": password}
    if email == DEMO_OPERATOR_EMAIL:
        # The demo operator has two-factor sign-in, with the secret the demo publishes.
        key = codes.key_hex_from_base32(DEMO_OPERATOR_TOTP_SECRET)
        body["otp"] = codes.totp_code_at(key, clock.now())
    return ApiClient().post("/auth/token", body)


def roles_of(email: str, password: str) -> list[str]:
    response = sign_in(email, password)
    assert response.status_code == 200, response.content
    me = ApiClient(response.json()["access_token"]).get("/me")
    return list(me.json()["roles"])


# --- createoperator ------------------------------------------------------------------------------


def test_createoperator_creates_an_operator_who_can_sign_in() -> None:
    output = run("createoperator", email="Olga@Example.test", password=STRONG, name="Olga")

    assert output.strip() == "Operator olga@example.test is ready."
    user = User.objects.get()
    assert (user.email, user.name) == ("olga@example.test", "Olga")
    assert (user.is_operator, user.is_staff, user.is_superuser, user.is_active) == (
        True,
        True,
        True,
        True,
    )
    assert roles_of("olga@example.test", STRONG) == ["customer", "operator"]
    assert AuditLog.objects.get().action == "user.operator_granted"


def test_createoperator_accepts_command_line_style_arguments() -> None:
    run("createoperator", "--email", "olga@example.test", "--password", STRONG)

    assert User.objects.get().name == "Operator"


def test_running_createoperator_again_keeps_one_operator() -> None:
    run("createoperator", email="olga@example.test", password=STRONG)
    first = User.objects.get()

    run("createoperator", email="OLGA@example.test", password=STRONG)

    again = User.objects.get()
    assert again.pk == first.pk
    assert again.is_operator
    assert roles_of("olga@example.test", STRONG) == ["customer", "operator"]


def test_createoperator_promotes_an_existing_customer() -> None:
    customer = UserFactory(email="cat@example.test", name="Cat")
    assert roles_of("cat@example.test", "pass-word-123") == ["customer"]

    run("createoperator", email="cat@example.test", password=STRONG)

    promoted = User.objects.get()
    assert promoted.pk == customer.pk
    assert promoted.name == "Cat"
    assert roles_of("cat@example.test", STRONG) == ["customer", "operator"]


@pytest.mark.parametrize("password", ["password", "12345678", "short", "olga@example.test"])
def test_createoperator_refuses_a_weak_password_and_creates_nothing(password: str) -> None:
    with pytest.raises(CommandError, match=r"^The password is too weak\. "):
        run("createoperator", email="olga@example.test", password=password)

    assert User.objects.count() == 0
    assert AuditLog.objects.count() == 0


def test_createoperator_refuses_a_weak_password_for_an_existing_account_too() -> None:
    # Promotion sets the password as well, so it must meet the same rules: an operator
    # account is the last one that should end up with "password".
    customer = UserFactory(email="cat@example.test")
    before = User.objects.values().get(pk=customer.pk)

    with pytest.raises(CommandError, match="too weak"):
        run("createoperator", email="cat@example.test", password="password")

    assert User.objects.values().get(pk=customer.pk) == before
    assert AuditLog.objects.count() == 0


def test_createoperator_refuses_an_invalid_email() -> None:
    with pytest.raises(CommandError, match="e-mail address is not valid"):
        run("createoperator", email="not-an-email", password=STRONG)

    assert User.objects.count() == 0


# --- demo ----------------------------------------------------------------------------------------
# Later demo steps add vendors and their staff; these tests hold for whatever they add.

DEMO_EMAILS = ["customer@agora.test", "operator@agora.test", "vendor@agora.test"]


def all_accounts() -> list[dict[str, Any]]:
    return list(
        User.objects.order_by("pk").values(
            "pk", "email", "name", "password", "is_active", "is_operator", "is_staff"
        )
    )


def test_demo_creates_the_three_demo_accounts_with_the_demo_password() -> None:
    run("demo")

    assert sorted(spec["email"] for spec in DEMO_USERS) == DEMO_EMAILS
    assert set(DEMO_EMAILS) <= set(User.objects.values_list("email", flat=True))
    assert DEMO_PASSWORD == "agora-demo"
    operator_roles = roles_of("operator@agora.test", "agora-demo")
    assert operator_roles[:1] == ["customer"]
    assert "operator" in operator_roles
    assert "operator" not in roles_of("customer@agora.test", "agora-demo")
    assert "operator" not in roles_of("vendor@agora.test", "agora-demo")


def test_demo_is_idempotent_and_leaves_other_accounts_alone() -> None:
    other = UserFactory(email="someone@example.test", name="Someone")
    other_before = User.objects.values().get(pk=other.pk)
    run("demo")
    first = all_accounts()

    run("demo")

    # nothing duplicated, nothing changed (not even a re-hashed password)
    assert all_accounts() == first
    assert User.objects.values().get(pk=other.pk) == other_before
    for email in DEMO_EMAILS:
        assert sign_in(email, "agora-demo").status_code == 200
