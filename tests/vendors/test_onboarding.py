"""Vendor onboarding: apply, review by an operator, and the audited status lifecycle.

API.md "Vendors"; ARCHITECTURE.md invariants 6 (audited lifecycles) and 7 (bad input).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from agora.core import clock
from agora.core.audit import audit_trail
from agora.vendors.models import Vendor, VendorMembership
from tests.conftest import ApiClient, assert_problem
from tests.factories import UserFactory, VendorFactory
from tests.vendors.helpers import client_for, error_locs, snapshot

pytestmark = pytest.mark.django_db

APPLICATION: dict[str, Any] = {
    "name": "Brixton Motors",
    "description": "Family garage since 1987.",
    "timezone": "Europe/London",
    "address": "12 Acre Lane",
    "city": "london",
    "lat": "51.461300",
    "lng": "-0.115700",
    "currency": "GBP",
}
NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


# --- applying ---------------------------------------------------------------------------


def test_applying_creates_a_pending_vendor_owned_by_the_caller(
    as_user: ApiClient, user: Any
) -> None:
    # Given a signed-in user
    # When they apply to sell
    with clock.frozen(NOON):
        response = as_user.post("/vendors", APPLICATION)

    # Then the vendor exists, pending, with the profile they gave
    assert response.status_code == 201, response.content
    body = response.json()
    vendor = Vendor.objects.get()
    assert body == {
        "id": vendor.pk,
        "name": "Brixton Motors",
        "slug": "brixton-motors",
        "description": "Family garage since 1987.",
        "status": "pending",
        "address": "12 Acre Lane",
        "city": "london",
        "city_name": "London",
        "postcode": "",
        "lat": 51.4613,
        "lng": -0.1157,
        "timezone": "Europe/London",
        "currency": "GBP",
        "contact_email": "",
        "contact_phone": "",
        "website": "",
        "opening_summary": "",
        "service_radius_km": 0,
        "vertical": "",
        "logo_url": None,
        "rating_average": None,
        "rating_count": 0,
        "created_at": "2026-03-02T12:00:00Z",
    }
    assert vendor.status == "pending"
    assert vendor.tier == "standard"
    assert (vendor.rating_count, vendor.rating_sum) == (0, 0)
    # and the caller is its owner, which /me shows
    assert list(VendorMembership.objects.values_list("vendor_id", "user_id", "role")) == [
        (vendor.pk, user.pk, "owner")
    ]
    me = as_user.get("/me").json()
    assert me["vendor_ids"] == [vendor.pk]
    assert me["roles"] == ["customer", "vendor_staff"]
    # and the application is in the audit trail
    [entry] = audit_trail(vendor)
    assert (entry.action, entry.actor_id) == ("vendor.applied", user.pk)


def test_applying_needs_a_signed_in_user(anon: ApiClient) -> None:
    response = anon.post("/vendors", APPLICATION)

    assert_problem(response, 401, "not_authenticated")
    assert Vendor.objects.count() == 0


def test_a_pending_vendor_is_visible_only_to_its_staff_and_operators(
    as_user: ApiClient, anon: ApiClient, as_operator: ApiClient
) -> None:
    # Given a pending application
    vendor_id = as_user.post("/vendors", APPLICATION).json()["id"]
    stranger = client_for(UserFactory())

    # Then the public and other users get 404, the owner and operators see it
    assert_problem(anon.get(f"/vendors/{vendor_id}"), 404, "not_found")
    assert_problem(stranger.get(f"/vendors/{vendor_id}"), 404, "not_found")
    assert as_user.get(f"/vendors/{vendor_id}").json()["status"] == "pending"
    assert as_operator.get(f"/vendors/{vendor_id}").json()["status"] == "pending"
    # and it is not in the public directory
    assert anon.get("/vendors").json() == {"items": [], "next_cursor": None}

    # When an operator approves it, everyone sees it
    as_operator.post(f"/operator/vendors/{vendor_id}/approve")
    assert anon.get(f"/vendors/{vendor_id}").json()["status"] == "active"
    assert [v["id"] for v in anon.get("/vendors").json()["items"]] == [vendor_id]


def test_two_vendors_with_the_same_name_get_different_slugs(as_user: ApiClient) -> None:
    first = as_user.post("/vendors", APPLICATION).json()
    second = client_for(UserFactory()).post("/vendors", APPLICATION).json()
    third = as_user.post("/vendors", {**APPLICATION, "name": "  Brixton Motors "}).json()

    assert [first["slug"], second["slug"], third["slug"]] == [
        "brixton-motors",
        "brixton-motors-2",
        "brixton-motors-3",
    ]
    assert third["name"] == "Brixton Motors"


@pytest.mark.parametrize(
    ("change", "loc", "error_type"),
    [
        ({"timezone": "Europe/Atlantis"}, ["body", "timezone"], "value_error"),
        ({"currency": "XYZ"}, ["body", "currency"], "value_error"),
        ({"currency": "gbp"}, ["body", "payload", "currency"], "string_pattern_mismatch"),
        ({"city": "atlantis"}, ["body", "city"], "value_error"),
        ({"lng": None}, ["body", "lat"], "value_error"),
        ({"lat": "91.000000"}, ["body", "lat"], "value_error"),
        ({"name": "   "}, ["body", "name"], "value_error"),
        ({"name": None}, ["body", "payload", "name"], "string_type"),
        ({"status": "active"}, ["body", "payload", "status"], "extra_forbidden"),
        ({"tier": "premium"}, ["body", "payload", "tier"], "extra_forbidden"),
        ({"rating_sum": 50}, ["body", "payload", "rating_sum"], "extra_forbidden"),
        ({"slug": "mine"}, ["body", "payload", "slug"], "extra_forbidden"),
    ],
    ids=lambda value: str(value),
)
def test_a_bad_application_is_422_with_the_field_path_and_creates_nothing(
    as_user: ApiClient, change: dict[str, Any], loc: list[str], error_type: str
) -> None:
    response = as_user.post("/vendors", {**APPLICATION, **change})

    body = assert_problem(response, 422, "validation_error")
    assert error_locs(body) == [loc]
    assert body["errors"][0]["type"] == error_type
    assert Vendor.objects.count() == 0
    assert VendorMembership.objects.count() == 0


def test_a_missing_required_field_is_422(as_user: ApiClient) -> None:
    application = {k: v for k, v in APPLICATION.items() if k != "timezone"}

    body = assert_problem(as_user.post("/vendors", application), 422, "validation_error")

    assert body["errors"] == [
        {"loc": ["body", "payload", "timezone"], "msg": "Field required", "type": "missing"}
    ]
    assert Vendor.objects.count() == 0


# --- the operator's decisions -------------------------------------------------------------


def test_the_full_lifecycle_is_audited_with_actor_action_and_reason(
    as_user: ApiClient, as_operator: ApiClient, operator_user: Any, user: Any
) -> None:
    with clock.frozen(NOON - timedelta(days=1)):
        # Given a pending application
        vendor_id = as_user.post("/vendors", APPLICATION).json()["id"]

        # When an operator approves, suspends and reinstates it
        clock.advance(timedelta(days=1))
        approved = as_operator.post(f"/operator/vendors/{vendor_id}/approve", {"reason": "docs ok"})
        clock.advance(timedelta(days=1))
        suspended = as_operator.post(
            f"/operator/vendors/{vendor_id}/suspend", {"reason": "insurance lapsed"}
        )
        clock.advance(timedelta(days=1))
        reinstated = as_operator.post(f"/operator/vendors/{vendor_id}/reinstate")

    # Then each answer is the new status
    assert approved.json() == {"id": vendor_id, "status": "active", "status_reason": "docs ok"}
    assert suspended.json() == {
        "id": vendor_id,
        "status": "suspended",
        "status_reason": "insurance lapsed",
    }
    assert reinstated.json() == {"id": vendor_id, "status": "active", "status_reason": ""}
    vendor = Vendor.objects.get(pk=vendor_id)
    assert (vendor.status, vendor.approved_at) == ("active", NOON)
    # and every transition is in the audit trail with its actor and reason
    trail = [
        (entry.at, entry.action, entry.actor_id, entry.data.get("from"), entry.data.get("reason"))
        for entry in audit_trail(vendor)
    ]
    day = timedelta(days=1)
    assert trail == [
        (NOON - day, "vendor.applied", user.pk, None, None),
        (NOON, "vendor.active", operator_user.pk, "pending", "docs ok"),
        (NOON + day, "vendor.suspended", operator_user.pk, "active", "insurance lapsed"),
        (NOON + 2 * day, "vendor.active", operator_user.pk, "suspended", ""),
    ]


def test_rejecting_needs_a_reason_and_is_audited(
    as_user: ApiClient, as_operator: ApiClient, operator_user: Any
) -> None:
    vendor_id = as_user.post("/vendors", APPLICATION).json()["id"]
    before = snapshot()

    # When the operator rejects without a reason (missing, empty or blank)
    missing = as_operator.post(f"/operator/vendors/{vendor_id}/reject", {})
    empty = as_operator.post(f"/operator/vendors/{vendor_id}/reject", {"reason": ""})
    blank = as_operator.post(f"/operator/vendors/{vendor_id}/reject", {"reason": "   "})

    # Then each is 422 naming the reason, and nothing changed
    assert error_locs(assert_problem(missing, 422, "validation_error")) == [
        ["body", "payload", "reason"]
    ]
    assert error_locs(assert_problem(empty, 422, "validation_error")) == [
        ["body", "payload", "reason"]
    ]
    assert error_locs(assert_problem(blank, 422, "validation_error")) == [["body", "reason"]]
    assert snapshot() == before

    # When they give one, the vendor is rejected and the reason is recorded
    response = as_operator.post(
        f"/operator/vendors/{vendor_id}/reject", {"reason": "no trading address"}
    )
    assert response.json() == {
        "id": vendor_id,
        "status": "rejected",
        "status_reason": "no trading address",
    }
    entry = audit_trail(Vendor.objects.get(pk=vendor_id)).last()
    assert entry is not None
    assert (entry.action, entry.actor_id, entry.data) == (
        "vendor.rejected",
        operator_user.pk,
        {"from": "pending", "to": "rejected", "reason": "no trading address"},
    )
    # and a rejected vendor stays private
    assert_problem(ApiClient().get(f"/vendors/{vendor_id}"), 404, "not_found")


def test_suspending_needs_a_reason(as_operator: ApiClient) -> None:
    vendor = VendorFactory(status="active")
    before = snapshot()

    response = as_operator.post(f"/operator/vendors/{vendor.pk}/suspend", {"reason": " "})

    assert error_locs(assert_problem(response, 422, "validation_error")) == [["body", "reason"]]
    assert snapshot() == before


@pytest.mark.parametrize(
    ("status", "action", "body"),
    [
        ("active", "approve", None),
        ("active", "reject", {"reason": "changed my mind"}),
        ("active", "reinstate", None),
        ("pending", "reinstate", None),
        ("pending", "suspend", {"reason": "too early"}),
        ("suspended", "approve", None),
        ("suspended", "suspend", {"reason": "again"}),
        ("suspended", "reject", {"reason": "late"}),
        ("rejected", "approve", None),
        ("rejected", "reject", {"reason": "twice"}),
        ("rejected", "suspend", {"reason": "why"}),
        ("rejected", "reinstate", None),
    ],
)
def test_an_illegal_transition_is_409_and_changes_nothing(
    as_operator: ApiClient, status: str, action: str, body: dict[str, str] | None
) -> None:
    # Given a vendor in `status`
    vendor = VendorFactory(status=status, status_reason="as it was")
    before = snapshot()

    # When an operator tries a move the lifecycle does not allow
    response = as_operator.post(f"/operator/vendors/{vendor.pk}/{action}", body)

    # Then it is refused as an invalid transition and nothing (not even the audit log) moved
    problem = assert_problem(response, 409, "invalid_transition")
    assert problem["from"] == status
    assert snapshot() == before


def test_operator_endpoints_refuse_non_operators(user: Any) -> None:
    vendor = VendorFactory(status="pending", owner=user)
    before = snapshot()
    owner = client_for(user)
    anonymous = ApiClient()
    calls = [
        ("get", "/operator/vendors", None),
        ("post", f"/operator/vendors/{vendor.pk}/approve", None),
        ("post", f"/operator/vendors/{vendor.pk}/reject", {"reason": "x"}),
        ("post", f"/operator/vendors/{vendor.pk}/suspend", {"reason": "x"}),
        ("post", f"/operator/vendors/{vendor.pk}/reinstate", None),
        ("get", f"/operator/vendors/{vendor.pk}/documents", None),
    ]

    for method, path, body in calls:
        # the vendor's own owner may not approve themselves
        args = (path,) if method == "get" else (path, body)
        assert_problem(getattr(owner, method)(*args), 403, "forbidden")
        assert_problem(getattr(anonymous, method)(*args), 401, "not_authenticated")

    assert snapshot() == before


def test_an_operator_gets_404_for_a_vendor_that_does_not_exist(as_operator: ApiClient) -> None:
    assert_problem(as_operator.post("/operator/vendors/999999/approve"), 404, "not_found")


# --- the review queue --------------------------------------------------------------------


def test_the_review_queue_lists_pending_vendors_oldest_first_a_page_at_a_time(
    as_operator: ApiClient,
) -> None:
    # Given pending applications at different times, and vendors in other states
    pending = []
    for minutes in (30, 10, 20, 40, 0):
        with clock.frozen(NOON + timedelta(minutes=minutes)):
            pending.append(VendorFactory(status="pending"))
    VendorFactory(status="active", created_at=NOON - timedelta(days=1))
    VendorFactory(status="rejected", created_at=NOON - timedelta(days=1))
    oldest_first = [pending[i].pk for i in (4, 1, 2, 0, 3)]

    # When an operator walks the queue two at a time
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = as_operator.get("/operator/vendors", **params).json()
        seen += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break

    # Then they see every pending vendor once, oldest application first
    assert seen == oldest_first
    assert pages == 3
    # and other states on request
    rejected = as_operator.get("/operator/vendors", status="rejected").json()["items"]
    assert [item["status"] for item in rejected] == ["rejected"]


def test_a_forged_queue_cursor_is_422(as_operator: ApiClient) -> None:
    response = as_operator.get("/operator/vendors", cursor="not-a-cursor")

    assert error_locs(assert_problem(response, 422, "validation_error")) == [["query", "cursor"]]


# --- editing the profile -------------------------------------------------------------------


def test_the_owner_edits_the_profile(user: Any) -> None:
    vendor = VendorFactory(owner=user, name="Old name")
    owner = client_for(user)

    response = owner.patch(
        f"/vendors/{vendor.pk}",
        {"name": "New name", "city": "Manchester", "lat": "53.48", "lng": "-2.24"},
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["name"], body["city"], body["lat"], body["lng"]) == (
        "New name",
        "manchester",
        53.48,
        -2.24,
    )
    vendor.refresh_from_db()
    assert (vendor.name, vendor.city.slug, vendor.slug) == ("New name", "manchester", vendor.slug)
    assert audit_trail(vendor).last().data == {"fields": ["city", "lat", "lng", "name"]}


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"timezone": "Nowhere/Else"}, ["body", "timezone"]),
        ({"city": "atlantis"}, ["body", "city"]),
        ({"lat": "10.0"}, ["body", "lat"]),
        ({"name": None}, ["body", "name"]),
        ({"description": None}, ["body", "description"]),
        ({"service_radius_km": None}, ["body", "service_radius_km"]),
        ({"currency": "EUR"}, ["body", "payload", "currency"]),
        ({"status": "active"}, ["body", "payload", "status"]),
    ],
    ids=lambda value: str(value),
)
def test_a_bad_profile_edit_is_422_and_changes_nothing(
    user: Any, change: dict[str, Any], loc: list[str]
) -> None:
    vendor = VendorFactory(owner=user, lat=None, lng=None)
    before = snapshot()

    response = client_for(user).patch(f"/vendors/{vendor.pk}", change)

    assert error_locs(assert_problem(response, 422, "validation_error")) == [loc]
    assert snapshot() == before
