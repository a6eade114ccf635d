"""Acceptance: the vendors-and-catalogue story over real HTTP, as an outside client sees it.

"An outside client can apply as a vendor, be approved by an operator, publish listings whose
attributes obey their category schema, and edit them, while another vendor gets 404 on all of
it; suspension hides everything. Bad input gets problem+json and changes nothing."
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from agora.accounts.services import operator_create
from agora.accounts.two_factor import codes
from agora.core import clock
from tests.vendors.fixtures import media_root
from tests.vendors.helpers import PDF_BYTES, png_bytes

__all__ = ["media_root"]

PASSWORD = "correct-horse-battery"


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert (body["status"], body["code"]) == (status, code)
    assert {"type", "title", "detail"} <= body.keys()
    return body


class Agent:
    """One outside client: its own HTTP connection and, once signed in, its bearer token."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=f"{base_url}/api/v1", timeout=20)

    def sign_up(self, email: str, name: str) -> Agent:
        registered = self.http.post(
            "/auth/register", json={"email": email, "password": PASSWORD, "name": name}
        )
        assert registered.status_code == 201, registered.text
        return self.sign_in(email)

    def sign_in(self, email: str) -> Agent:
        token = self.http.post("/auth/token", json={"email": email, "password": PASSWORD})
        assert token.status_code == 200, token.text
        self.http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        return self

    def enrol_two_factor(self) -> Agent:
        """Turn on two-factor sign-in, as operators must before acting: add the secret to
        an "app" (here: compute its code) and confirm with the first code."""
        secret = self.http.post("/me/2fa").json()["secret"]
        code = codes.totp_code_at(codes.key_hex_from_base32(secret), clock.now())
        confirmed = self.http.post("/me/2fa/confirm", json={"code": code})
        assert confirmed.status_code == 200, confirmed.text
        return self

    def __getattr__(self, method: str) -> Any:
        return getattr(self.http, method)


@pytest.fixture
def agents(live_server: Any) -> Iterator[dict[str, Agent]]:
    operator_create(email="ops@agora.test", password=PASSWORD, name="Ops")
    people = {
        "ann": Agent(live_server.url).sign_up("ann@example.test", "Ann"),
        "bob": Agent(live_server.url).sign_up("bob@example.test", "Bob"),
        "ops": Agent(live_server.url).sign_in("ops@agora.test").enrol_two_factor(),
        "public": Agent(live_server.url),
    }
    yield people
    for agent in people.values():
        agent.http.close()


def public_listing_ids(agent: Agent, **params: Any) -> set[int]:
    response = agent.get("/listings", params=params)
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_apply_approve_publish_edit_isolate_suspend(
    agents: dict[str, Agent], media_root: Path
) -> None:
    ann, bob, ops, public = agents["ann"], agents["bob"], agents["ops"], agents["public"]

    # --- Ann and Bob apply; bad input is problem+json and creates nothing -----------------
    application = {
        "name": "Ann's Garage",
        "description": "MOTs and repairs",
        "timezone": "Europe/London",
        "address": "1 High St",
        "city": "london",
        "lat": "51.5",
        "lng": "-0.12",
        "currency": "GBP",
    }
    bad = problem(
        ann.post("/vendors", json={**application, "timezone": "Mars/Olympus"}),
        422,
        "validation_error",
    )
    assert bad["errors"][0]["loc"] == ["body", "timezone"]
    problem(ann.post("/vendors", json={**application, "status": "active"}), 422, "validation_error")
    problem(ann.post("/vendors", content=b"{not json", headers=_json()), 400, "validation_error")
    assert ann.get("/me").json()["vendor_ids"] == []

    applied = ann.post("/vendors", json=application)
    assert applied.status_code == 201, applied.text
    a_id = applied.json()["id"]
    assert applied.json()["status"] == "pending"
    b_id = bob.post("/vendors", json={**application, "name": "Bob's Bodyshop"}).json()["id"]
    assert ann.get("/me").json()["roles"] == ["customer", "vendor_staff"]

    # not public until approved
    problem(public.get(f"/vendors/{a_id}"), 404, "not_found")
    problem(bob.get(f"/vendors/{a_id}"), 404, "not_found")
    problem(ann.post(f"/operator/vendors/{a_id}/approve"), 403, "forbidden")

    # --- an operator approves both ------------------------------------------------------------
    queue = ops.get("/operator/vendors").json()["items"]
    assert [vendor["id"] for vendor in queue] == [a_id, b_id]
    for vendor_id in (a_id, b_id):
        assert ops.post(f"/operator/vendors/{vendor_id}/approve").json()["status"] == "active"
    problem(ops.post(f"/operator/vendors/{a_id}/approve"), 409, "invalid_transition")
    assert public.get(f"/vendors/{a_id}").json()["name"] == "Ann's Garage"

    # --- Ann publishes listings whose attributes obey the category schema --------------------
    service = {
        "kind": "service",
        "title": "MOT test",
        "category": "mot-servicing",
        "price": {"amount": 5485, "currency": "GBP"},
        "attributes": {"mot_class": "4", "vehicle_types": ["car"]},
        "duration_minutes": 45,
    }
    refused = problem(
        ann.post(
            f"/vendors/{a_id}/listings",
            json={**service, "attributes": {"mot_class": "9", "vehicle_types": ["boat"]}},
        ),
        422,
        "validation_error",
    )
    assert [error["loc"] for error in refused["errors"]] == [
        ["body", "attributes", "mot_class"],
        ["body", "attributes", "vehicle_types", "0"],
    ]
    mot = ann.post(f"/vendors/{a_id}/listings", json=service)
    assert mot.status_code == 201, mot.text
    mot_id = mot.json()["id"]
    pads = ann.post(
        f"/vendors/{a_id}/listings",
        json={
            "kind": "product",
            "title": "Brake pads",
            "category": "auto-parts",
            "price": {"amount": 3999, "currency": "GBP"},
            "attributes": {"condition": "new"},
            "stock": 10,
        },
    )
    assert pads.status_code == 201, pads.text
    pads_id = pads.json()["id"]
    draft_id = ann.post(
        f"/vendors/{a_id}/listings", json={**service, "title": "Winter check", "status": "draft"}
    ).json()["id"]
    variant = ann.post(f"/listings/{pads_id}/variants", json={"name": "Rear", "stock": 2})
    assert variant.status_code == 201, variant.text
    rules = ann.put(
        f"/listings/{mot_id}/price-rules",
        json={
            "rules": [
                {
                    "dimension": "urgency",
                    "option": "emergency",
                    "adjustment": "addon",
                    "amount": 2000,
                }
            ]
        },
    )
    assert rules.status_code == 200, rules.text
    image = ann.post(
        f"/listings/{mot_id}/images", files={"file": ("bay.png", png_bytes(), "image/png")}
    )
    assert image.status_code == 201, image.text
    image_id = image.json()["id"]
    document = ann.post(
        f"/vendors/{a_id}/documents",
        data={"kind": "insurance"},
        files={"file": ("cert.pdf", PDF_BYTES, "application/pdf")},
    )
    assert document.status_code == 201, document.text
    document_id = document.json()["id"]
    assert document.json()["content_type"] == "application/pdf"

    # the public finds the active listings (not the draft), with their price options
    assert public_listing_ids(public, category="automotive") == {mot_id, pads_id}
    quote = public.get(f"/listings/{mot_id}/price", params={"urgency": "emergency"}).json()
    assert quote["total"] == {"amount": 7485, "currency": "GBP"}
    problem(public.get(f"/listings/{draft_id}"), 404, "not_found")

    # --- Ann edits a listing; a schema-breaking edit is refused and changes nothing ------------
    edited = ann.patch(
        f"/listings/{mot_id}",
        json={"title": "MOT test (class 4)", "price": {"amount": 5000, "currency": "GBP"}},
    )
    assert edited.status_code == 200, edited.text
    problem(
        ann.patch(f"/listings/{mot_id}", json={"attributes": {"mot_class": 4}}),
        422,
        "validation_error",
    )
    problem(ann.patch(f"/listings/{mot_id}", json={"vendor_id": b_id}), 422, "validation_error")
    after_edit = public.get(f"/listings/{mot_id}").json()
    assert (after_edit["title"], after_edit["price"]["amount"], after_edit["attributes"]) == (
        "MOT test (class 4)",
        5000,
        {"mot_class": "4", "vehicle_types": ["car"]},
    )

    # --- Bob gets 404 on every private thing of Ann's, and nothing changes ---------------------
    ann_view = _private_view(ann, a_id, mot_id, draft_id)
    pdf = ("x.pdf", PDF_BYTES, "application/pdf")
    refusals = [
        bob.patch(f"/vendors/{a_id}", json={"name": "Bob owns this"}),
        bob.get(f"/vendors/{a_id}/staff"),
        bob.post(f"/vendors/{a_id}/staff/invitations", json={"email": "b@x.test", "role": "owner"}),
        bob.get(f"/vendors/{a_id}/documents"),
        bob.get(f"/vendors/{a_id}/documents/{document_id}/file"),
        bob.post(f"/vendors/{a_id}/documents", data={"kind": "other"}, files={"file": pdf}),
        bob.post(f"/vendors/{a_id}/listings", json=service),
        bob.patch(f"/listings/{mot_id}", json={"title": "Hijacked"}),
        bob.patch(f"/listings/{draft_id}", json={"status": "active"}),
        bob.post(f"/listings/{pads_id}/variants", json={"name": "Fake"}),
        bob.put(f"/listings/{mot_id}/price-rules", json={"rules": []}),
        bob.post(f"/listings/{mot_id}/images", files={"file": ("p.png", png_bytes(), "image/png")}),
        bob.delete(f"/listings/{mot_id}/images/{image_id}"),
        bob.get(f"/listings/{draft_id}"),
        bob.patch(f"/vendors/{a_id}/staff/{ann.get('/me').json()['id']}", json={"role": "staff"}),
    ]
    for response in refusals:
        problem(response, 404, "not_found")
    assert _private_view(ann, a_id, mot_id, draft_id) == ann_view
    # while anonymous clients are told to authenticate
    problem(public.get(f"/vendors/{a_id}/documents"), 401, "not_authenticated")

    # --- suspension hides everything at once; reinstating restores it ------------------------
    problem(ops.post(f"/operator/vendors/{a_id}/suspend", json={}), 422, "validation_error")
    suspended = ops.post(f"/operator/vendors/{a_id}/suspend", json={"reason": "lapsed insurance"})
    assert suspended.json()["status"] == "suspended"
    for viewer in (public, bob):
        problem(viewer.get(f"/vendors/{a_id}"), 404, "not_found")
        problem(viewer.get(f"/listings/{mot_id}"), 404, "not_found")
        assert public_listing_ids(viewer) == set()
        assert viewer.get(f"/vendors/{a_id}/listings").json()["items"] == []
    assert ann.get(f"/vendors/{a_id}").json()["status"] == "suspended"
    assert ops.post(f"/operator/vendors/{a_id}/reinstate").json()["status"] == "active"
    assert public_listing_ids(public) == {mot_id, pads_id}


def _json() -> dict[str, str]:
    return {"Content-Type": "application/json"}


def _private_view(ann: Agent, vendor_id: int, *listing_ids: int) -> dict[str, Any]:
    """Everything Ann can see of her vendor, to show that Bob's attempts changed nothing."""
    view: dict[str, Any] = {
        "vendor": ann.get(f"/vendors/{vendor_id}").json(),
        "staff": ann.get(f"/vendors/{vendor_id}/staff").json(),
        "documents": ann.get(f"/vendors/{vendor_id}/documents").json(),
        "listings": ann.get(f"/vendors/{vendor_id}/listings").json(),
    }
    for listing_id in listing_ids:
        view[f"listing {listing_id}"] = ann.get(f"/listings/{listing_id}").json()
    return view
