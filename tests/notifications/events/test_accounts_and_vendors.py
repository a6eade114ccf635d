"""Sign-up, a vendor's application and the operators' decisions, staff invitations: each
announced in its own transaction, mailed to the right people with absolute links."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from agora.core import clock
from agora.vendors.models import Vendor, VendorInvitation
from tests.conftest import ApiClient, token_for
from tests.factories import UserFactory, VendorFactory, VendorMembershipFactory
from tests.notifications.events.conftest import (
    BASE,
    delivered,
    flush,
    links,
    names,
    new_names,
    routing,
    subjects,
    the_event,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _site_name(settings: Any) -> None:
    settings.AGORA_SITE_NAME = "Agora Market"


@pytest.fixture
def operator(db: Any) -> Any:
    UserFactory(email="gone@example.test", is_operator=True, is_active=False)
    return UserFactory(email="ops@example.test", is_operator=True, name="Opal Operator")


def as_(user: Any) -> ApiClient:
    return ApiClient(token_for(user))


# --- sign-up -----------------------------------------------------------------------------------


def test_signing_up_sends_a_welcome(db: Any) -> None:
    response = ApiClient().post(
        "/auth/register",
        {"email": "Nia@Example.test", "password": "a-long-pass-word-9", "name": "Nia Newcomer"},
    )

    assert response.status_code == 201, response.content
    event = the_event("account.welcome")
    user_id = response.json()["id"]
    assert routing(event) == ("account.welcome", user_id, None, False)
    assert event.data == {"id": user_id, "url": "/account/", "browse_url": "/"}
    mails = delivered()
    assert subjects(mails) == {"nia@example.test": "Welcome to Agora Market"}
    assert mails["nia@example.test"].body.startswith("Welcome to Agora Market, Nia!")
    assert f"{BASE}/account/" in links(mails["nia@example.test"])


def test_a_refused_sign_up_sends_nothing(db: Any) -> None:
    UserFactory(email="taken@example.test")

    for body in (
        {"email": "taken@example.test", "password": "a-long-pass-word-9", "name": "Copy"},
        {"email": "short@example.test", "password": "123", "name": "Weak"},
    ):
        assert ApiClient().post("/auth/register", body).status_code in (409, 422)

    assert names() == []


# --- applying and the operators' decisions -----------------------------------------------------


def test_an_application_tells_the_applicant_and_the_operators(operator: Any) -> None:
    applicant = UserFactory(name="Priya Patel")
    UserFactory(email="bystander@example.test")

    response = as_(applicant).post(
        "/vendors", {"name": "Patel Plumbing", "timezone": "Europe/London", "currency": "GBP"}
    )

    assert response.status_code == 201, response.content
    vendor_id = response.json()["id"]
    event = the_event("vendor.applied")
    assert routing(event) == ("vendor.applied", applicant.pk, vendor_id, True)
    assert event.data == {
        "id": vendor_id,
        "status": "pending",
        "name": "Patel Plumbing",
        "applicant_name": "Priya Patel",
        "url": f"/vendor/profile/?vendor={vendor_id}",
        "vendor_url": f"/vendor/profile/?vendor={vendor_id}",
        "operator_url": f"/operator/vendors/{vendor_id}/",
    }
    mails = delivered()
    assert subjects(mails) == {
        applicant.email: "We received the application for Patel Plumbing",
        "ops@example.test": "New vendor application: Patel Plumbing",
    }
    assert f"{BASE}/vendor/profile/?vendor={vendor_id}" in links(mails[applicant.email])
    assert f"{BASE}/operator/vendors/{vendor_id}/" in links(mails["ops@example.test"])
    assert mails["ops@example.test"].body.startswith(
        "Priya Patel applied to sell on Agora Market as Patel Plumbing."
    )


@pytest.fixture
def applicant_vendor(db: Any) -> tuple[Vendor, Any, Any, Any]:
    """A pending vendor with an owner, a manager and a `staff` member."""
    owner, manager, staff = UserFactory(), UserFactory(), UserFactory()
    vendor = VendorFactory(name="Brixton Motors", status="pending", owner=owner)
    VendorMembershipFactory(vendor=vendor, user=manager, role="manager")
    VendorMembershipFactory(vendor=vendor, user=staff, role="staff")
    VendorFactory(owner=UserFactory(email="rival@example.test"))
    return vendor, owner, manager, staff


def decide(operator: Any, vendor: Vendor, action: str, reason: str = "") -> Any:
    body = {"reason": reason} if reason else None
    return as_(operator).post(f"/operator/vendors/{vendor.pk}/{action}", body)


def test_each_decision_tells_the_owners_and_managers(
    operator: Any, applicant_vendor: tuple[Vendor, Any, Any, Any]
) -> None:
    vendor, owner, manager, _staff = applicant_vendor
    managers = {owner.email, manager.email}
    steps = [
        ("approve", "", "vendor.approved", "active", "/vendor/", "is approved"),
        ("suspend", "Too many complaints", "vendor.suspended", "suspended", "/vendor/profile/", ""),
        ("reinstate", "", "vendor.reinstated", "active", "/vendor/", "is live again"),
    ]
    expected_subjects = {
        "vendor.approved": "Brixton Motors is approved: you can start selling",
        "vendor.suspended": "Brixton Motors is suspended on Agora Market",
        "vendor.reinstated": "Brixton Motors is live again",
    }
    for action, reason, name, status, page, _ in steps:
        before = flush()
        response = decide(operator, vendor, action, reason)
        assert response.status_code == 200, response.content

        assert new_names(before) == [name]
        event = the_event(name)
        assert routing(event) == (name, None, vendor.pk, False)
        assert event.data == {
            "id": vendor.pk,
            "status": status,
            "name": "Brixton Motors",
            "reason": reason,
            "url": f"{page}?vendor={vendor.pk}",
            "vendor_url": f"{page}?vendor={vendor.pk}",
        }
        mails = delivered()
        assert set(mails) == managers  # not the `staff` member, not another vendor
        assert {m.subject for m in mails.values()} == {expected_subjects[name]}
        assert f"{BASE}{page}?vendor={vendor.pk}" in links(mails[owner.email])
        if reason:
            assert f"The reason: {reason}" in mails[owner.email].body


def test_a_rejection_says_why(
    operator: Any, applicant_vendor: tuple[Vendor, Any, Any, Any]
) -> None:
    vendor, owner, manager, _ = applicant_vendor

    assert decide(operator, vendor, "reject", "No insurance certificate").status_code == 200

    event = the_event("vendor.rejected")
    assert (event.data["status"], event.data["reason"]) == ("rejected", "No insurance certificate")
    mails = delivered()
    assert set(mails) == {owner.email, manager.email}
    assert "The reason: No insurance certificate" in mails[owner.email].body


def test_a_refused_decision_announces_nothing(
    operator: Any, applicant_vendor: tuple[Vendor, Any, Any, Any]
) -> None:
    vendor, owner, _, _ = applicant_vendor

    assert decide(operator, vendor, "reinstate").status_code == 409  # pending, not suspended
    assert decide(operator, vendor, "suspend").status_code == 422  # no reason
    assert as_(owner).post(f"/operator/vendors/{vendor.pk}/approve").status_code == 403

    assert names() == []


# --- staff invitations -------------------------------------------------------------------------


def test_an_invitation_is_mailed_to_the_address_with_an_absolute_link(db: Any) -> None:
    owner = UserFactory(name="Olive Owner")
    vendor = VendorFactory(owner=owner, name="Brixton Motors")

    with clock.frozen(NOW):
        response = as_(owner).post(
            f"/vendors/{vendor.pk}/staff/invitations",
            {"email": " Sam@Example.TEST ", "role": "manager"},
        )

    assert response.status_code == 201, response.content
    invitation = VendorInvitation.objects.get()
    event = the_event("staff.invited")
    assert routing(event) == ("staff.invited", None, vendor.pk, False)
    token = event.data["token"]
    assert invitation.token_hash != token
    assert event.data == {
        "id": invitation.pk,
        "to_email": "sam@example.test",
        "vendor_name": "Brixton Motors",
        "inviter_name": "Olive Owner",
        "role": "manager",
        "token": token,
        "url": f"{BASE}/vendor/onboarding/?token={token}",
        "expires_at": "2026-03-09T12:00:00+00:00",
        "timezone": "Europe/London",
    }
    # the address gets it (it need not be an account), and nobody else
    mails = delivered()
    assert subjects(mails) == {
        "sam@example.test": "Olive Owner invited you to join Brixton Motors on Agora Market"
    }
    message = mails["sam@example.test"]
    assert re.search(r"accept with this code: (\S+)", message.body).group(1) == token  # type: ignore[union-attr]
    assert f"Open the invitation: {BASE}/vendor/onboarding/?token={token}" in message.body
    assert f"{BASE}/vendor/onboarding/?token={token}" in links(message)
    assert "as a manager" in message.body
    assert "valid until Mon 9 Mar 2026, 12:00" in message.body
    # the secret does not stay in the outbox once mailed
    event.refresh_from_db()
    assert "token" not in event.data
    # the mailed code works
    sam = UserFactory(email="sam@example.test")
    with clock.frozen(NOW):
        accepted = as_(sam).post("/invitations/accept", {"token": token})
    assert accepted.status_code == 200, accepted.content


def test_a_refused_invitation_mails_nothing(db: Any) -> None:
    owner, staff = UserFactory(), UserFactory()
    vendor = VendorFactory(owner=owner)
    VendorMembershipFactory(vendor=vendor, user=staff, role="staff")

    refused = [
        as_(staff).post(  # a staff member may not invite
            f"/vendors/{vendor.pk}/staff/invitations", {"email": "a@example.test", "role": "staff"}
        ),
        as_(owner).post(  # already on the staff
            f"/vendors/{vendor.pk}/staff/invitations", {"email": staff.email, "role": "staff"}
        ),
    ]

    assert [r.status_code for r in refused] == [403, 409]
    assert names() == []
    assert delivered() == {}
