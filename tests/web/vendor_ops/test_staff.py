"""/vendor/staff/: the list for everyone on the staff; invitations, role changes and
removal for owners and managers only, with the service's own rules about owners."""

from __future__ import annotations

from typing import Any

import pytest

from agora.core.models import AuditLog
from agora.notifications import delivery
from agora.vendors.models import VendorInvitation, VendorMembership
from tests.web.vendor_ops.conftest import Shop
from tests.web.vendor_ops.helpers import html, last_audit, text

pytestmark = pytest.mark.django_db


def _role(shop: Shop, user: Any) -> str | None:
    membership = VendorMembership.objects.filter(vendor=shop.vendor, user=user).first()
    return membership.role if membership else None


def test_signed_out_and_customers_are_kept_out(shop: Shop, client: Any, client_as: Any) -> None:
    assert client.get("/vendor/staff/")["Location"] == "/login/?next=/vendor/staff/"
    customer = client_as(shop.customer)
    assert customer.get("/vendor/staff/").status_code == 403
    assert customer.post("/vendor/staff/invite/", {"email": "a@b.test"}).status_code == 403
    assert not VendorInvitation.objects.exists()


def test_everyone_on_the_staff_sees_the_list_but_only_managers_get_the_controls(
    shop: Shop, client_as: Any
) -> None:
    staff_page = client_as(shop.staff).get("/vendor/staff/")
    assert staff_page.status_code == 200
    page = text(staff_page)
    assert "Olive Owner" in page
    assert "Max Manager" in page
    assert "Sam Staff you" in page
    assert "Only an owner or a manager can invite people or change roles." in page
    assert 'action="/vendor/staff/invite/"' not in html(staff_page)

    manager_page = client_as(shop.manager).get("/vendor/staff/")
    assert 'action="/vendor/staff/invite/"' in html(manager_page)
    assert f'action="/vendor/staff/{shop.staff.pk}/role/"' in html(manager_page)
    assert '<label class="visually-hidden" for="role-' in html(manager_page)


def test_the_staff_role_gets_403_for_every_change_and_nothing_moves(
    shop: Shop, client_as: Any
) -> None:
    client = client_as(shop.staff)
    audit_rows = AuditLog.objects.count()

    invite = client.post("/vendor/staff/invite/", {"email": "new@example.test", "role": "staff"})
    role = client.post(f"/vendor/staff/{shop.manager.pk}/role/", {"role": "staff"})
    remove = client.post(f"/vendor/staff/{shop.manager.pk}/remove/")

    for response in (invite, role, remove):
        assert response.status_code == 403
        assert "This needs the role manager or owner at this vendor." in text(response)
    assert not VendorInvitation.objects.exists()
    assert _role(shop, shop.manager) == "manager"
    assert AuditLog.objects.count() == audit_rows


def test_a_manager_invites_by_email(
    shop: Shop, client_as: Any, mailbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_as(shop.manager)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/vendor/staff/invite/", {"email": "New.Person@Example.test", "role": "staff"}
        )

    assert response.status_code == 302
    invitation = VendorInvitation.objects.get()
    assert (invitation.email, invitation.role, invitation.vendor_id) == (
        "new.person@example.test",
        "staff",
        shop.vendor.pk,
    )
    assert last_audit(shop.vendor).action == "vendor.staff_invited"
    delivery.run_once()  # the invitation is mailed through the outbox (staff.invited)
    assert len(mailbox) == 1
    assert mailbox[0].to == ["new.person@example.test"]
    page = text(client.get("/vendor/staff/"))
    assert "Invitation sent to New.Person@Example.test as staff." in page
    assert "new.person@example.test as staff" in page


def test_bad_invitations_are_refused_on_the_form(shop: Shop, client_as: Any) -> None:
    client = client_as(shop.manager)

    bad_email = client.post("/vendor/staff/invite/", {"email": "not-an-email", "role": "staff"})
    assert bad_email.status_code == 422
    assert "Enter a valid email address." in text(bad_email)

    owner = client.post("/vendor/staff/invite/", {"email": "boss@example.test", "role": "owner"})
    assert owner.status_code == 403
    assert "Only an owner may grant or change the owner role." in text(owner)

    member = client.post("/vendor/staff/invite/", {"email": shop.staff.email, "role": "staff"})
    assert member.status_code == 409
    assert "That person is already on this vendor's staff." in text(member)
    assert not VendorInvitation.objects.exists()


def test_the_owner_changes_a_role_and_removes_someone(shop: Shop, client_as: Any) -> None:
    client = client_as(shop.owner)

    response = client.post(f"/vendor/staff/{shop.staff.pk}/role/", {"role": "manager"})
    assert response.status_code == 302
    assert _role(shop, shop.staff) == "manager"
    entry = last_audit(shop.vendor)
    assert entry.action == "vendor.staff_role_changed"
    assert entry.data == {"user_id": shop.staff.pk, "from": "staff", "to": "manager"}

    client.post(f"/vendor/staff/{shop.manager.pk}/remove/")
    assert _role(shop, shop.manager) is None
    assert last_audit(shop.vendor).action == "vendor.staff_removed"
    assert "Removed from the staff." in text(client.get("/vendor/staff/"))


def test_the_last_owner_stays_and_someone_elses_member_is_not_found(
    shop: Shop, client_as: Any
) -> None:
    client = client_as(shop.owner)

    demote = client.post(f"/vendor/staff/{shop.owner.pk}/role/", {"role": "staff"})
    assert demote.status_code == 409
    assert "A vendor needs at least one owner." in text(demote)
    assert _role(shop, shop.owner) == "owner"

    foreign = client.post(f"/vendor/staff/{shop.other_owner.pk}/remove/")
    assert foreign.status_code == 404
    assert VendorMembership.objects.filter(user=shop.other_owner).exists()

    bad_role = client.post(f"/vendor/staff/{shop.staff.pk}/role/", {"role": "king"})
    assert bad_role.status_code == 422
    assert _role(shop, shop.staff) == "staff"


def test_a_manager_cannot_touch_the_owner(shop: Shop, client_as: Any) -> None:
    response = client_as(shop.manager).post(f"/vendor/staff/{shop.owner.pk}/remove/")
    assert response.status_code == 403
    assert _role(shop, shop.owner) == "owner"


def test_the_staff_list_keeps_its_query_count_flat(
    shop: Shop, client_as: Any, django_assert_max_num_queries: Any
) -> None:
    from tests.factories import VendorMembershipFactory

    VendorMembershipFactory.create_batch(8, vendor=shop.vendor, role="staff")
    client = client_as(shop.owner)
    client.get("/vendor/staff/")

    # + 1: the header's notification bell (one COUNT of unread notifications)
    with django_assert_max_num_queries(10 + 1):
        response = client.get("/vendor/staff/")
    assert html(response).count('action="/vendor/staff/') >= 2 * 11
