"""GET /me/export and the page's download: everything about the person, nothing about
anyone else, in a bounded number of queries."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from django.test import Client

from agora.accounts.privacy.selectors import personal_data_export
from agora.core import clock
from agora.messaging.models import Message
from agora.notifications.models import Notification
from tests.accounts.privacy_world import PrivacyWorld, make_privacy_world
from tests.conftest import assert_problem
from tests.messaging.helpers import NOW
from tests.vendors.fixtures import media_root

__all__ = ["media_root"]

pytestmark = pytest.mark.django_db


@pytest.fixture
def now() -> Iterator[datetime]:
    with clock.frozen(NOW):
        yield NOW


@pytest.fixture
def pw(db: Any, now: datetime, media_root: Any) -> PrivacyWorld:
    return make_privacy_world()


def export_of(pw: PrivacyWorld) -> dict[str, Any]:
    response = pw.as_alice.get("/me/export")
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


def test_the_export_is_a_download_of_the_persons_data(pw: PrivacyWorld) -> None:
    response = pw.as_alice.get("/me/export")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"] == (
        f'attachment; filename="agora-data-{pw.alice.pk}-2026-01-05.json"'
    )
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["format_version"] == 1
    assert body["exported_at"] == "2026-01-05T08:00:00+00:00"
    assert body["profile"] == {
        "id": pw.alice.pk,
        "email": pw.alice.email,
        "name": "Alice Buyer",
        "roles": ["customer", "vendor_staff"],
        "date_joined": pw.alice.date_joined.isoformat(),
        "last_login": None,
        "deleted_at": None,
        "two_factor": {"enabled": False, "enabled_at": None, "recovery_codes_left": 0},
    }
    assert body["vendor_memberships"] == [
        {
            "vendor_id": pw.alices_other_vendor.pk,
            "vendor": "Alice & Co",
            "role": "owner",
            "since": "2026-01-05T08:00:00+00:00",
        }
    ]


def test_the_export_holds_bookings_orders_payments_and_addresses(pw: PrivacyWorld) -> None:
    body = export_of(pw)

    [booking] = body["bookings"]
    assert booking["id"] == pw.booking.pk
    assert (booking["status"], booking["listing"], booking["vendor"]) == (
        "reviewed",
        "Full service",
        "Camden Motors",
    )
    assert booking["price"] == {"amount": 4599, "currency": "GBP"}
    assert booking["start"] == pw.booking.start.isoformat()
    [checkout] = body["checkouts"]
    assert checkout["id"] == pw.order.checkout_id
    assert checkout["shipping_address"] == {
        "name": "Alice Buyer",
        "line1": "1 High Street",
        "line2": "",
        "city": "London",
        "postcode": "N1 1AA",
        "country": "GB",
    }
    assert body["addresses"] == [
        {"address": checkout["shipping_address"], "checkout_ids": [pw.order.checkout_id]}
    ]
    [order] = body["orders"]
    assert (order["id"], order["status"], order["vendor"]) == (
        pw.order.pk,
        "delivered",
        "Camden Motors",
    )
    assert order["lines"] == [
        {
            "title": "Wiper blades",
            "quantity": 1,
            "unit_price": {"amount": 1299, "currency": "GBP"},
            "total": {"amount": 1299, "currency": "GBP"},
        }
    ]
    assert (order["carrier"], order["tracking_number"]) == ("Royal Mail", "RM123456789GB")
    payments = {p["reference"]: p for p in body["payments"]}
    assert set(payments) == {f"booking:{pw.booking.pk}", f"order:{pw.order.pk}"}
    assert payments[f"booking:{pw.booking.pk}"]["amount"] == {"amount": 4599, "currency": "GBP"}
    assert payments[f"order:{pw.order.pk}"]["amount"] == {
        "amount": pw.order.total_amount,
        "currency": "GBP",
    }
    for payment in payments.values():
        assert payment["payment_method"] == "pm_card_visa"
        assert payment["refunded"] == {"amount": 0, "currency": "GBP"}
        # what the customer paid, not the vendor's split or the gateway's internals
        assert not {"commission", "fee", "charge_id", "vendor_id"} & set(payment)


def test_the_export_holds_what_the_person_wrote_and_was_told(pw: PrivacyWorld) -> None:
    body = export_of(pw)

    assert [m["text"] for m in body["messages"]] == ["Is parking free?", "Thanks, arrived safely"]
    assert [m["about"] for m in body["messages"]] == [
        f"booking:{pw.booking.pk}",
        f"order:{pw.order.pk}",
    ]
    [review] = body["reviews"]
    assert (review["rating"], review["text"], review["booking_id"]) == (
        5,
        "Friendly and quick work.",
        pw.booking.pk,
    )
    notices = Notification.objects.filter(user=pw.alice).order_by("created_at", "pk")
    assert [n["title"] for n in body["notifications"]] == [n.title for n in notices]
    assert len(body["notifications"]) >= 3
    reviews = next(p for p in body["notification_preferences"] if p["group"] == "reviews")
    assert reviews == {"group": "reviews", "email": False, "in_app": True}
    assert [t["prefix"][:6] for t in body["api_tokens"]] == ["agora_"]


def test_the_export_holds_nothing_of_another_person(pw: PrivacyWorld) -> None:
    body = export_of(pw)
    text = json.dumps(body)

    carol = pw.carol
    assert carol.email not in text
    assert "Carol" not in text  # her name, her message, her review
    assert str(pw.carols_booking.pk) not in {str(b["id"]) for b in body["bookings"]}
    assert f"booking:{pw.carols_booking.pk}" not in text
    assert f"order:{pw.carols_order.pk}" not in text
    # the vendor's reply is not among the messages she wrote (its notice to her is hers)
    assert "Yes, at the back." not in json.dumps(body["messages"])
    assert Message.objects.filter(text="Yes, at the back.").exists()


def test_another_persons_export_is_their_own(pw: PrivacyWorld) -> None:
    carols = pw.as_carol.get("/me/export").json()

    assert carols["profile"]["email"] == pw.carol.email
    assert [b["id"] for b in carols["bookings"]] == [pw.carols_booking.pk]
    assert pw.alice.email not in json.dumps(carols)


def test_the_export_needs_a_token(pw: PrivacyWorld) -> None:
    from tests.conftest import ApiClient

    assert_problem(ApiClient().get("/me/export"), 401, "not_authenticated")


def test_the_export_takes_a_bounded_number_of_queries(
    pw: PrivacyWorld, django_assert_max_num_queries: Any
) -> None:
    # Given ten more messages (and their notices), the count is the same
    for n in range(10):
        pw.world.send(pw.as_alice, f"/bookings/{pw.booking.pk}/messages", f"message {n}")
    small = personal_data_export(user=pw.alice)

    with django_assert_max_num_queries(19):
        big = personal_data_export(user=pw.alice)

    assert len(big.document["messages"]) == len(small.document["messages"]) == 12


def test_the_account_page_downloads_the_same_document(pw: PrivacyWorld) -> None:
    client = Client()
    client.force_login(pw.alice)

    page = client.get("/account/privacy/")
    response = client.get("/account/privacy/export/")

    assert page.status_code == 200
    assert 'href="/account/privacy/export/"' in page.content.decode()
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment; filename=")
    document = json.loads(response.content)
    assert document == export_of(pw) | {"api_tokens": document["api_tokens"]}


def test_the_export_holds_the_garage_and_quote_requests(pw: PrivacyWorld) -> None:
    from tests.accounts.privacy_world import quote_request_for

    ok_vehicle = pw.as_alice.post("/me/vehicles", {"registration": "ab12 cde"})
    assert ok_vehicle.status_code == 201, ok_vehicle.content
    request = quote_request_for(pw.alice, "Boiler service", "The boiler in the loft ticks.")
    quote_request_for(pw.carol, "Carol's fence", "Carol's garden fence")

    body = export_of(pw)

    [vehicle] = body["vehicles"]
    assert (vehicle["registration"], vehicle["removed_at"]) == ("AB12CDE", None)
    assert [(r["id"], r["title"], r["description"]) for r in body["quote_requests"]] == [
        (request.pk, "Boiler service", "The boiler in the loft ticks.")
    ]
