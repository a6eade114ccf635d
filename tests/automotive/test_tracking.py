"""Live job tracking: the vendor's staff say where the job is; the customer follows it on
the booking page through the booking's live events. A stage never lands on a cancelled
booking, even when the two race."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client

from agora.bookings.models import Booking
from agora.core import clock
from agora.core.errors import DomainError
from agora.notifications.models import Event
from agora.verticals.automotive import services
from agora.verticals.automotive.models import JobStage
from tests.automotive.conftest import NOW
from tests.bookings.helpers import Shop, make_shop, pay
from tests.conftest import ApiClient, assert_problem
from tests.factories import UserFactory, VendorFactory, VendorMembershipFactory
from tests.race import run_concurrently
from tests.vendors.helpers import client_for, snapshot
from tests.web.account.helpers import html

pytestmark = pytest.mark.django_db

WEDNESDAY_10 = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def shop(now: datetime) -> Shop:
    return make_shop()


def accepted_booking(shop: Shop) -> Booking:
    vehicle = services.vehicle_add(owner=shop.customer, registration="AB12CDE")
    response = shop.as_customer.post(
        "/bookings",
        {
            "listing_id": shop.listing.pk,
            "start": WEDNESDAY_10.isoformat(),
            "vehicle_id": vehicle.pk,
        },
        idempotency_key="tracked",
    )
    assert response.status_code == 201, response.content
    booking_id = response.json()["id"]
    assert pay(shop.as_customer, booking_id).status_code == 200
    assert shop.as_staff.post(f"/bookings/{booking_id}/accept").status_code == 200
    return Booking.objects.get(pk=booking_id)


def test_a_stage_starts_the_job_and_reaches_the_customer_live(shop: Shop) -> None:
    booking = accepted_booking(shop)

    response = shop.as_staff.post(
        f"/bookings/{booking.pk}/stages", {"stage": "checked_in", "note": "Keys at the desk"}
    )
    shop.as_staff.post(f"/bookings/{booking.pk}/stages", {"stage": "inspecting"})

    assert response.status_code == 201, response.content
    assert {k: v for k, v in response.json().items() if k not in ("id", "at")} == {
        "stage": "checked_in",
        "label": "Checked in",
        "note": "Keys at the desk",
    }
    booking.refresh_from_db()
    assert booking.status == "in_progress"
    stages = shop.as_customer.get(f"/bookings/{booking.pk}/stages").json()
    assert [(s["stage"], s["note"]) for s in stages] == [
        ("checked_in", "Keys at the desk"),
        ("inspecting", ""),
    ]
    events = Event.objects.filter(name="booking.stage").order_by("id")
    assert [(e.data["stage"], e.data["stage_label"], e.stream_name) for e in events] == [
        ("checked_in", "Checked in", "booking.updated"),
        ("inspecting", "Inspecting", "booking.updated"),
    ]
    assert {(e.user_id, e.subject) for e in events} == {(shop.customer.pk, f"booking:{booking.pk}")}


def test_only_the_vendors_staff_tell_stages_and_only_the_two_sides_read_them(shop: Shop) -> None:
    booking = accepted_booking(shop)

    assert_problem(
        shop.as_customer.post(f"/bookings/{booking.pk}/stages", {"stage": "ready"}),
        404,
        "not_found",
    )
    assert_problem(shop.as_other_customer.get(f"/bookings/{booking.pk}/stages"), 404, "not_found")
    body = assert_problem(
        shop.as_staff.post(f"/bookings/{booking.pk}/stages", {"stage": "teleported"}),
        422,
        "validation_error",
    )
    assert body["errors"][0]["loc"] == ["body", "stage"]
    assert not JobStage.objects.exists()
    booking.refresh_from_db()
    assert booking.status == "accepted"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_outsiders_get_404_and_nothing_changes(shop: Shop, method: str) -> None:
    booking = accepted_booking(shop)
    shop.as_staff.post(f"/bookings/{booking.pk}/stages", {"stage": "checked_in"})
    rival_owner = UserFactory()
    rival = VendorFactory(owner=rival_owner)
    rival_staff = UserFactory()
    VendorMembershipFactory(vendor=rival, user=rival_staff)
    path = f"/bookings/{booking.pk}/stages"
    before = snapshot(Booking, JobStage, Event)

    def call(client: ApiClient) -> Any:
        return client.get(path) if method == "GET" else client.post(path, {"stage": "ready"})

    for outsider in (rival_owner, rival_staff, shop.other_customer):
        assert_problem(call(client_for(outsider)), 404, "not_found")
    assert_problem(call(ApiClient()), 401, "not_authenticated")
    missing = f"/bookings/{booking.pk + 1000}/stages"
    assert_problem(shop.as_staff.get(missing), 404, "not_found")
    assert snapshot(Booking, JobStage, Event) == before
    # and the two sides may
    assert call(shop.as_staff).status_code == (200 if method == "GET" else 201)
    assert shop.as_customer.get(path).status_code == 200


def test_a_cancelled_booking_has_no_job_to_track(shop: Shop) -> None:
    booking = accepted_booking(shop)
    assert shop.as_customer.post(f"/bookings/{booking.pk}/cancel").status_code == 200

    response = shop.as_staff.post(f"/bookings/{booking.pk}/stages", {"stage": "checked_in"})

    assert_problem(response, 409, "invalid_transition")
    assert not JobStage.objects.exists()


def test_the_customer_follows_the_stages_on_the_booking_page(shop: Shop) -> None:
    booking = accepted_booking(shop)
    staff_page = Client()
    staff_page.force_login(shop.staff)
    form = html(staff_page.get(f"/vendor/bookings/{booking.pk}/"))
    assert f'action="/vendor/bookings/{booking.pk}/stage/"' in form

    response = staff_page.post(
        f"/vendor/bookings/{booking.pk}/stage/",
        {"stage": "waiting_for_approval", "note": "Front pads at 2 mm: replace for £89?"},
    )

    assert response.status_code == 302
    customer_page = Client()
    customer_page.force_login(shop.customer)
    page = html(customer_page.get(f"/account/bookings/{booking.pk}/"))
    assert "Job progress" in page
    assert "<strong>Waiting for your approval</strong>" in page
    assert "Front pads at 2 mm: replace for £89?" in page
    # inside the part that re-renders on the booking's live events
    live = page.index('id="booking-live"')
    assert live < page.index("Job progress")


@pytest.mark.race
@pytest.mark.django_db(transaction=True)
def test_a_stage_racing_a_cancellation_never_lands_on_a_cancelled_booking() -> None:
    with clock.frozen(NOW):
        shop = make_shop()
        booking = accepted_booking(shop)
        from agora.bookings.services import lifecycle

        def work(index: int) -> str:
            fresh = Booking.objects.select_related("listing", "vendor").get(pk=booking.pk)
            try:
                if index == 0:
                    services.job_stage_add(actor=shop.staff, booking=fresh, stage="checked_in")
                    return "stage"
                lifecycle.booking_cancel(
                    actor=shop.customer, booking=fresh, by_vendor=False, reason="race"
                )
                return "cancelled"
            except DomainError as error:
                return str(error.code)

        outcomes = run_concurrently(work, threads=2)

    booking.refresh_from_db()
    stages = JobStage.objects.filter(booking=booking).count()
    assert outcomes in (["stage", "invalid_transition"], ["invalid_transition", "cancelled"])
    if outcomes[0] == "stage":
        assert (booking.status, stages) == ("in_progress", 1)
    else:
        assert (booking.status, stages) == ("cancelled", 0)


def test_every_stage_mail_renders_cleanly() -> None:
    from agora.notifications import rendering

    for note in ("", "Keys at the desk"):
        data: dict[str, Any] = {
            "id": 3,
            "status": "in_progress",
            "url": "/account/bookings/3/",
            "vendor_url": "/vendor/bookings/3/?vendor=1",
            "listing_title": "MOT test (class 4)",
            "vendor_name": "Camden Motors",
            "vendor_address": "1 High St",
            "start": "2026-12-02T10:00:00+00:00",
            "end": "2026-12-02T11:00:00+00:00",
            "timezone": "Europe/London",
            "price": {"amount": 5485, "currency": "GBP"},
            "stage": "ready",
            "stage_label": "Ready",
            "note": note,
        }
        words = rendering.render(
            event_name="booking.stage",
            audience="user",
            data=data,
            recipient=UserFactory.build(name="Ann Example"),
        )
        assert words.subject == "Ready: your MOT test (class 4) at Camden Motors"
        assert words.notice == "Camden Motors: ready — your MOT test (class 4)."
        assert ("Keys at the desk" in words.text) is bool(note)
        assert "None" not in words.text + words.html
        assert "\n\n\n" not in words.text
