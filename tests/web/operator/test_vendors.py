"""The vendor approval queue, vendor detail, documents, and decisions one by one and in
bulk — each through the onboarding state machine, with its audit row."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client

from agora.core.audit import audit_trail
from agora.core.models import AuditLog
from agora.vendors.models import Vendor
from tests.factories import VendorFactory
from tests.web.operator.conftest import messages_of, pending_vendor

pytestmark = pytest.mark.django_db


def _status(vendor: Vendor) -> str:
    return Vendor.objects.get(pk=vendor.pk).status


def _actions(vendor: Vendor) -> list[tuple[str, str, Any]]:
    return [
        (entry.action, entry.data.get("reason", ""), entry.actor_id)
        for entry in audit_trail(vendor)
        if entry.action.startswith("vendor.") and entry.action != "vendor.document_uploaded"
    ]


# --- the queue ----------------------------------------------------------------------------


def test_queue_lists_pending_vendors_oldest_first_with_owner_and_documents(op: Client) -> None:
    first = pending_vendor("Alpha Garage", documents=2)
    second = pending_vendor("Beta Sparks")
    VendorFactory(name="Gamma Active")

    html = op.get("/operator/vendors/").content.decode()

    assert html.index("Alpha Garage") < html.index("Beta Sparks")
    assert "Gamma Active" not in html
    assert "Alpha Garage owner" in html
    for document in [*first.documents.all(), *second.documents.all()]:
        assert f"/operator/vendors/{document.vendor_id}/documents/{document.pk}/" in html
    assert f'name="vendor_ids" value="{first.pk}"' in html
    assert '<option value="approve">Approve</option>' in html


def test_queue_filters_by_status(op: Client) -> None:
    pending_vendor("Still Pending")
    VendorFactory(name="Suspended Sam", status="suspended", status_reason="unpaid fees")

    html = op.get("/operator/vendors/?status=suspended").content.decode()

    assert "Suspended Sam" in html
    assert "Reason: unpaid fees" in html
    assert "Still Pending" not in html
    assert '<option value="reinstate">Reinstate</option>' in html
    assert op.get("/operator/vendors/?status=bogus").status_code == 422


def test_queue_pages_with_a_cursor(op: Client) -> None:
    for n in range(23):
        VendorFactory(name=f"Applicant {n:02d}", status="pending")

    first = op.get("/operator/vendors/")
    html = first.content.decode()
    assert "Applicant 00" in html
    assert "Applicant 19" in html
    assert "Applicant 20" not in html
    next_url = first.context["next_url"]
    assert next_url.startswith("/operator/vendors/?status=pending&cursor=")

    second = op.get(next_url).content.decode()
    assert "Applicant 20" in second
    assert "Applicant 22" in second
    assert "Applicant 19" not in second
    assert "← First page" in second
    assert op.get("/operator/vendors/?cursor=forged").status_code == 422


def test_queue_costs_the_same_few_queries_for_many_vendors(
    op: Client, django_assert_max_num_queries: Any
) -> None:
    for n in range(15):
        pending_vendor(f"Busy {n}", documents=2)

    # + 1: the header's notification bell (one COUNT of unread notifications)
    with django_assert_max_num_queries(6 + 1):
        response = op.get("/operator/vendors/")
    assert response.content.decode().count("/documents/") == 30


# --- detail and documents -----------------------------------------------------------------


def test_detail_shows_profile_documents_staff_and_history(op: Client) -> None:
    vendor = pending_vendor("Delta Plumbing")

    html = op.get(f"/operator/vendors/{vendor.pk}/").content.decode()

    assert "<h1>Delta Plumbing" in html
    assert '<dd data-figure="rating">No reviews yet</dd>' in html
    assert "Pending review" in html
    assert "delta-plumbing-0.pdf" in html
    assert "Delta Plumbing owner" in html
    assert "vendor.document_uploaded" in html
    assert f'action="/operator/vendors/{vendor.pk}/approve/"' in html
    assert f'action="/operator/vendors/{vendor.pk}/reject/"' in html
    assert f'action="/operator/vendors/{vendor.pk}/suspend/"' not in html


def test_detail_of_a_missing_vendor_is_404(op: Client) -> None:
    assert op.get("/operator/vendors/999999/").status_code == 404


def test_detail_costs_a_bounded_number_of_queries(
    op: Client, django_assert_max_num_queries: Any
) -> None:
    vendor = pending_vendor("Epsilon", documents=3)
    # + 1: the header's notification bell (one COUNT of unread notifications)
    with django_assert_max_num_queries(9 + 1):
        assert op.get(f"/operator/vendors/{vendor.pk}/").status_code == 200


def test_documents_download_through_the_scoped_path(op: Client) -> None:
    vendor = pending_vendor("Zeta Electrics")
    other = pending_vendor("Eta Heating")
    document = vendor.documents.get()

    response = op.get(f"/operator/vendors/{vendor.pk}/documents/{document.pk}/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert 'filename="zeta-electrics-0.pdf"' in response["Content-Disposition"]
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    # Another vendor's document through this vendor's path: not found.
    other_document = other.documents.get()
    assert (
        op.get(f"/operator/vendors/{vendor.pk}/documents/{other_document.pk}/").status_code == 404
    )


# --- single decisions ---------------------------------------------------------------------


def test_approve_makes_the_vendor_active_and_audits_it(op: Client, operator: Any) -> None:
    vendor = pending_vendor("Theta Tyres")

    response = op.post(f"/operator/vendors/{vendor.pk}/approve/", {"reason": "Insurance ok"})

    assert response.status_code == 302
    assert response["Location"] == f"/operator/vendors/{vendor.pk}/"
    vendor.refresh_from_db()
    assert vendor.status == "active"
    assert vendor.approved_at is not None
    assert _actions(vendor) == [("vendor.active", "Insurance ok", operator.pk)]
    page = op.get(response["Location"])
    assert "Theta Tyres was approved." in messages_of(page)


def test_reject_needs_a_reason_and_changes_nothing_without_one(op: Client) -> None:
    vendor = pending_vendor("Iota Cleaning")
    before = AuditLog.objects.count()

    response = op.post(f"/operator/vendors/{vendor.pk}/reject/", {"reason": "  "}, follow=True)

    assert _status(vendor) == "pending"
    assert AuditLog.objects.count() == before
    assert any("reason" in message for message in messages_of(response))

    op.post(f"/operator/vendors/{vendor.pk}/reject/", {"reason": "No insurance"})
    vendor.refresh_from_db()
    assert (vendor.status, vendor.status_reason) == ("rejected", "No insurance")


def test_suspend_and_reinstate_are_audited(op: Client, operator: Any) -> None:
    vendor = VendorFactory(name="Kappa Motors")

    op.post(f"/operator/vendors/{vendor.pk}/suspend/", {"reason": "Complaints"})
    assert _status(vendor) == "suspended"
    op.post(f"/operator/vendors/{vendor.pk}/reinstate/", {"reason": ""})
    assert _status(vendor) == "active"

    assert _actions(vendor) == [
        ("vendor.suspended", "Complaints", operator.pk),
        ("vendor.active", "", operator.pk),
    ]


def test_an_illegal_move_is_refused_with_a_message(op: Client) -> None:
    vendor = VendorFactory(name="Lambda Locks")  # active

    response = op.post(f"/operator/vendors/{vendor.pk}/approve/", {}, follow=True)

    assert _status(vendor) == "active"
    assert messages_of(response) == ["Only a pending vendor can be approved; this one is active."]


def test_an_unknown_action_or_vendor_is_refused(op: Client) -> None:
    vendor = pending_vendor("Mu Motors")
    assert op.post(f"/operator/vendors/{vendor.pk}/promote/").status_code == 422
    assert op.post("/operator/vendors/999999/approve/").status_code == 404
    assert op.get(f"/operator/vendors/{vendor.pk}/approve/").status_code == 405
    assert _status(vendor) == "pending"


# --- bulk ---------------------------------------------------------------------------------


def test_bulk_approve_reports_each_vendor_and_keeps_the_successes(
    op: Client, operator: Any
) -> None:
    nu = pending_vendor("Nu Garage")
    xi = pending_vendor("Xi Electrics")
    active = VendorFactory(name="Omicron Active")
    rejected = VendorFactory(name="Pi Rejected", status="rejected")

    response = op.post(
        "/operator/vendors/bulk/",
        {
            "action": "approve",
            "vendor_ids": [nu.pk, active.pk, xi.pk, rejected.pk, 999999],
            "reason": "Batch check",
        },
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "Approve: 2 done, 3 not done" in html
    done = [o.name for o in response.context["done"]]
    failed = {o.name: o.detail for o in response.context["failed"]}
    assert done == ["Nu Garage", "Xi Electrics"]
    assert failed == {
        "Omicron Active": "Only a pending vendor can be approved; this one is active.",
        "Pi Rejected": "Only a pending vendor can be approved; this one is rejected.",
        "Vendor #999999": "No such vendor.",
    }
    assert [_status(v) for v in (nu, xi, active, rejected)] == [
        "active",
        "active",
        "active",
        "rejected",
    ]
    for vendor in (nu, xi):
        assert _actions(vendor)[-1] == ("vendor.active", "Batch check", operator.pk)
    assert _actions(active) == []


def test_bulk_suspend_needs_a_reason_and_changes_nothing_without_one(op: Client) -> None:
    vendors = [VendorFactory(name=f"Rho {n}") for n in range(3)]
    before = AuditLog.objects.count()

    response = op.post(
        "/operator/vendors/bulk/",
        {"action": "suspend", "vendor_ids": [v.pk for v in vendors], "status": "active"},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == "/operator/vendors/?status=active"
    assert "Say why: the vendors are told the reason." in messages_of(response)
    assert AuditLog.objects.count() == before
    assert {_status(v) for v in vendors} == {"active"}


def test_bulk_suspend_with_a_reason_suspends_each(op: Client, operator: Any) -> None:
    vendors = [VendorFactory(name=f"Sigma {n}") for n in range(3)]

    response = op.post(
        "/operator/vendors/bulk/",
        {"action": "suspend", "vendor_ids": [v.pk for v in vendors], "reason": "Audit"},
    )

    assert "Suspend: 3 done, 0 not done" in response.content.decode()
    for vendor in vendors:
        assert _status(vendor) == "suspended"
        assert _actions(vendor) == [("vendor.suspended", "Audit", operator.pk)]


def test_bulk_without_a_selection_or_with_bad_input_is_refused(op: Client) -> None:
    vendor = pending_vendor("Tau Tiles")

    no_selection = op.post("/operator/vendors/bulk/", {"action": "approve"}, follow=True)
    assert "Select at least one vendor." in messages_of(no_selection)

    bad_action = op.post(
        "/operator/vendors/bulk/", {"action": "delete", "vendor_ids": [vendor.pk]}, follow=True
    )
    assert any("delete" in m for m in messages_of(bad_action))

    bad_id = op.post(
        "/operator/vendors/bulk/", {"action": "approve", "vendor_ids": ["abc"]}, follow=True
    )
    assert any("abc" in m for m in messages_of(bad_id))
    assert _status(vendor) == "pending"


def test_bulk_queries_grow_linearly_not_worse(
    op: Client, django_assert_max_num_queries: Any
) -> None:
    vendors = [pending_vendor(f"Upsilon {n}", documents=0) for n in range(5)]
    # Per vendor: look up, savepoints, conditional UPDATE, audit row: a constant number,
    # + its vendor.approved event: one INSERT (and on SQLite the UPDATE of its stream
    # position), + finding its listings' search documents to refresh (it has none here).
    # + 1: the header's notification bell (one COUNT of unread notifications)
    event = 2 if connection.vendor == "sqlite" else 1
    with django_assert_max_num_queries(5 + 5 * (8 + event) + 1):
        op.post(
            "/operator/vendors/bulk/",
            {"action": "approve", "vendor_ids": [v.pk for v in vendors]},
        )
    assert {_status(v) for v in vendors} == {"active"}
