"""Two-factor sign-in on the pages: the code step after the password, its throttle, the
security page's enrolment (QR code, secret, recovery codes shown once), operators sent to
enrol before any operator page, and the Django admin behind the same sign-in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from agora.accounts.models import User
from agora.accounts.services import operator_create
from agora.accounts.two_factor import codes
from agora.core import clock
from tests.accounts.two_factor_helpers import PASSWORD, code_for, enrol, token_without_otp
from tests.factories import UserFactory, VendorMembershipFactory, current_totp_code

pytestmark = pytest.mark.django_db

START = datetime(2030, 1, 1, 12, 1, 40, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen_clock() -> Iterator[None]:
    with clock.frozen(START):
        yield


def signed_in_as(client: Client) -> int | None:
    value = client.session.get(SESSION_KEY)
    return int(value) if value is not None else None


def password_step(client: Client, user: User, **extra: str) -> Any:
    return client.post("/login/", {"email": user.email, "password": PASSWORD, **extra})


def enrolled(user: User) -> str:
    """Two-factor on for `user` (through the API); the secret of their app."""
    secret, _ = enrol(token_without_otp(user))
    clock.advance(timedelta(seconds=30))  # a fresh code for the sign-in
    return secret


# --- the code step ----------------------------------------------------------------------------


def test_with_two_factor_the_password_leads_to_the_code_step_which_signs_in() -> None:
    ann = UserFactory()
    secret = enrolled(ann)
    client = Client()

    response = password_step(client, ann, next="/account/orders/")

    assert response.status_code == 302
    assert response["Location"] == "/login/code/?next=%2Faccount%2Forders%2F"
    assert signed_in_as(client) is None  # not yet
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert 'autocomplete="one-time-code"' in page.content.decode()

    done = client.post("/login/code/", {"otp": code_for(secret), "next": "/account/orders/"})

    assert done.status_code == 302
    assert done["Location"] == "/account/orders/"
    assert signed_in_as(client) == ann.pk
    assert client.session[DEVICE_ID_SESSION_KEY] == TOTPDevice.objects.get(user=ann).persistent_id


def test_without_two_factor_the_password_signs_in_at_once() -> None:
    ann = UserFactory()
    client = Client()

    response = password_step(client, ann)

    assert (response.status_code, response["Location"]) == (302, "/account/")
    assert signed_in_as(client) == ann.pk


def test_a_wrong_or_replayed_code_does_not_sign_in() -> None:
    ann = UserFactory()
    secret = enrolled(ann)
    client = Client()
    password_step(client, ann)

    wrong = client.post("/login/code/", {"otp": "12345x"})
    assert wrong.status_code == 400
    assert "That code is wrong, or has been used already." in wrong.content.decode()
    assert signed_in_as(client) is None

    code = code_for(secret)
    assert client.post("/login/code/", {"otp": code}).status_code == 302
    other = Client()
    password_step(other, ann)
    replayed = other.post("/login/code/", {"otp": code})
    assert replayed.status_code == 400
    assert signed_in_as(other) is None


def test_a_recovery_code_signs_in_and_says_how_many_are_left() -> None:
    ann = UserFactory()
    _, recovery = enrol(token_without_otp(ann))
    client = Client()
    password_step(client, ann)

    response = client.post("/login/code/", {"otp": recovery[0]}, follow=True)

    assert signed_in_as(client) == ann.pk
    assert "You signed in with a recovery code; 9 left." in response.content.decode()


def test_the_code_step_is_throttled_per_account() -> None:
    ann = UserFactory()
    secret = enrolled(ann)
    client = Client()
    password_step(client, ann)
    for _ in range(settings.AGORA_OTP_MAX_FAILURES):
        assert client.post("/login/code/", {"otp": "000000"}).status_code == 400

    locked = client.post("/login/code/", {"otp": code_for(secret)})

    assert locked.status_code == 429
    assert locked["Retry-After"] == str(settings.AGORA_SIGNIN_WINDOW_SECONDS - 130)
    assert "Too many wrong codes" in locked.content.decode()
    assert signed_in_as(client) is None
    # a new password step does not reopen it
    password_step(client, ann)
    assert client.post("/login/code/", {"otp": code_for(secret)}).status_code == 429


def test_the_code_step_counts_against_the_address_limit(settings: Any) -> None:
    settings.AGORA_SIGNIN_MAX_PER_IP = 3
    ann = UserFactory()
    secret = enrolled(ann)
    client = Client(REMOTE_ADDR="203.0.113.9")
    password_step(client, ann)  # 1
    client.post("/login/code/", {"otp": "000000"})  # 2
    client.post("/login/code/", {"otp": "000000"})  # 3

    assert client.post("/login/code/", {"otp": code_for(secret)}).status_code == 429


def test_the_code_step_without_a_password_step_goes_back_to_sign_in() -> None:
    response = Client().get("/login/code/?next=/account/")

    assert (response.status_code, response["Location"]) == (302, "/login/?next=%2Faccount%2F")


def test_the_code_step_expires_after_five_minutes() -> None:
    ann = UserFactory()
    secret = enrolled(ann)
    client = Client()
    password_step(client, ann)
    clock.advance(timedelta(minutes=5, seconds=1))

    response = client.post("/login/code/", {"otp": code_for(secret)})

    assert (response.status_code, response["Location"]) == (302, "/login/")
    assert signed_in_as(client) is None


def test_a_password_change_between_the_steps_voids_the_first_step() -> None:
    ann = UserFactory()
    secret = enrolled(ann)
    client = Client()
    password_step(client, ann)
    ann.set_password("another-long-passphrase")
    ann.save()

    response = client.post("/login/code/", {"otp": code_for(secret)})

    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert signed_in_as(client) is None


# --- the security page --------------------------------------------------------------------------


def test_the_security_page_enrols_with_a_qr_code_and_shows_recovery_codes_once() -> None:
    ann = UserFactory()
    VendorMembershipFactory(user=ann, role="staff")
    browser = Client()
    browser.force_login(ann)

    off = browser.get("/account/security/").content.decode()
    assert "Set up two-factor sign-in" in off
    assert "and your vendor's" in off  # offered to vendor staff
    started = browser.post("/account/security/start/")
    assert (started.status_code, started["Location"]) == (302, "/account/security/")
    page = browser.get("/account/security/").content.decode()
    device = TOTPDevice.objects.get(user=ann, confirmed=False)
    secret = codes.secret_base32(device.key)
    assert f'<code class="otp-secret">{secret}</code>' in page
    assert '<div class="qr-code" role="img"' in page
    assert "<svg" in page

    confirmed = browser.post("/account/security/confirm/", {"otp": code_for(secret)})

    assert confirmed.status_code == 200
    assert "no-store" in confirmed["Cache-Control"]
    shown = re.findall(
        r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", confirmed.content.decode()
    )
    assert len(shown) == 10
    ann.refresh_from_db()
    assert ann.otp_enabled_at == START
    # this session stays signed in (and counts as verified); the codes are not shown again
    assert signed_in_as(browser) == ann.pk
    again = browser.get("/account/security/").content.decode()
    assert "10 recovery codes left." in again
    assert not set(shown) & set(re.findall(r"[a-z0-9]{5}-[a-z0-9]{5}", again))


def test_turning_it_on_ends_the_persons_other_sessions() -> None:
    ann = UserFactory()
    laptop, phone = Client(), Client()
    laptop.force_login(ann)
    phone.force_login(ann)
    laptop.post("/account/security/start/")
    secret = codes.secret_base32(TOTPDevice.objects.get(user=ann).key)

    laptop.post("/account/security/confirm/", {"otp": code_for(secret)})

    assert laptop.get("/account/").status_code == 200
    assert phone.get("/account/").status_code == 302  # signed out


def test_a_wrong_first_code_on_the_page_keeps_it_off() -> None:
    ann = UserFactory()
    browser = Client()
    browser.force_login(ann)
    browser.post("/account/security/start/")

    response = browser.post("/account/security/confirm/", {"otp": "000000"}, follow=True)

    assert "The code does not match" in response.content.decode()
    ann.refresh_from_db()
    assert ann.otp_enabled_at is None


def test_the_page_turns_it_off_with_a_code_for_a_customer() -> None:
    ann = UserFactory()
    secret = enrolled(ann)
    browser = Client()
    browser.force_login(User.objects.get(pk=ann.pk))

    response = browser.post("/account/security/disable/", {"otp": code_for(secret)}, follow=True)

    assert "Two-factor sign-in is off." in response.content.decode()
    ann.refresh_from_db()
    assert ann.otp_enabled_at is None
    assert signed_in_as(browser) == ann.pk


def test_an_operators_page_offers_no_way_to_turn_it_off(operator_user: User) -> None:
    browser = Client()
    browser.force_login(operator_user)

    page = browser.get("/account/security/").content.decode()

    assert "/account/security/disable/" not in page
    assert "Operators keep two-factor sign-in on" in page


# --- operators must enrol first -----------------------------------------------------------------


def test_an_operator_without_two_factor_is_sent_to_enrol_before_any_operator_page() -> None:
    operator = operator_create(email="olga@example.test", password=PASSWORD)
    browser = Client()
    signed_in = password_step(browser, operator)
    assert (signed_in.status_code, signed_in["Location"]) == (302, "/operator/")

    for path in ("/operator/", "/operator/vendors/", "/operator/reviews/"):
        response = browser.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == f"/account/security/?next={path.replace('/', '%2F')}"
    page = browser.get("/account/security/?next=/operator/").content.decode()
    assert "Two-factor sign-in is required for operators" in page

    # enrolling on that page opens the console, and later sign-ins ask for the code
    browser.post("/account/security/start/", {"next": "/operator/"})
    secret = codes.secret_base32(TOTPDevice.objects.get(user=operator).key)
    codes_page = browser.post(
        "/account/security/confirm/", {"otp": code_for(secret), "next": "/operator/"}
    )
    assert 'href="/operator/"' in codes_page.content.decode()
    assert browser.get("/operator/").status_code == 200
    clock.advance(timedelta(seconds=30))
    fresh = Client()
    assert password_step(fresh, operator)["Location"] == "/login/code/"


def test_operator_pages_open_for_an_operator_who_signed_in_with_a_code(
    operator_user: User,
) -> None:
    browser = Client()
    password_step(browser, operator_user)

    response = browser.post("/login/code/", {"otp": current_totp_code(operator_user)})

    assert response["Location"] == "/operator/"
    assert browser.get("/operator/").status_code == 200


# --- the Django admin ---------------------------------------------------------------------------


def test_the_admin_has_no_password_only_login_of_its_own(operator_user: User) -> None:
    response = Client().get("/django-admin/login/?next=/django-admin/")

    assert (response.status_code, response["Location"]) == (
        302,
        "/login/?next=/django-admin/",
    )
    # a password posted to it signs nobody in
    browser = Client()
    posted = browser.post(
        "/django-admin/login/", {"username": operator_user.email, "password": PASSWORD}
    )
    assert posted.status_code == 302
    assert signed_in_as(browser) is None


def test_the_admin_opens_only_for_staff_with_two_factor(operator_user: User) -> None:
    unenrolled = operator_create(email="olga@example.test", password=PASSWORD)
    without, with_code = Client(), Client()
    without.force_login(unenrolled)
    with_code.force_login(operator_user)

    refused = without.get("/django-admin/")
    assert refused.status_code == 302
    enrol_redirect = without.get(refused["Location"])
    assert enrol_redirect["Location"].startswith("/account/security/?next=")
    assert with_code.get("/django-admin/").status_code == 200
