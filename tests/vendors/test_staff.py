"""A vendor's staff: e-mailed invitations, roles (owner > manager > staff), the last owner.

API.md "Vendors"; ARCHITECTURE.md invariant 5 (wrong tenant 404, wrong role 403).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from agora.accounts.models import User
from agora.core import clock
from agora.core.audit import audit_trail
from agora.vendors.models import Vendor, VendorInvitation, VendorMembership
from agora.vendors.services import INVITATION_TTL
from tests.conftest import ApiClient, assert_problem
from tests.factories import UserFactory, VendorFactory, VendorMembershipFactory
from tests.vendors.helpers import client_for, error_locs, snapshot

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
TOKEN_IN_MAIL = re.compile(r"accept with this code: (\S+)")


@dataclass
class Team:
    vendor: Vendor
    owner: User
    manager: User
    staff: User

    def client(self, role: str) -> ApiClient:
        return client_for(getattr(self, role))


@pytest.fixture
def team(db: Any) -> Team:
    owner, manager, staff = (
        UserFactory(name="Olive Owner"),
        UserFactory(name="Max Manager"),
        UserFactory(name="Stan Staff"),
    )
    vendor = VendorFactory(owner=owner, name="Brixton Motors")
    VendorMembershipFactory(vendor=vendor, user=manager, role="manager")
    VendorMembershipFactory(vendor=vendor, user=staff, role="staff")
    return Team(vendor=vendor, owner=owner, manager=manager, staff=staff)


def roles_of(vendor: Vendor) -> dict[int, str]:
    return dict(VendorMembership.objects.filter(vendor=vendor).values_list("user_id", "role"))


def invite(
    client: ApiClient, vendor: Vendor, email: str, role: str, capture: Any
) -> tuple[Any, str | None]:
    """Invite and send what the outbox holds; return the response and the mailed token."""
    from django.core import mail

    from agora.notifications import delivery

    sent_before = len(mail.outbox)
    with capture(execute=True):
        response = client.post(
            f"/vendors/{vendor.pk}/staff/invitations", {"email": email, "role": role}
        )
    delivery.run_once()  # the invitation is mailed through the outbox (staff.invited)
    new_mail = mail.outbox[sent_before:]
    if not new_mail:
        return response, None
    [message] = new_mail
    match = TOKEN_IN_MAIL.search(message.body)
    assert match is not None, message.body
    return response, match.group(1)


# --- invitations ------------------------------------------------------------------------------


def test_an_invitee_gets_an_email_with_a_token_and_joins_with_it(
    team: Team, mailbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    with clock.frozen(NOW):
        # Given an owner invites a new person by e-mail
        response, token = invite(
            team.client("owner"),
            team.vendor,
            " Sam@Example.TEST ",
            "manager",
            django_capture_on_commit_callbacks,
        )

        # Then the invitation is stored (its token only hashed) and an e-mail carries the token
        assert response.status_code == 201, response.content
        invitation = VendorInvitation.objects.get()
        assert response.json() == {
            "id": invitation.pk,
            "vendor_id": team.vendor.pk,
            "email": "sam@example.test",
            "role": "manager",
            "expires_at": "2026-03-09T12:00:00Z",
        }
        assert (invitation.created_at, invitation.expires_at) == (NOW, NOW + INVITATION_TTL)
        [message] = mailbox
        assert message.to == ["sam@example.test"]
        assert "Brixton Motors" in message.subject
        assert token is not None
        assert token not in invitation.token_hash
        assert invitation.invited_by_id == team.owner.pk

        # When Sam signs up with that address and accepts
        sam = UserFactory(email="sam@example.test")
        sam_client = client_for(sam)
        accepted = sam_client.post("/invitations/accept", {"token": token})

        # Then Sam is a manager of the vendor
        assert accepted.status_code == 200, accepted.content
        assert accepted.json() == {"vendor_id": team.vendor.pk, "role": "manager"}
        assert roles_of(team.vendor)[sam.pk] == "manager"
        assert sam_client.get("/me").json()["vendor_ids"] == [team.vendor.pk]
        invitation.refresh_from_db()
        assert invitation.accepted_at == NOW
        assert [e.action for e in audit_trail(team.vendor)][-2:] == [
            "vendor.staff_invited",
            "vendor.staff_joined",
        ]
        # and can now see the vendor's staff list
        assert sam_client.get(f"/vendors/{team.vendor.pk}/staff").status_code == 200


def test_a_manager_may_invite_staff(
    team: Team, mailbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    response, token = invite(
        team.client("manager"),
        team.vendor,
        "new@example.test",
        "staff",
        django_capture_on_commit_callbacks,
    )

    assert response.status_code == 201, response.content
    assert token is not None
    assert len(mailbox) == 1


@pytest.mark.parametrize(
    ("inviter", "role", "status", "code"),
    [
        ("staff", "staff", 403, "forbidden"),
        ("staff", "manager", 403, "forbidden"),
        ("manager", "owner", 403, "forbidden"),
    ],
)
def test_an_invitation_beyond_ones_role_is_403_and_sends_nothing(
    team: Team,
    mailbox: list[Any],
    django_capture_on_commit_callbacks: Any,
    inviter: str,
    role: str,
    status: int,
    code: str,
) -> None:
    before = snapshot()

    response, token = invite(
        team.client(inviter),
        team.vendor,
        "new@example.test",
        role,
        django_capture_on_commit_callbacks,
    )

    assert_problem(response, status, code)
    assert token is None
    assert mailbox == []
    assert snapshot() == before


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"email": "new@example.test", "role": "boss"}, ["body", "role"]),
        ({"email": "not an address", "role": "staff"}, ["body", "email"]),
        ({"email": "new@example.test"}, ["body", "payload", "role"]),
        (
            {"email": "new@example.test", "role": "staff", "vendor": 1},
            ["body", "payload", "vendor"],
        ),
    ],
    ids=lambda value: str(value),
)
def test_a_bad_invitation_is_422_and_sends_nothing(
    team: Team,
    mailbox: list[Any],
    django_capture_on_commit_callbacks: Any,
    body: dict[str, Any],
    loc: list[str],
) -> None:
    before = snapshot()

    with django_capture_on_commit_callbacks(execute=True):
        response = team.client("owner").post(f"/vendors/{team.vendor.pk}/staff/invitations", body)

    assert error_locs(assert_problem(response, 422, "validation_error")) == [loc]
    assert mailbox == []
    assert snapshot() == before


def test_inviting_someone_already_on_the_staff_is_409(
    team: Team, mailbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    before = snapshot()

    response, _ = invite(
        team.client("owner"),
        team.vendor,
        team.staff.email.upper(),
        "manager",
        django_capture_on_commit_callbacks,
    )

    assert_problem(response, 409, "already_member")
    assert mailbox == []
    assert snapshot() == before


@pytest.fixture
def issued(
    team: Team, mailbox: list[Any], django_capture_on_commit_callbacks: Any
) -> tuple[str, User]:
    """A pending invitation for sam@example.test (who has an account) and its token."""
    _, token = invite(
        team.client("owner"),
        team.vendor,
        "sam@example.test",
        "staff",
        django_capture_on_commit_callbacks,
    )
    assert token is not None
    return token, UserFactory(email="sam@example.test")


def test_accepting_with_another_accounts_email_is_404(team: Team, issued: tuple[str, User]) -> None:
    token, _ = issued
    intruder = UserFactory(email="mallory@example.test")
    before = snapshot()

    response = client_for(intruder).post("/invitations/accept", {"token": token})

    assert_problem(response, 404, "invitation_invalid")
    assert snapshot() == before


def test_a_token_works_once(team: Team, issued: tuple[str, User]) -> None:
    token, sam = issued
    sam_client = client_for(sam)
    assert sam_client.post("/invitations/accept", {"token": token}).status_code == 200
    # even after leaving, the used token does not let Sam back in
    VendorMembership.objects.filter(user=sam).delete()
    before = snapshot()

    response = sam_client.post("/invitations/accept", {"token": token})

    assert_problem(response, 404, "invitation_invalid")
    assert snapshot() == before


def test_an_expired_token_is_404(team: Team, issued: tuple[str, User]) -> None:
    token, sam = issued
    clock.advance(INVITATION_TTL + timedelta(seconds=1))
    before = snapshot()

    response = client_for(sam).post("/invitations/accept", {"token": token})

    assert_problem(response, 404, "invitation_invalid")
    assert snapshot() == before


def test_an_unknown_token_is_404_and_anonymous_is_401(
    team: Team, issued: tuple[str, User], anon: ApiClient
) -> None:
    token, sam = issued

    assert_problem(
        client_for(sam).post("/invitations/accept", {"token": token + "x"}),
        404,
        "invitation_invalid",
    )
    assert_problem(anon.post("/invitations/accept", {"token": token}), 401, "not_authenticated")
    assert VendorMembership.objects.filter(user=sam).count() == 0


# --- listing, changing and removing staff ------------------------------------------------------


def test_any_staff_member_lists_the_staff(team: Team) -> None:
    response = team.client("staff").get(f"/vendors/{team.vendor.pk}/staff")

    assert [(m["user_id"], m["email"], m["name"], m["role"]) for m in response.json()] == [
        (team.owner.pk, team.owner.email, "Olive Owner", "owner"),
        (team.manager.pk, team.manager.email, "Max Manager", "manager"),
        (team.staff.pk, team.staff.email, "Stan Staff", "staff"),
    ]


def test_the_owner_changes_a_role(team: Team) -> None:
    response = team.client("owner").patch(
        f"/vendors/{team.vendor.pk}/staff/{team.staff.pk}", {"role": "manager"}
    )

    assert response.status_code == 200, response.content
    assert (response.json()["user_id"], response.json()["role"]) == (team.staff.pk, "manager")
    assert roles_of(team.vendor)[team.staff.pk] == "manager"
    entry = audit_trail(team.vendor).last()
    assert entry is not None
    assert (entry.action, entry.actor_id, entry.data) == (
        "vendor.staff_role_changed",
        team.owner.pk,
        {"user_id": team.staff.pk, "from": "staff", "to": "manager"},
    )


def test_an_owner_may_make_another_owner_who_may_then_demote_the_first(team: Team) -> None:
    owner = team.client("owner")
    vendor_id = team.vendor.pk
    assert (
        owner.patch(f"/vendors/{vendor_id}/staff/{team.manager.pk}", {"role": "owner"}).json()[
            "role"
        ]
        == "owner"
    )

    response = team.client("manager").patch(
        f"/vendors/{vendor_id}/staff/{team.owner.pk}", {"role": "staff"}
    )

    assert response.json()["role"] == "staff"
    assert roles_of(team.vendor) == {
        team.owner.pk: "staff",
        team.manager.pk: "owner",
        team.staff.pk: "staff",
    }


@pytest.mark.parametrize(
    ("actor", "method", "target", "body"),
    [
        ("manager", "patch", "staff", {"role": "owner"}),  # grant owner
        ("manager", "patch", "owner", {"role": "staff"}),  # demote an owner
        ("manager", "delete", "owner", None),  # remove an owner
        ("staff", "patch", "staff", {"role": "manager"}),  # promote oneself
        ("staff", "patch", "manager", {"role": "staff"}),
        ("staff", "delete", "manager", None),
    ],
)
def test_a_role_change_beyond_ones_role_is_403_and_changes_nothing(
    team: Team, actor: str, method: str, target: str, body: dict[str, str] | None
) -> None:
    path = f"/vendors/{team.vendor.pk}/staff/{getattr(team, target).pk}"
    client = team.client(actor)
    before = snapshot()

    response = client.patch(path, body) if method == "patch" else client.delete(path)

    assert_problem(response, 403, "forbidden")
    assert snapshot() == before


def test_the_last_owner_can_be_neither_demoted_nor_removed(team: Team) -> None:
    owner = team.client("owner")
    path = f"/vendors/{team.vendor.pk}/staff/{team.owner.pk}"
    before = snapshot()

    assert_problem(owner.patch(path, {"role": "manager"}), 409, "last_owner")
    assert_problem(owner.delete(path), 409, "last_owner")

    assert snapshot() == before


def test_an_unknown_role_or_member_is_refused(team: Team) -> None:
    owner = team.client("owner")
    outsider = UserFactory()
    before = snapshot()

    bad_role = owner.patch(f"/vendors/{team.vendor.pk}/staff/{team.staff.pk}", {"role": "boss"})
    not_member = owner.patch(f"/vendors/{team.vendor.pk}/staff/{outsider.pk}", {"role": "staff"})
    remove_not_member = owner.delete(f"/vendors/{team.vendor.pk}/staff/{outsider.pk}")

    assert error_locs(assert_problem(bad_role, 422, "validation_error")) == [["body", "role"]]
    assert_problem(not_member, 404, "not_found")
    assert_problem(remove_not_member, 404, "not_found")
    assert snapshot() == before


def test_a_removed_member_loses_access_at_once(team: Team) -> None:
    removed = team.client("staff")
    vendor_id = team.vendor.pk
    assert removed.get(f"/vendors/{vendor_id}/staff").status_code == 200

    response = team.client("manager").delete(f"/vendors/{vendor_id}/staff/{team.staff.pk}")

    assert response.status_code == 204
    assert team.staff.pk not in roles_of(team.vendor)
    assert_problem(removed.get(f"/vendors/{vendor_id}/staff"), 404, "not_found")
    assert_problem(removed.get(f"/vendors/{vendor_id}/documents"), 404, "not_found")
    assert removed.get("/me").json()["vendor_ids"] == []
    entry = audit_trail(team.vendor).last()
    assert entry is not None
    assert (entry.action, entry.data) == ("vendor.staff_removed", {"user_id": team.staff.pk})
