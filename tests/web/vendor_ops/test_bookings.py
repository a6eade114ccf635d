"""/vendor/bookings/: the list, one booking, and the vendor's moves through the lifecycle
services — with their money, their audit rows, tenant isolation and role checks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from agora.bookings.models import Booking
from agora.core import clock
from agora.core.models import AuditLog
from agora.payments.models import Refund
from tests.web.vendor_ops.conftest import Shop, monday
from tests.web.vendor_ops.helpers import actions, html, last_audit, text

pytestmark = pytest.mark.django_db


def _status(booking: Booking) -> str:
    booking.refresh_from_db()
    return booking.status


# --- who may open the pages ----------------------------------------------------------------


def test_signed_out_visitors_are_sent_to_sign_in(shop: Shop, client: Any) -> None:
    booking = shop.pending(monday(10))
    for path in ("/vendor/bookings/", f"/vendor/bookings/{booking.pk}/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/?next=/vendor/bookings/")
    response = client.post(f"/vendor/bookings/{booking.pk}/accept/")
    assert response.status_code == 302
    assert _status(booking) == "pending"


def test_a_customer_without_a_vendor_gets_403_even_for_their_own_booking(
    shop: Shop, client_as: Any
) -> None:
    booking = shop.pending(monday(10))
    client = client_as(shop.customer)

    assert client.get("/vendor/bookings/").status_code == 403
    assert client.get(f"/vendor/bookings/{booking.pk}/").status_code == 403
    assert client.post(f"/vendor/bookings/{booking.pk}/accept/").status_code == 403
    assert _status(booking) == "pending"


def test_another_vendors_booking_is_not_found_and_stays_as_it_was(
    shop: Shop, client_as: Any
) -> None:
    foreign = shop.pending(monday(10), listing=shop.other_service)
    audit_rows = AuditLog.objects.count()
    client = client_as(shop.owner)

    assert client.get(f"/vendor/bookings/{foreign.pk}/").status_code == 404
    for action in ("accept", "decline", "start", "complete", "no-show", "cancel"):
        response = client.post(f"/vendor/bookings/{foreign.pk}/{action}/")
        assert response.status_code == 404, action
        assert "No such booking." in text(response)
    assert _status(foreign) == "pending"
    assert AuditLog.objects.count() == audit_rows
    assert client.get("/vendor/bookings/999999/").status_code == 404


def test_working_for_one_vendor_hides_the_other_vendors_bookings_of_the_same_person(
    shop: Shop, client_as: Any
) -> None:
    from tests.factories import VendorMembershipFactory

    VendorMembershipFactory(vendor=shop.other_vendor, user=shop.staff, role="staff")
    ours = shop.pending(monday(10))
    theirs = shop.pending(monday(11), listing=shop.other_service)
    client = client_as(shop.staff)

    listing = html(client.get(f"/vendor/bookings/?vendor={shop.vendor.pk}"))
    assert f"/vendor/bookings/{ours.pk}/" in listing
    assert f"/vendor/bookings/{theirs.pk}/" not in listing
    assert client.get(f"/vendor/bookings/{theirs.pk}/").status_code == 404

    switched = client.get(f"/vendor/bookings/{theirs.pk}/?vendor={shop.other_vendor.pk}")
    assert switched.status_code == 200
    assert "Brixton Tyres" in text(switched)


# --- the list ---------------------------------------------------------------------------------


def test_the_list_shows_the_vendors_bookings_latest_first_with_a_status_filter(
    shop: Shop, client_as: Any
) -> None:
    first = shop.accepted(monday(10))
    second = shop.pending(monday(9, days=1))
    client = client_as(shop.staff)

    response = client.get("/vendor/bookings/")
    assert response.status_code == 200
    body = html(response)
    assert body.index(f"#{second.pk}<") < body.index(f"#{first.pk}<")
    page = text(response)
    assert "Tue 6 Jan 2026 09:00 Full service Alice Buyer — 45.99 GBP Awaiting vendor" in page
    assert "Mon 5 Jan 2026 10:00 Full service Alice Buyer — 45.99 GBP Accepted" in page

    filtered = client.get("/vendor/bookings/?status=accepted")
    assert f"/vendor/bookings/{first.pk}/" in html(filtered)
    assert f"/vendor/bookings/{second.pk}/" not in html(filtered)
    assert '<option value="accepted" selected>' in html(filtered)

    none = client.get("/vendor/bookings/?status=completed")
    assert "No bookings with this status." in text(none)


def test_an_unknown_status_filter_is_a_clear_error(shop: Shop, client_as: Any) -> None:
    response = client_as(shop.staff).get("/vendor/bookings/?status=lost")
    assert response.status_code == 422
    assert "Unknown status 'lost'" in text(response)


def test_the_list_pages_with_a_cursor(shop: Shop, client_as: Any) -> None:
    from tests.factories import BookingFactory

    made = [
        BookingFactory(
            listing=shop.service,
            customer=shop.customer,
            status="completed",
            start=monday(9, days=-d),
        )
        for d in range(1, 31)
    ]
    client = client_as(shop.staff)

    first = client.get("/vendor/bookings/")
    body = html(first)
    assert body.count('<td><a href="/vendor/bookings/') == 25
    cursor = body.split("cursor=")[1].split('"')[0]
    second = html(client.get(f"/vendor/bookings/?cursor={cursor}"))
    assert second.count('<td><a href="/vendor/bookings/') == 5
    assert f"/vendor/bookings/{made[-1].pk}/" in second


def test_the_list_keeps_its_query_count_flat(
    shop: Shop, client_as: Any, django_assert_max_num_queries: Any
) -> None:
    for hour in range(9, 17):
        shop.pending(monday(hour))
    client = client_as(shop.staff)
    client.get("/vendor/bookings/")

    # + 1: the header's notification bell (one COUNT of unread notifications)
    with django_assert_max_num_queries(11 + 1):
        response = client.get("/vendor/bookings/")
    assert text(response).count("Awaiting vendor") == 8 + 1  # rows + the filter's option


# --- one booking -------------------------------------------------------------------------------


def test_the_detail_shows_the_booking_its_history_and_the_moves_it_allows(
    shop: Shop, client_as: Any
) -> None:
    booking = shop.pending(monday(10))

    response = client_as(shop.staff).get(f"/vendor/bookings/{booking.pk}/")

    assert response.status_code == 200
    page = text(response)
    assert f"Booking #{booking.pk}" in page
    assert "Status: Awaiting vendor" in page
    assert "Monday 5 January 2026, 10:00–11:00 (Europe/London)" in page
    assert f"Customer Alice Buyer <{shop.customer.email}>" in page
    assert "Price 45.99 GBP paid 5 Jan 08:00" in page
    assert "held 5 Jan 2026 08:00 by the customer" in page
    assert "pending 5 Jan 2026 08:00 by the customer — paid" in page
    body = html(response)
    assert f'action="/vendor/bookings/{booking.pk}/accept/"' in body
    assert f'action="/vendor/bookings/{booking.pk}/decline/"' in body
    assert f'action="/vendor/bookings/{booking.pk}/complete/"' not in body
    assert 'name="csrfmiddlewaretoken"' in body
    assert f'hx-post="/vendor/bookings/{booking.pk}/accept/"' in body


# --- the moves ---------------------------------------------------------------------------------


def test_staff_accept_then_start_then_complete_with_an_audit_row_each(
    shop: Shop, client_as: Any
) -> None:
    booking = shop.pending(monday(10))
    client = client_as(shop.staff)

    response = client.post(f"/vendor/bookings/{booking.pk}/accept/")
    assert response.status_code == 302
    assert response["Location"] == f"/vendor/bookings/{booking.pk}/"
    assert _status(booking) == "accepted"
    assert booking.accepted_at == clock.now()
    entry = last_audit(booking)
    assert (entry.action, entry.actor_id) == ("booking.accepted", shop.staff.pk)
    assert "Booking accepted." in text(client.get(response["Location"]))

    client.post(f"/vendor/bookings/{booking.pk}/start/")
    assert _status(booking) == "in_progress"
    client.post(f"/vendor/bookings/{booking.pk}/complete/")
    assert _status(booking) == "completed"
    assert booking.completed_at == clock.now()
    assert actions(booking) == [
        "booking.held",
        "booking.pending",
        "booking.accepted",
        "booking.in_progress",
        "booking.completed",
    ]
    assert last_audit(booking).actor_id == shop.staff.pk


def test_decline_keeps_the_reason_and_refunds_the_customer(shop: Shop, client_as: Any) -> None:
    booking = shop.pending(monday(10))

    response = client_as(shop.manager).post(
        f"/vendor/bookings/{booking.pk}/decline/", {"reason": "The lift is broken"}
    )

    assert response.status_code == 302
    assert _status(booking) == "declined"
    entry = last_audit(booking)
    assert entry.action == "booking.declined"
    assert entry.data["reason"] == "The lift is broken"
    assert entry.actor_id == shop.manager.pk
    refund = Refund.objects.get()
    assert refund.amount == 4599


def test_a_reason_longer_than_allowed_is_refused_and_changes_nothing(
    shop: Shop, client_as: Any
) -> None:
    booking = shop.pending(monday(10))

    response = client_as(shop.owner).post(
        f"/vendor/bookings/{booking.pk}/decline/", {"reason": "x" * 501}
    )

    assert response.status_code == 422
    assert "reason: Ensure this value has at most 500 characters" in text(response)
    assert _status(booking) == "pending"
    assert not Refund.objects.exists()


def test_an_illegal_move_is_shown_as_a_clear_message_and_changes_nothing(
    shop: Shop, client_as: Any
) -> None:
    booking = shop.pending(monday(10))
    audit_rows = AuditLog.objects.count()
    client = client_as(shop.staff)

    response = client.post(f"/vendor/bookings/{booking.pk}/complete/")

    assert response.status_code == 409
    page = text(response)
    assert "A booking cannot move from 'pending' to 'completed'." in page
    assert "Status: Awaiting vendor" in page  # still the booking's page, with its buttons
    assert f'action="/vendor/bookings/{booking.pk}/accept/"' in html(response)
    assert _status(booking) == "pending"
    assert AuditLog.objects.count() == audit_rows


def test_accepting_twice_says_so(shop: Shop, client_as: Any) -> None:
    booking = shop.accepted(monday(10))

    response = client_as(shop.staff).post(f"/vendor/bookings/{booking.pk}/accept/")

    assert response.status_code == 409
    assert "Only a paid booking awaiting the vendor can be accepted; this one is accepted." in text(
        response
    )


def test_no_show_only_after_the_start(shop: Shop, client_as: Any) -> None:
    booking = shop.accepted(monday(10))
    client = client_as(shop.staff)

    early = client.post(f"/vendor/bookings/{booking.pk}/no-show/")
    assert early.status_code == 409
    assert "A booking can be marked no-show only after its start." in text(early)
    assert _status(booking) == "accepted"
    detail = html(client.get(f"/vendor/bookings/{booking.pk}/"))
    assert f'action="/vendor/bookings/{booking.pk}/no-show/"' not in detail

    clock.advance(timedelta(hours=2, minutes=30))
    detail = html(client.get(f"/vendor/bookings/{booking.pk}/"))
    assert f'action="/vendor/bookings/{booking.pk}/no-show/"' in detail
    client.post(f"/vendor/bookings/{booking.pk}/no-show/")
    assert _status(booking) == "no_show"
    assert last_audit(booking).action == "booking.no_show"


def test_the_vendor_cancels_an_accepted_booking_with_a_full_refund(
    shop: Shop, client_as: Any
) -> None:
    booking = shop.accepted(monday(10))

    client_as(shop.owner).post(
        f"/vendor/bookings/{booking.pk}/cancel/", {"reason": "Mechanic off sick"}
    )

    assert _status(booking) == "cancelled"
    entry = last_audit(booking)
    assert entry.data["by"] == "vendor"
    assert entry.data["reason"] == "Mechanic off sick"
    assert Refund.objects.get().amount == 4599


def test_an_unknown_action_is_not_found(shop: Shop, client_as: Any) -> None:
    booking = shop.pending(monday(10))
    response = client_as(shop.owner).post(f"/vendor/bookings/{booking.pk}/approve/")
    assert response.status_code == 404
    assert _status(booking) == "pending"


def test_moves_need_post_and_csrf(shop: Shop, client_as: Any) -> None:
    from django.test import Client

    booking = shop.pending(monday(10))
    assert client_as(shop.owner).get(f"/vendor/bookings/{booking.pk}/accept/").status_code == 405

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(shop.owner)
    assert strict.post(f"/vendor/bookings/{booking.pk}/accept/").status_code == 403
    assert _status(booking) == "pending"


def test_a_move_from_the_agenda_returns_to_the_agenda(shop: Shop, client_as: Any) -> None:
    booking = shop.pending(monday(10))

    response = client_as(shop.staff).post(
        f"/vendor/bookings/{booking.pk}/accept/", {"next": "/vendor/?day=2026-01-05"}
    )
    assert response["Location"] == "/vendor/?day=2026-01-05"

    other = shop.pending(monday(11))
    away = client_as(shop.staff).post(
        f"/vendor/bookings/{other.pk}/accept/", {"next": "https://evil.example/"}
    )
    assert away["Location"] == f"/vendor/bookings/{other.pk}/"


# --- htmx ---------------------------------------------------------------------------------------


def test_htmx_gets_the_agenda_row_back_in_place(shop: Shop, client_as: Any) -> None:
    booking = shop.pending(monday(10))

    response = client_as(shop.staff).post(
        f"/vendor/bookings/{booking.pk}/accept/", {"view": "row"}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    body = html(response)
    assert body.strip().startswith("<li")
    assert f'id="booking-{booking.pk}-row"' in body
    assert "<html" not in body
    assert "Booking accepted." in body
    assert f'action="/vendor/bookings/{booking.pk}/start/"' in body
    assert response["HX-Trigger"] == "vendor-agenda-changed"
    assert _status(booking) == "accepted"


def test_htmx_gets_the_card_with_the_refusal_in_it(shop: Shop, client_as: Any) -> None:
    booking = shop.pending(monday(10))

    response = client_as(shop.staff).post(
        f"/vendor/bookings/{booking.pk}/start/", {"view": "card"}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200  # htmx swaps only 2xx answers
    body = html(response)
    assert f'id="booking-{booking.pk}-card"' in body
    assert 'role="alert"' in body
    assert "A booking cannot move from &#x27;pending&#x27; to &#x27;in_progress&#x27;." in body
    assert "HX-Trigger" not in response
    assert _status(booking) == "pending"
