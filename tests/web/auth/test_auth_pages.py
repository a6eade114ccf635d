"""Sign-in, sign-out, sign-up and password reset through the pages."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.test import Client

from agora.accounts.models import ApiToken, User
from agora.notifications import delivery
from agora.notifications.models import Event, Notification
from tests.conftest import token_for
from tests.factories import (
    UserFactory,
    VendorFactory,
    VendorMembershipFactory,
    current_totp_code,
)
from tests.web.public.helpers import robots, text

pytestmark = pytest.mark.django_db

PASSWORD = "pass-word-123"


def _signed_in_as(client: Client) -> int | None:
    value = client.session.get(SESSION_KEY)
    return int(value) if value is not None else None


# --- sign in --------------------------------------------------------------------------------


def test_sign_in_form_is_accessible_and_not_indexed(client: Client) -> None:
    response = client.get("/login/?next=/account/")

    page = text(response)
    assert response.status_code == 200
    assert '<label for="id_email">E-mail address:</label>' in page
    assert '<label for="id_password">Password:</label>' in page
    assert 'autocomplete="current-password"' in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert '<input type="hidden" name="next" value="/account/">' in page
    assert robots(page) == "noindex, follow"
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize(
    ("role", "landing"),
    [("customer", "/account/"), ("staff", "/vendor/"), ("operator", "/operator/")],
)
def test_sign_in_lands_each_role_on_its_portal(client: Client, role: str, landing: str) -> None:
    user = UserFactory(is_operator=role == "operator")
    if role == "staff":
        VendorMembershipFactory(vendor=VendorFactory(), user=user)

    response = client.post("/login/", {"email": user.email.upper(), "password": PASSWORD})
    if role == "operator":  # operators have two-factor sign-in: the code is a second step
        assert (response.status_code, response["Location"]) == (302, "/login/code/")
        assert _signed_in_as(client) is None
        response = client.post("/login/code/", {"otp": current_totp_code(user)})

    assert response.status_code == 302
    assert response["Location"] == landing
    assert _signed_in_as(client) == user.pk


def test_sign_in_follows_a_same_site_next(client: Client, user: Any) -> None:
    response = client.post(
        "/login/", {"email": user.email, "password": PASSWORD, "next": "/account/bookings/?page=2"}
    )

    assert response["Location"] == "/account/bookings/?page=2"


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/",
        "//evil.example/path",
        "http://testserver.evil.example/",
        "javascript:alert(1)",
        "\\\\evil.example",
    ],
)
def test_sign_in_ignores_a_next_that_leaves_the_site(
    client: Client, user: Any, next_url: str
) -> None:
    page = text(client.get("/login/", {"next": next_url}))
    assert 'name="next"' not in page

    response = client.post("/login/", {"email": user.email, "password": PASSWORD, "next": next_url})

    assert response.status_code == 302
    assert response["Location"] == "/account/"
    assert _signed_in_as(client) == user.pk


def test_wrong_password_is_refused_with_a_clear_message(client: Client, user: Any) -> None:
    response = client.post("/login/", {"email": user.email, "password": "wrong-password"})

    assert response.status_code == 400
    assert "The e-mail address or password is wrong." in text(response)
    assert 'role="alert"' in text(response)
    assert _signed_in_as(client) is None


def test_unknown_email_gets_the_same_answer_as_a_wrong_password(client: Client, db: Any) -> None:
    response = client.post("/login/", {"email": "nobody@example.test", "password": "whatever-1"})

    assert response.status_code == 400
    assert "The e-mail address or password is wrong." in text(response)


def test_an_incomplete_form_is_explained_field_by_field(client: Client, db: Any) -> None:
    response = client.post("/login/", {"email": "not-an-email", "password": ""})

    page = text(response)
    assert response.status_code == 400
    assert "Enter a valid email address." in page
    assert (
        '<ul class="errorlist" id="id_password_error"><li>This field is required.</li></ul>' in page
    )
    assert 'aria-invalid="true"' in page
    assert 'aria-describedby="id_password_error"' in page


def test_guessing_passwords_is_throttled_even_for_the_right_one(
    client: Client, user: Any, settings: Any
) -> None:
    settings.AGORA_SIGNIN_MAX_FAILURES = 3
    for _ in range(3):
        assert (
            client.post("/login/", {"email": user.email, "password": "guess-123"}).status_code
            == 400
        )

    response = client.post("/login/", {"email": user.email, "password": PASSWORD})

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Too many sign-in attempts" in text(response)
    assert _signed_in_as(client) is None


def test_page_and_api_share_the_sign_in_limit(
    client: Client, user: Any, settings: Any, anon: Any
) -> None:
    settings.AGORA_SIGNIN_MAX_FAILURES = 2
    for _ in range(2):
        anon.post("/auth/token", {"email": user.email, "password": "guess-123"})

    assert client.post("/login/", {"email": user.email, "password": PASSWORD}).status_code == 429


def test_sign_in_needs_the_csrf_token(user: Any) -> None:
    strict = Client(enforce_csrf_checks=True)

    response = strict.post("/login/", {"email": user.email, "password": PASSWORD})

    assert response.status_code == 403
    assert _signed_in_as(strict) is None


def test_inactive_accounts_cannot_sign_in(client: Client, user: Any) -> None:
    user.is_active = False
    user.save()

    response = client.post("/login/", {"email": user.email, "password": PASSWORD})

    assert response.status_code == 400
    assert _signed_in_as(client) is None


# --- sign out -------------------------------------------------------------------------------


def test_sign_out_is_post_only(client: Client, user: Any) -> None:
    client.force_login(user)

    assert client.get("/logout/").status_code == 405
    assert _signed_in_as(client) == user.pk

    response = client.post("/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert _signed_in_as(client) is None
    assert "You are signed out." in text(client.get("/"))


def test_the_sign_out_button_carries_a_csrf_token(user: Any) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    page = text(strict.get("/"))
    token = re.search(
        r'action="/logout/" class="inline">'
        r'<input type="hidden" name="csrfmiddlewaretoken" value="([^"]+)"',
        page,
    )
    assert token is not None

    assert strict.post("/logout/").status_code == 403
    assert strict.post("/logout/", {"csrfmiddlewaretoken": token.group(1)}).status_code == 302
    assert _signed_in_as(strict) is None


# --- sign up --------------------------------------------------------------------------------


def test_sign_up_creates_a_customer_and_signs_them_in(client: Client, db: Any) -> None:
    response = client.post(
        "/signup/",
        {"name": "Ann Example", "email": " Ann@Example.TEST ", "password": "lantern-harbour-42"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/account/"
    user = User.objects.get()
    assert (user.email, user.name, user.is_operator) == ("ann@example.test", "Ann Example", False)
    assert user.check_password("lantern-harbour-42")
    assert _signed_in_as(client) == user.pk


def test_sign_up_follows_a_safe_next(client: Client, db: Any) -> None:
    response = client.post(
        "/signup/",
        {
            "name": "Ann",
            "email": "ann@example.test",
            "password": "lantern-harbour-42",
            "next": "/l/1/",
        },
    )

    assert response["Location"] == "/l/1/"


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1", "This password is too short. It must contain at least 8 characters."),
        ("password123", "This password is too common."),
        ("1234567890123", "This password is entirely numeric."),
        ("annexample", "The password is too similar to the"),
    ],
)
def test_sign_up_applies_the_password_rules(
    client: Client, db: Any, password: str, message: str
) -> None:
    response = client.post(
        "/signup/", {"name": "Annexample", "email": "ann@example.test", "password": password}
    )

    assert response.status_code == 400
    assert message in text(response)
    assert 'id="id_password_error"' in text(response)
    assert not User.objects.exists()
    assert _signed_in_as(client) is None


def test_sign_up_with_a_taken_email_offers_sign_in(client: Client, user: Any) -> None:
    response = client.post(
        "/signup/", {"name": "Again", "email": user.email.upper(), "password": "lantern-harbour-42"}
    )

    assert response.status_code == 409
    page = text(response)
    assert "An account with this e-mail address exists already." in page
    assert 'href="/login/?email=' in page
    assert User.objects.count() == 1


def test_sign_up_needs_every_field(client: Client, db: Any) -> None:
    response = client.post("/signup/", {"name": "  ", "email": "", "password": ""})

    assert response.status_code == 400
    assert text(response).count("This field is required.") == 3
    assert not User.objects.exists()


# --- password reset -------------------------------------------------------------------------


def test_password_reset_by_email_end_to_end(client: Client, user: Any, mailoutbox: Any) -> None:
    token = token_for(user)
    assert client.get("/password-reset/").status_code == 200

    response = client.post("/password-reset/", {"email": user.email})

    assert response.status_code == 302
    assert response["Location"] == "/password-reset/sent/"
    assert "Check your e-mail" in text(client.get("/password-reset/sent/"))
    # the mail goes through the outbox: sent by the worker, retried if the relay fails
    assert mailoutbox == []
    delivery.run_once()
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == [user.email]
    assert mail.subject == "Reset your Agora password"
    base = re.escape(settings.AGORA_BASE_URL)
    link = re.search(rf"{base}(/password-reset/[^/\s]+/[^/\s]+/)", mail.body)
    assert link is not None
    assert f'href="{settings.AGORA_BASE_URL}{link.group(1)}"' in mail.alternatives[0][0]
    # the link is a secret: gone from the outbox once sent, and never in the in-app centre
    reset_event = Event.objects.get(name="account.password_reset")
    assert reset_event.data == {"wiped": True}
    assert not Notification.objects.exists()

    # the link moves the token into the session and shows the form
    form_page = client.get(link.group(1), follow=True)
    assert "Choose a new password" in text(form_page)
    set_url = form_page.redirect_chain[-1][0]
    mismatch = client.post(
        set_url, {"new_password1": "lantern-harbour-42", "new_password2": "other-harbour-42"}
    )
    assert mismatch.status_code == 200
    assert "fields didn’t match" in text(mismatch)
    done = client.post(
        set_url, {"new_password1": "lantern-harbour-42", "new_password2": "lantern-harbour-42"}
    )
    assert done["Location"] == "/password-reset/complete/"
    assert "Your password is changed" in text(client.get("/password-reset/complete/"))

    user.refresh_from_db()
    assert user.check_password("lantern-harbour-42")
    assert not user.check_password(PASSWORD)
    assert ApiToken.objects.get(user=user).revoked_at is not None  # old API tokens end too
    assert token
    # the link works once
    again = Client().get(link.group(1), follow=True)
    assert "This link no longer works" in text(again)
    # and the new password signs in
    fresh = Client()
    assert (
        fresh.post("/login/", {"email": user.email, "password": "lantern-harbour-42"}).status_code
        == 302
    )


def test_password_reset_for_an_unknown_email_reveals_nothing(
    client: Client, db: Any, mailoutbox: Any
) -> None:
    response = client.post("/password-reset/", {"email": "nobody@example.test"})

    assert response.status_code == 302
    assert response["Location"] == "/password-reset/sent/"
    delivery.run_once()
    assert mailoutbox == []
    assert not Event.objects.filter(name="account.password_reset").exists()


def test_password_reset_rejects_a_weak_new_password(
    client: Client, user: Any, mailoutbox: Any
) -> None:
    client.post("/password-reset/", {"email": user.email})
    delivery.run_once()
    base = re.escape(settings.AGORA_BASE_URL)
    link = re.search(rf"{base}(/password-reset/[^/\s]+/[^/\s]+/)", mailoutbox[0].body)
    assert link is not None
    set_url = client.get(link.group(1), follow=True).redirect_chain[-1][0]

    response = client.post(set_url, {"new_password1": "password", "new_password2": "password"})

    assert response.status_code == 200
    assert "This password is too common." in text(response)
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_password_reset_requests_are_rate_limited(
    client: Client, user: Any, mailoutbox: Any
) -> None:
    from agora.web.auth.views import RESETS_PER_IP

    for _ in range(RESETS_PER_IP):
        client.post("/password-reset/", {"email": user.email})

    response = client.post("/password-reset/", {"email": user.email})

    assert response.status_code == 429
    assert "Too many reset requests" in text(response)
    delivery.run_once()
    assert len(mailoutbox) == RESETS_PER_IP
