"""Two-factor sign-in through the API: enrolment, tokens with a TOTP or a recovery code,
wrong and replayed codes, throttling, operators' requirement, audit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from agora.accounts.models import ApiToken, User
from agora.accounts.services import operator_create
from agora.accounts.two_factor import codes
from agora.core import clock
from agora.core.models import AuditLog
from tests.accounts.two_factor_helpers import (
    PASSWORD,
    code_for,
    enrol,
    send,
    sign_in,
    token_without_otp,
)
from tests.conftest import ApiClient, assert_problem
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# 100 seconds into a 15-minute sign-in window, 10 seconds into a 30-second TOTP step.
START = datetime(2030, 1, 1, 12, 1, 40, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen_clock() -> Iterator[None]:
    with clock.frozen(START):
        yield


@pytest.fixture
def ann() -> User:
    return UserFactory(email="ann@example.test", name="Ann Example")


def actions(user: User) -> list[str]:
    return list(
        AuditLog.objects.filter(object_id=str(user.pk), action__startswith="user.")
        .order_by("pk")
        .values_list("action", flat=True)
    )


# --- enrolment ------------------------------------------------------------------------------------


def test_enrolment_shows_a_secret_and_qr_code_and_turns_on_with_the_first_code(ann: User) -> None:
    client = token_without_otp(ann)

    started = client.post("/me/2fa")

    assert started.status_code == 201
    assert started["Cache-Control"] == "no-store"
    body = started.json()
    device = TOTPDevice.objects.get(user=ann)
    assert device.confirmed is False
    assert body["secret"] == codes.secret_base32(device.key)
    assert len(body["secret"]) == 32  # 20 bytes
    assert body["otpauth_url"] == (
        f"otpauth://totp/Agora%3Aann%40example.test?secret={body['secret']}"
        "&algorithm=SHA1&digits=6&period=30&issuer=Agora"
    )
    assert body["qr_svg"].startswith("<svg")
    assert "<path" in body["qr_svg"]
    # not on until confirmed
    assert client.get("/me/2fa").json() == {
        "enabled": False,
        "enabled_at": None,
        "required": False,
        "recovery_codes_left": 0,
        "enrolment_pending": True,
    }
    assert sign_in(ann).status_code == 200

    confirmed = client.post("/me/2fa/confirm", {"code": code_for(body["secret"])})

    assert confirmed.status_code == 200, confirmed.content
    assert confirmed["Cache-Control"] == "no-store"
    recovery = confirmed.json()["recovery_codes"]
    assert len(recovery) == 10
    assert len(set(recovery)) == 10
    assert all(len(code) == 11 and code[5] == "-" for code in recovery)
    ann.refresh_from_db()
    assert ann.otp_enabled_at == START
    assert client.get("/me/2fa").json() == {
        "enabled": True,
        "enabled_at": "2030-01-01T12:01:40Z",
        "required": False,
        "recovery_codes_left": 10,
        "enrolment_pending": False,
    }
    assert client.get("/me").json()["two_factor_enabled"] is True
    # recovery codes are kept only as keyed digests
    stored = set(StaticToken.objects.values_list("token", flat=True))
    assert stored.isdisjoint({c.replace("-", "") for c in recovery} | set(recovery))
    assert actions(ann) == ["user.two_factor_enabled"]


def test_a_wrong_first_code_leaves_two_factor_off(ann: User) -> None:
    client = token_without_otp(ann)
    secret = client.post("/me/2fa").json()["secret"]
    wrong = f"{(int(code_for(secret)) + 1) % 1_000_000:06d}"

    response = client.post("/me/2fa/confirm", {"code": wrong})

    body = assert_problem(response, 422, "validation_error")
    assert body["errors"][0]["loc"] == ["body", "code"]
    ann.refresh_from_db()
    assert ann.otp_enabled_at is None
    assert TOTPDevice.objects.get(user=ann).confirmed is False
    assert sign_in(ann).status_code == 200


def test_confirming_without_starting_is_409(ann: User) -> None:
    response = token_without_otp(ann).post("/me/2fa/confirm", {"code": "123456"})

    assert_problem(response, 409, "otp_enrolment_not_started")


def test_turning_it_on_revokes_every_other_token_but_the_confirming_one(ann: User) -> None:
    other = token_without_otp(ann)
    client = token_without_otp(ann)

    enrol(client)

    assert client.get("/me").status_code == 200
    assert_problem(other.get("/me"), 401, "not_authenticated")
    assert ApiToken.objects.filter(user=ann, revoked_at__isnull=True).count() == 1


# --- signing in with a code -----------------------------------------------------------------------


def test_a_token_needs_a_current_code(ann: User) -> None:
    secret, _ = enrol(token_without_otp(ann))
    clock.advance(timedelta(seconds=30))  # the next code

    missing = sign_in(ann)
    assert_problem(missing, 401, "otp_required")
    wrong = sign_in(ann, otp="000000" if code_for(secret) != "000000" else "111111")
    assert_problem(wrong, 401, "otp_invalid")
    tokens_before = ApiToken.objects.count()

    right = sign_in(ann, otp=code_for(secret))

    assert right.status_code == 200, right.content
    assert ApiToken.objects.count() == tokens_before + 1
    assert ApiClient(right.json()["access_token"]).get("/me").json()["email"] == ann.email


def test_the_code_is_checked_only_after_the_right_password(ann: User) -> None:
    secret, _ = enrol(token_without_otp(ann))
    clock.advance(timedelta(seconds=30))

    response = sign_in_with_password(ann, "wrong-password", otp=code_for(secret))

    assert_problem(response, 401, "invalid_credentials")
    # the code was not spent by the refused attempt
    assert sign_in(ann, otp=code_for(secret)).status_code == 200


def sign_in_with_password(user: User, password: str, *, otp: str) -> object:
    return ApiClient().post("/auth/token", {"email": user.email, "password": password, "otp": otp})


def test_a_code_is_good_once(ann: User) -> None:
    secret, _ = enrol(token_without_otp(ann))
    clock.advance(timedelta(seconds=30))
    code = code_for(secret)
    assert sign_in(ann, otp=code).status_code == 200

    replayed = sign_in(ann, otp=code)

    assert_problem(replayed, 401, "otp_invalid")
    # the next step's code works
    clock.advance(timedelta(seconds=30))
    assert sign_in(ann, otp=code_for(secret)).status_code == 200


def test_an_earlier_code_is_refused_once_a_later_one_was_used(ann: User) -> None:
    secret, _ = enrol(token_without_otp(ann))
    clock.advance(timedelta(seconds=60))
    earlier, later = code_for(secret, steps_ahead=-1), code_for(secret)
    assert sign_in(ann, otp=later).status_code == 200

    assert_problem(sign_in(ann, otp=earlier), 401, "otp_invalid")


def test_a_code_one_step_either_side_is_accepted_and_two_steps_are_not(ann: User) -> None:
    secret, _ = enrol(token_without_otp(ann))
    clock.advance(timedelta(minutes=5))

    assert_problem(sign_in(ann, otp=code_for(secret, steps_ahead=2)), 401, "otp_invalid")
    assert sign_in(ann, otp=code_for(secret, steps_ahead=1)).status_code == 200


def test_a_recovery_code_signs_in_once(ann: User) -> None:
    _, recovery = enrol(token_without_otp(ann))

    first = sign_in(ann, otp=recovery[3].upper().replace("-", " "))

    assert first.status_code == 200, first.content
    assert_problem(sign_in(ann, otp=recovery[3]), 401, "otp_invalid")
    assert StaticToken.objects.filter(device__user=ann).count() == 9
    assert actions(ann)[-1] == "user.recovery_code_used"
    assert AuditLog.objects.filter(action="user.recovery_code_used").get().data == {"left": 9}


def test_another_persons_codes_do_not_sign_in(ann: User) -> None:
    bob = UserFactory(email="bob@example.test")
    bob_secret, bob_recovery = enrol(token_without_otp(bob))
    enrol(token_without_otp(ann))
    clock.advance(timedelta(seconds=30))

    assert_problem(sign_in(ann, otp=code_for(bob_secret)), 401, "otp_invalid")
    assert_problem(sign_in(ann, otp=bob_recovery[0]), 401, "otp_invalid")
    assert StaticToken.objects.filter(device__user=bob).count() == 10


# --- throttling -----------------------------------------------------------------------------------


def test_wrong_codes_lock_the_code_step_even_for_the_right_code(ann: User) -> None:
    secret, _ = enrol(token_without_otp(ann))
    clock.advance(timedelta(seconds=30))
    right = code_for(secret)
    wrong = "000000" if right != "000000" else "111111"
    assert settings.AGORA_OTP_MAX_FAILURES == 5
    for _ in range(5):
        assert_problem(sign_in(ann, otp=wrong), 401, "otp_invalid")

    locked = sign_in(ann, otp=right)

    body = assert_problem(locked, 429, "rate_limited")
    assert body["detail"] == "Too many wrong codes; wait and try again."
    assert locked["Retry-After"] == str(settings.AGORA_SIGNIN_WINDOW_SECONDS - 130)
    # ...the code was not spent: after the window it still signs in (within tolerance)
    clock.advance(timedelta(seconds=int(locked["Retry-After"])))
    assert sign_in(ann, otp=code_for(secret)).status_code == 200


def test_the_code_throttle_holds_with_an_idempotency_key(ann: User) -> None:
    # A refused request under an Idempotency-Key is rolled back; its failure counts anyway.
    secret, _ = enrol(token_without_otp(ann))
    clock.advance(timedelta(seconds=30))
    for attempt in range(5):
        response = ApiClient().post(
            "/auth/token",
            {"email": ann.email, "password": PASSWORD, "otp": "not-a-code"},
            idempotency_key=f"guess-{attempt}",
        )
        assert_problem(response, 401, "otp_invalid")

    locked = ApiClient().post(
        "/auth/token",
        {"email": ann.email, "password": PASSWORD, "otp": code_for(secret)},
        idempotency_key="guess-right",
    )

    assert_problem(locked, 429, "rate_limited")


def test_the_code_throttle_is_per_account(ann: User) -> None:
    enrol(token_without_otp(ann))
    bob = UserFactory(email="bob@example.test")
    bob_secret, _ = enrol(token_without_otp(bob))
    clock.advance(timedelta(seconds=30))
    for _ in range(5):
        sign_in(ann, otp="000000")

    assert sign_in(bob, otp=code_for(bob_secret)).status_code == 200


def test_wrong_codes_do_not_count_as_wrong_passwords(ann: User) -> None:
    enrol(token_without_otp(ann))
    for _ in range(settings.AGORA_SIGNIN_MAX_FAILURES):
        sign_in(ann, otp="000000")

    # the password step is open (429 here would be the password lock)
    assert_problem(sign_in_with_password(ann, "wrong", otp="x"), 401, "invalid_credentials")


# --- recovery codes, replacing the app, turning it off -----------------------------------


def test_new_recovery_codes_need_a_code_and_replace_the_old_ones(ann: User) -> None:
    client = token_without_otp(ann)
    secret, old = enrol(client)

    assert_problem(client.post("/me/2fa/recovery-codes", {}), 401, "otp_required")
    clock.advance(timedelta(seconds=30))
    response = client.post("/me/2fa/recovery-codes", {"otp": code_for(secret)})

    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    new = response.json()["recovery_codes"]
    assert len(new) == 10
    assert set(new).isdisjoint(old)
    assert_problem(sign_in(ann, otp=old[0]), 401, "otp_invalid")
    assert sign_in(ann, otp=new[0]).status_code == 200
    assert "user.recovery_codes_generated" in actions(ann)


def test_replacing_the_app_needs_a_current_code_and_retires_the_old_app(ann: User) -> None:
    client = token_without_otp(ann)
    old_secret, _ = enrol(client)

    assert_problem(client.post("/me/2fa", {}), 401, "otp_required")
    clock.advance(timedelta(seconds=30))
    started = client.post("/me/2fa", {"otp": code_for(old_secret)})
    assert started.status_code == 201
    new_secret = started.json()["secret"]
    # until confirmed, the old app still signs in
    clock.advance(timedelta(seconds=30))
    assert client.post("/me/2fa/confirm", {"code": code_for(new_secret)}).status_code == 200

    clock.advance(timedelta(seconds=30))
    assert_problem(sign_in(ann, otp=code_for(old_secret)), 401, "otp_invalid")
    assert sign_in(ann, otp=code_for(new_secret)).status_code == 200
    assert TOTPDevice.objects.filter(user=ann).count() == 1
    enabled = AuditLog.objects.filter(action="user.two_factor_enabled").order_by("pk")
    assert [entry.data["replaced"] for entry in enabled] == [False, True]


def test_a_vendors_staff_member_may_turn_it_off_with_a_code(ann: User) -> None:
    client = token_without_otp(ann)
    secret, _ = enrol(client)

    assert_problem(send(client, "delete", "/me/2fa", {}), 401, "otp_required")
    clock.advance(timedelta(seconds=30))
    response = send(client, "delete", "/me/2fa", {"otp": code_for(secret)})

    assert response.status_code == 204
    ann.refresh_from_db()
    assert ann.otp_enabled_at is None
    assert not TOTPDevice.objects.filter(user=ann).exists()
    assert not StaticToken.objects.filter(device__user=ann).exists()
    assert sign_in(ann).status_code == 200
    assert actions(ann)[-1] == "user.two_factor_disabled"
    assert_problem(send(client, "delete", "/me/2fa", {"otp": "x"}), 409, "otp_not_enabled")


# --- operators ------------------------------------------------------------------------------------


def test_an_operator_without_two_factor_is_refused_on_operator_endpoints() -> None:
    operator = operator_create(email="olga@example.test", password=PASSWORD)
    client = token_without_otp(operator)

    for response in (
        client.get("/operator/vendors"),
        client.get("/operator/ledger/balances"),
        client.get("/operator/audit-log"),
        client.post("/operator/vendors/1/approve", {}),
    ):
        body = assert_problem(response, 403, "otp_enrolment_required")
        assert "two-factor" in body["detail"]
    # but may see who they are and turn it on
    assert client.get("/me").json()["roles"] == ["customer", "operator"]
    assert client.get("/me/2fa").json()["required"] is True


def test_an_operator_who_turns_it_on_may_act_and_signs_in_with_codes() -> None:
    operator = operator_create(email="olga@example.test", password=PASSWORD)
    client = token_without_otp(operator)

    secret, _ = enrol(client)

    assert client.get("/operator/ledger/balances").status_code == 200
    clock.advance(timedelta(seconds=30))
    assert_problem(sign_in(operator), 401, "otp_required")
    fresh = sign_in(operator, otp=code_for(secret))
    assert ApiClient(fresh.json()["access_token"]).get("/operator/vendors").status_code == 200


def test_an_operator_may_not_turn_it_off() -> None:
    operator = operator_create(email="olga@example.test", password=PASSWORD)
    client = token_without_otp(operator)
    secret, _ = enrol(client)
    clock.advance(timedelta(seconds=30))

    response = send(client, "delete", "/me/2fa", {"otp": code_for(secret)})

    assert_problem(response, 409, "otp_required_for_operators")
    operator.refresh_from_db()
    assert operator.otp_enabled_at is not None
    # the code was not spent either
    assert sign_in(operator, otp=code_for(secret)).status_code == 200


def test_a_customer_promoted_to_operator_must_turn_it_on_first(ann: User) -> None:
    client = token_without_otp(ann)
    operator_create(email=ann.email, password="operator-long-passphrase")

    assert_problem(client.get("/operator/vendors"), 403, "otp_enrolment_required")


def test_with_the_requirement_off_an_operator_acts_without_two_factor(settings: object) -> None:
    settings.AGORA_REQUIRE_OPERATOR_2FA = False  # type: ignore[attr-defined]
    operator = operator_create(email="olga@example.test", password=PASSWORD)

    assert token_without_otp(operator).get("/operator/vendors").status_code == 200


def test_the_test_factories_operators_have_two_factor_on(operator_user: User) -> None:
    # So every other test's operator meets the requirement, as a real one must.
    assert operator_user.otp_enabled_at is not None
    assert TOTPDevice.objects.filter(user=operator_user, confirmed=True).count() == 1
    assert_problem(sign_in(operator_user), 401, "otp_required")
