"""THE ISOLATION MATRIX (ARCHITECTURE.md invariant 5, "Tenant isolation").

Every vendor- or listing-scoped endpoint is called with vendor A's ids by vendor B's owner, a
plain customer and an anonymous client — and, on the endpoints that need a manager, by A's
own `staff`-role member. Each gets 404 / 404 / 401 / 403 with its problem code, and every
row of A's (and everyone's) data, every stored file and the outbox are as they were.

The last test reads the API's routes, so a new endpoint with a vendor, listing or booking
id in its path fails here until it joins the matrix (booking-scoped endpoints have their
own matrix, tests/bookings/test_isolation.py, whose ENDPOINTS this test counts in).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from agora.accounts.models import User
from agora.api import api
from agora.bookings.models import Resource, TimeBlock
from agora.catalog.models import Category, Listing, ListingImage, ProductVariant
from agora.core.models import IdempotencyKey
from agora.core.money import Money
from agora.orders.models import LowStockAlert, ShippingRule, StockMovement, StockReservation
from agora.payments import flows
from agora.payments.models import Payout, PayoutSettings
from agora.vendors import services as vendor_services
from agora.vendors.models import Vendor, VendorInvitation, VerificationDocument
from tests.bookings.helpers import BOOKING_MODELS
from tests.bookings.test_isolation import ENDPOINTS as BOOKING_ENDPOINTS
from tests.conftest import ApiClient, assert_problem
from tests.factories import (
    ListingFactory,
    ListingImageFactory,
    PriceRuleFactory,
    ProductVariantFactory,
    UserFactory,
    VendorFactory,
    VendorMembershipFactory,
    VendorScheduleFactory,
)
from tests.vendors.helpers import (
    TENANT_MODELS,
    client_for,
    error_locs,
    multipart,
    pdf_upload,
    png_upload,
    snapshot,
    stored_files,
)

pytestmark = pytest.mark.django_db


@dataclass
class World:
    """Vendor A with one of everything, vendor B, and the people around them."""

    vendor: Vendor
    listing: Listing  # active service with price rules and an image
    draft: Listing
    product: Listing  # active product with a variant
    variant: ProductVariant
    image: ListingImage
    document: VerificationDocument
    invitation: VendorInvitation
    resource: Resource
    block: TimeBlock
    a_owner: User
    a_staff: User
    rival_vendor: Vendor
    rival_listing: Listing
    b_owner: User
    customer: User
    ids: dict[str, int] = field(default_factory=dict)


@pytest.fixture
def world(db: Any, media_root: Path) -> World:
    a_owner, a_staff, b_owner, customer = UserFactory.create_batch(4)
    vendor = VendorFactory(owner=a_owner, name="A Motors")
    VendorMembershipFactory(vendor=vendor, user=a_staff, role="staff")
    listing = ListingFactory(vendor=vendor, title="A full service")
    PriceRuleFactory(listing=listing, dimension="urgency", option="emergency", amount=2500)
    PriceRuleFactory(
        listing=listing,
        dimension="skill_tier",
        option="master",
        adjustment="multiplier",
        amount=0,
        multiplier_bp=15000,
    )
    image = ListingImageFactory(listing=listing)
    draft = ListingFactory(vendor=vendor, title="A secret draft", status="draft")
    product = ListingFactory(
        vendor=vendor,
        kind="product",
        category=Category.objects.get(slug="auto-parts"),
        attributes={"condition": "new"},
        stock=3,
        title="A pads",
    )
    variant = ProductVariantFactory(listing=product, name="Front")
    document = vendor_services.document_upload(
        actor=a_owner, vendor=vendor, kind="insurance", upload=pdf_upload()
    )
    invitation = vendor_services.staff_invite(
        actor=a_owner, vendor=vendor, actor_role="owner", email="new@example.test", role="staff"
    ).invitation
    VendorScheduleFactory(vendor=vendor)
    resource = Resource.objects.create(vendor=vendor, name="A bay", capacity=1)
    block = TimeBlock.objects.create(
        vendor=vendor,
        start=datetime(2026, 3, 2, 9, tzinfo=UTC),
        end=datetime(2026, 3, 2, 12, tzinfo=UTC),
        reason="A's lift serviced",
    )
    rival_vendor = VendorFactory(owner=b_owner, name="B Motors")
    rival_listing = ListingFactory(vendor=rival_vendor, title="B service")
    world = World(
        vendor=vendor,
        listing=listing,
        draft=draft,
        product=product,
        variant=variant,
        image=image,
        document=document,
        invitation=invitation,
        resource=resource,
        block=block,
        a_owner=a_owner,
        a_staff=a_staff,
        rival_vendor=rival_vendor,
        rival_listing=rival_listing,
        b_owner=b_owner,
        customer=customer,
    )
    world.ids = {
        "vendor_id": vendor.pk,
        "listing_id": listing.pk,
        "draft_id": draft.pk,
        "product_id": product.pk,
        "image_id": image.pk,
        "document_id": document.pk,
        "user_id": a_staff.pk,
        "block_id": block.pk,
    }
    return world


# --- the matrix ------------------------------------------------------------------------------

ANY_STAFF = "any staff"  # every role of the vendor may call it
PRIVATE_DRAFT = "draft"  # public for active listings; a draft is its vendor's staff's only
MANAGER = "manager"  # owner or manager only: a `staff` member gets 403
OPERATOR = "operator"  # operators only: everyone else gets 403 (anonymous 401)


@dataclass(frozen=True)
class Case:
    method: str
    route: str  # the route as declared, e.g. /listings/{listing_id}
    needs: str
    body: Callable[[], Any] | None = None
    multipart: bool = False
    # a body naming A's objects (e.g. a variant id), built from the world
    world_body: Callable[[World], Any] | None = None
    # which of A's objects fills {listing_id} (the draft, the product...)
    listing: str = "listing_id"

    @property
    def name(self) -> str:
        suffix = "" if self.listing == "listing_id" else f"[{self.listing}]"
        return f"{self.method} {self.route}{suffix}"

    def path(self, world: World) -> str:
        ids = {**world.ids, "listing_id": world.ids[self.listing]}
        return re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), self.route)

    def call(self, client: ApiClient, world: World) -> Any:
        path = self.path(world)
        body = self.world_body(world) if self.world_body else self.body() if self.body else None
        if self.multipart:
            return multipart(client, path, body or {})
        if self.method == "GET":
            return client.get(path)
        if self.method == "DELETE":
            return client.delete(path)
        return getattr(client, self.method.lower())(path, body)


def planted_block() -> dict[str, Any]:
    return {"start": "2026-03-03T09:00:00+00:00", "end": "2026-03-03T17:00:00+00:00"}


def new_listing() -> dict[str, Any]:
    return {
        "kind": "service",
        "title": "Planted listing",
        "category": "mot-servicing",
        "price": {"amount": 100, "currency": "GBP"},
        "duration_minutes": 30,
    }


CASES: list[Case] = [
    # vendors/api.py
    Case("PATCH", "/vendors/{vendor_id}", MANAGER, lambda: {"name": "Hijacked"}),
    Case("GET", "/vendors/{vendor_id}/staff", ANY_STAFF),
    Case(
        "POST",
        "/vendors/{vendor_id}/staff/invitations",
        MANAGER,
        lambda: {"email": "spy@example.test", "role": "owner"},
    ),
    Case("PATCH", "/vendors/{vendor_id}/staff/{user_id}", MANAGER, lambda: {"role": "manager"}),
    Case("DELETE", "/vendors/{vendor_id}/staff/{user_id}", MANAGER),
    Case(
        "POST",
        "/vendors/{vendor_id}/documents",
        MANAGER,
        lambda: {"kind": "other", "file": pdf_upload("planted.pdf")},
        multipart=True,
    ),
    Case("GET", "/vendors/{vendor_id}/documents", ANY_STAFF),
    Case("GET", "/vendors/{vendor_id}/documents/{document_id}/file", ANY_STAFF),
    Case("POST", "/operator/vendors/{vendor_id}/approve", OPERATOR),
    Case("POST", "/operator/vendors/{vendor_id}/reject", OPERATOR, lambda: {"reason": "x"}),
    Case("POST", "/operator/vendors/{vendor_id}/suspend", OPERATOR, lambda: {"reason": "x"}),
    Case("POST", "/operator/vendors/{vendor_id}/reinstate", OPERATOR),
    Case("GET", "/operator/vendors/{vendor_id}/documents", OPERATOR),
    Case("GET", "/operator/vendors/{vendor_id}/documents/{document_id}/file", OPERATOR),
    # catalog/api.py
    Case("POST", "/vendors/{vendor_id}/listings", MANAGER, new_listing),
    Case("PATCH", "/listings/{listing_id}", MANAGER, lambda: {"title": "Hijacked"}),
    Case(
        "PATCH", "/listings/{listing_id}", MANAGER, lambda: {"status": "active"}, listing="draft_id"
    ),
    Case(
        "POST",
        "/listings/{listing_id}/variants",
        MANAGER,
        lambda: {"name": "Planted", "stock": 1},
        listing="product_id",
    ),
    Case("PUT", "/listings/{listing_id}/price-rules", MANAGER, lambda: {"rules": []}),
    Case(
        "POST",
        "/listings/{listing_id}/images",
        MANAGER,
        lambda: {"file": png_upload("planted.png")},
        multipart=True,
    ),
    Case("DELETE", "/listings/{listing_id}/images/{image_id}", MANAGER),
    # a draft is private, even on the endpoints that are public for active listings
    Case("GET", "/listings/{listing_id}", PRIVATE_DRAFT, listing="draft_id"),
    Case("GET", "/listings/{listing_id}/price", PRIVATE_DRAFT, listing="draft_id"),
    # bookings/api.py
    Case(
        "PUT",
        "/vendors/{vendor_id}/schedule",
        MANAGER,
        lambda: {"weekly": {"sun": [["00:00", "24:00"]]}},
    ),
    Case("POST", "/vendors/{vendor_id}/resources", MANAGER, lambda: {"name": "Planted bay"}),
    Case("GET", "/vendors/{vendor_id}/resources", ANY_STAFF),
    Case("PUT", "/listings/{listing_id}/resource", MANAGER, lambda: {"resource_id": None}),
    Case("POST", "/vendors/{vendor_id}/blocks", ANY_STAFF, planted_block),
    Case("DELETE", "/vendors/{vendor_id}/blocks/{block_id}", ANY_STAFF),
    Case(
        "PUT",
        "/vendors/{vendor_id}/cancellation-policy",
        MANAGER,
        lambda: {"free_until_hours": 0, "late_fee_bp": 10000, "acceptance_timeout_hours": 1},
    ),
    Case("GET", "/vendors/{vendor_id}/agenda", ANY_STAFF),
    Case("GET", "/vendors/{vendor_id}/calendar-feed", ANY_STAFF),
    Case("POST", "/vendors/{vendor_id}/calendar-feed/rotate", ANY_STAFF),
    Case("DELETE", "/vendors/{vendor_id}/calendar-feed", ANY_STAFF),
    Case("GET", "/listings/{listing_id}/slots", PRIVATE_DRAFT, listing="draft_id"),
    # orders/api.py
    Case(
        "POST",
        "/listings/{listing_id}/restock",
        ANY_STAFF,
        listing="product_id",
        world_body=lambda world: {"variant_id": world.variant.pk, "quantity": 5},
    ),
    Case(
        "POST",
        "/listings/{listing_id}/stock-count",
        ANY_STAFF,
        listing="product_id",
        world_body=lambda world: {"variant_id": world.variant.pk, "level": 5},
    ),
    Case("GET", "/vendors/{vendor_id}/low-stock", ANY_STAFF),
    Case(
        "PUT",
        "/vendors/{vendor_id}/shipping-rules",
        MANAGER,
        lambda: {"rules": [{"kind": "flat", "amount": 0}]},
    ),
    # payments/api.py
    Case("GET", "/vendors/{vendor_id}/balance", ANY_STAFF),
    Case("POST", "/vendors/{vendor_id}/payouts", MANAGER, lambda: {}),
    Case("GET", "/vendors/{vendor_id}/payouts", ANY_STAFF),
    Case("GET", "/vendors/{vendor_id}/statement", ANY_STAFF),
    Case("GET", "/vendors/{vendor_id}/statement.csv", ANY_STAFF),
    Case(
        "PUT",
        "/vendors/{vendor_id}/payout-settings",
        MANAGER,
        lambda: {"schedule": "daily", "minimum_amount": 0},
    ),
    # reviews/api.py
    Case("GET", "/listings/{listing_id}/reviews", PRIVATE_DRAFT, listing="draft_id"),
    Case("GET", "/operator/vendors/{vendor_id}/quality", OPERATOR),
]

# Reads of A's data that are public while A and the listing are active (tested below).
PUBLIC_READS = {
    "GET /vendors/{vendor_id}",
    "GET /vendors/{vendor_id}/listings",
    "GET /listings/{listing_id}",
    "GET /listings/{listing_id}/price",
    "GET /vendors/{vendor_id}/schedule",
    "GET /listings/{listing_id}/slots",
    "GET /listings/{listing_id}/events",  # public: slots.changed only (notifications/live)
    "GET /vendors/{vendor_id}/reviews",
    "GET /listings/{listing_id}/related",  # public; a hidden listing's is 404 (tests/search)
}
# Vendor- or listing-scoped routes covered elsewhere, with the test that covers them.
WEBHOOKS_MATRIX = "tests/notifications/webhooks/test_isolation.py"
EXEMPT: dict[str, str] = {
    "GET /bookings/{booking_id}/messages": "tests/messaging/test_isolation.py",
    "POST /bookings/{booking_id}/messages": "tests/messaging/test_isolation.py",
    "POST /bookings/{booking_id}/messages/read": "tests/messaging/test_isolation.py",
    "GET /bookings/{booking_id}/stages": "tests/automotive/test_tracking.py",
    "GET /vendors/{vendor_id}/quote-metrics": "tests/quotes/test_lifecycle.py",
    "POST /bookings/{booking_id}/stages": "tests/automotive/test_tracking.py",
    "DELETE /vendors/{vendor_id}/webhooks/{webhook_id}": WEBHOOKS_MATRIX,
    "GET /vendors/{vendor_id}/webhooks": WEBHOOKS_MATRIX,
    "GET /vendors/{vendor_id}/webhooks/{webhook_id}": WEBHOOKS_MATRIX,
    "GET /vendors/{vendor_id}/webhooks/{webhook_id}/deliveries": WEBHOOKS_MATRIX,
    "PATCH /vendors/{vendor_id}/webhooks/{webhook_id}": WEBHOOKS_MATRIX,
    "POST /vendors/{vendor_id}/webhooks": WEBHOOKS_MATRIX,
    "POST /vendors/{vendor_id}/webhooks/{webhook_id}/deliveries/{delivery_id}/replay": (
        WEBHOOKS_MATRIX
    ),
    "POST /vendors/{vendor_id}/webhooks/{webhook_id}/rotate-secret": WEBHOOKS_MATRIX,
}

EXPECTED: dict[str, dict[str, tuple[int, str]]] = {
    ANY_STAFF: {
        "rival": (404, "not_found"),
        "customer": (404, "not_found"),
        "anonymous": (401, "not_authenticated"),
    },
    PRIVATE_DRAFT: {
        "rival": (404, "not_found"),
        "customer": (404, "not_found"),
        "anonymous": (404, "not_found"),
    },
    MANAGER: {
        "rival": (404, "not_found"),
        "customer": (404, "not_found"),
        "staff": (403, "forbidden"),
        "anonymous": (401, "not_authenticated"),
    },
    OPERATOR: {
        "rival": (403, "forbidden"),
        "customer": (403, "forbidden"),
        "staff": (403, "forbidden"),
        "owner": (403, "forbidden"),
        "anonymous": (401, "not_authenticated"),
    },
}
CALLERS = {"rival": "b_owner", "customer": "customer", "staff": "a_staff", "owner": "a_owner"}
# Every row a refused request could have written: vendors and catalogue, bookings and their
# money, stock and shipping, payouts, idempotency keys.
ALL_MODELS = (
    *TENANT_MODELS,
    *BOOKING_MODELS,
    StockMovement,
    StockReservation,
    ShippingRule,
    LowStockAlert,
    Payout,
    PayoutSettings,
    IdempotencyKey,
)


def matrix() -> list[Any]:
    params = []
    for case in CASES:
        for caller, (status, code) in EXPECTED[case.needs].items():
            params.append(pytest.param(case, caller, status, code, id=f"{case.name} as {caller}"))
    return params


@pytest.mark.parametrize(("case", "caller", "status", "code"), matrix())
def test_outsiders_cannot_reach_or_change_vendor_a_data(
    world: World,
    media_root: Path,
    mailbox: list[Any],
    django_capture_on_commit_callbacks: Any,
    case: Case,
    caller: str,
    status: int,
    code: str,
) -> None:
    # Given A's data, and a caller who is not entitled to it
    client = ApiClient() if caller == "anonymous" else client_for(getattr(world, CALLERS[caller]))
    rows, files = snapshot(*ALL_MODELS), stored_files(media_root)

    # When they call the endpoint with A's ids
    with django_capture_on_commit_callbacks(execute=True):
        response = case.call(client, world)

    # Then they are refused with the tenant-blind answer, and nothing anywhere changed
    assert_problem(response, status, code)
    assert snapshot(*ALL_MODELS) == rows
    assert stored_files(media_root) == files
    assert mailbox == []


def test_the_same_requests_succeed_for_a_owner(
    world: World, media_root: Path, django_capture_on_commit_callbacks: Any
) -> None:
    # The refusals above are about the caller: every request, made by A's owner, succeeds
    # (in CASES order, each on the state the previous ones left) — a payout, given money
    # in A's available balance.
    with transaction.atomic():
        flows.post_capture(
            reference="order:seed",
            vendor_id=world.vendor.pk,
            gross=Money(100_00, "GBP"),
            commission=Money(3_00, "GBP"),
            processing_fee=Money(2_90, "GBP"),
            idempotency_key="seed:capture",
        )
        flows.post_escrow_release(
            reference="order:seed", vendor_id=world.vendor.pk, idempotency_key="seed:release"
        )
    owner = client_for(world.a_owner)
    for case in CASES:
        if case.needs == OPERATOR:
            continue
        with django_capture_on_commit_callbacks(execute=True):
            response = case.call(owner, world)
        assert response.status_code in (200, 201, 204), (case.name, response.content)


# --- ids of A's objects used through B's own vendor or listing --------------------------------


def test_b_owner_cannot_reach_a_objects_through_b_own_ids(world: World) -> None:
    rival = client_for(world.b_owner)
    b_vendor, b_listing = world.rival_vendor.pk, world.rival_listing.pk
    before = snapshot(*ALL_MODELS)

    responses = [
        rival.delete(f"/listings/{b_listing}/images/{world.image.pk}"),
        rival.patch(f"/vendors/{b_vendor}/staff/{world.a_staff.pk}", {"role": "staff"}),
        rival.delete(f"/vendors/{b_vendor}/staff/{world.a_owner.pk}"),
        rival.get(f"/vendors/{b_vendor}/documents/{world.document.pk}/file"),
        rival.delete(f"/vendors/{b_vendor}/blocks/{world.block.pk}"),
        rival.put(f"/listings/{b_listing}/resource", {"resource_id": world.resource.pk}),
        rival.post(
            f"/vendors/{b_vendor}/blocks", {**planted_block(), "resource_id": world.resource.pk}
        ),
    ]

    for response in responses:
        assert_problem(response, 404, "not_found")
    assert snapshot(*ALL_MODELS) == before


# --- public reads show only what is public ----------------------------------------------------


def test_b_owner_sees_only_a_public_listings(world: World) -> None:
    public = sorted([world.listing.pk, world.product.pk])
    ListingFactory(vendor=world.vendor, status="archived")

    for caller in (client_for(world.b_owner), client_for(world.customer), ApiClient()):
        items = caller.get(f"/vendors/{world.vendor.pk}/listings").json()["items"]
        assert sorted(item["id"] for item in items) == public
        assert {item["status"] for item in items} == {"active"}
        # asking for drafts does not reveal them
        drafts = caller.get(f"/vendors/{world.vendor.pk}/listings", status="draft").json()
        assert sorted(item["id"] for item in drafts["items"]) == public
        # the public detail and price of an active listing are open to all
        assert caller.get(f"/listings/{world.listing.pk}").json()["id"] == world.listing.pk
        assert caller.get(f"/vendors/{world.vendor.pk}").json()["id"] == world.vendor.pk

    # while A's own staff see everything, drafts included
    staff_items = client_for(world.a_staff).get(f"/vendors/{world.vendor.pk}/listings").json()
    assert len(staff_items["items"]) == 4
    assert world.draft.pk in {item["id"] for item in staff_items["items"]}


# --- mass assignment ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"vendor_id": "rival"},
        {"vendor": "rival"},
        {"rating_count": 99},
        {"rating_sum": 495},
        {"currency": "AUD"},
        {"kind": "product"},
        {"created_at": "2020-01-01T00:00:00Z"},
        {"id": 1},
    ],
    ids=lambda change: next(iter(change)),
)
def test_a_vendor_cannot_mass_assign_listing_fields(world: World, change: dict[str, Any]) -> None:
    if change.get("vendor_id") == "rival" or change.get("vendor") == "rival":
        change = dict.fromkeys(change, world.rival_vendor.pk)
    before = snapshot()

    response = client_for(world.a_owner).patch(f"/listings/{world.listing.pk}", change)

    body = assert_problem(response, 422, "validation_error")
    assert body["errors"] == [
        {
            "loc": ["body", "payload", next(iter(change))],
            "msg": "Extra inputs are not permitted",
            "type": "extra_forbidden",
        }
    ]
    assert snapshot() == before


@pytest.mark.parametrize(
    "change",
    [
        {"status": "active"},
        {"status_reason": ""},
        {"tier": "premium"},
        {"rating_sum": 5},
        {"rating_count": 1},
        {"slug": "taken"},
        {"currency": "EUR"},
        {"approved_at": "2020-01-01T00:00:00Z"},
    ],
    ids=lambda change: next(iter(change)),
)
def test_a_vendor_cannot_mass_assign_its_own_status_tier_or_ratings(
    world: World, change: dict[str, Any]
) -> None:
    Vendor.objects.filter(pk=world.vendor.pk).update(status="pending")
    before = snapshot()

    response = client_for(world.a_owner).patch(f"/vendors/{world.vendor.pk}", change)

    assert error_locs(assert_problem(response, 422, "validation_error")) == [
        ["body", "payload", next(iter(change))]
    ]
    assert snapshot() == before


def test_a_vendor_cannot_create_a_listing_for_another_vendor_or_with_ratings(
    world: World,
) -> None:
    owner = client_for(world.a_owner)
    before = snapshot()

    for extra in (
        {"vendor_id": world.rival_vendor.pk},
        {"rating_count": 10},
        {"currency": "AUD"},
    ):
        response = owner.post(f"/vendors/{world.vendor.pk}/listings", {**new_listing(), **extra})
        assert error_locs(assert_problem(response, 422, "validation_error")) == [
            ["body", "payload", next(iter(extra))]
        ]

    assert snapshot() == before


# --- no endpoint escapes the matrix ------------------------------------------------------------


SCOPES = ("{vendor_id}", "{listing_id}", "{booking_id}")


def scoped_routes() -> dict[str, set[str]]:
    """Every route of the whole API with a vendor, listing or booking id in its path, as
    {path: methods}: every write to a tenant's object, and every read of one."""
    schema = api.get_openapi_schema(path_prefix="")
    routes: dict[str, set[str]] = {}
    for path, operations in schema["paths"].items():
        if any(scope in path for scope in SCOPES):
            routes.setdefault(path, set()).update(method.upper() for method in operations)
    return routes


def test_every_vendor_listing_or_booking_scoped_endpoint_is_in_a_matrix() -> None:
    covered = {f"{case.method} {case.route}" for case in CASES} | {
        endpoint.name for endpoint in BOOKING_ENDPOINTS
    }
    routes = scoped_routes()
    # the schema is read as expected, every app's routes included
    assert routes["/vendors/{vendor_id}/staff/{user_id}"] == {"PATCH", "DELETE"}
    assert routes["/bookings/{booking_id}/pay"] == {"POST"}
    assert routes["/vendors/{vendor_id}/payouts"] == {"GET", "POST"}

    missing = sorted(
        endpoint
        for path, methods in routes.items()
        for endpoint in (f"{method} {path}" for method in methods)
        if endpoint not in covered | PUBLIC_READS | set(EXEMPT)
    )

    assert missing == [], (
        "These vendor-, listing- or booking-scoped endpoints are not in an isolation matrix; "
        "add them to CASES in tests/vendors/test_isolation.py, or to ENDPOINTS in "
        f"tests/bookings/test_isolation.py (or to EXEMPT naming the test that covers them): "
        f"{missing}"
    )
    # and the matrix names no route that does not exist
    declared = {f"{m} {path}" for path, methods in routes.items() for m in methods}
    assert covered - declared == set()
