"""DELETE /me and the page's flow: personal data erased or anonymised, the ledger,
orders, reviews and messages kept whole; refused while something is under way; the
account never signs in again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth import SESSION_KEY
from django.db.models import Model
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from agora.accounts.models import ApiToken, User
from agora.accounts.privacy.selectors import personal_data_export
from agora.bookings.models import Booking
from agora.core import clock
from agora.core.models import AuditLog
from agora.notifications.models import Notification, NotificationPreference
from agora.orders.models import Cart, Checkout, OrderLine, VendorOrder
from agora.payments import ledger
from agora.payments.models import JournalEntry, JournalTransaction, LedgerAccount, Payment, Refund
from agora.reviews.models import Review
from agora.vendors.models import VendorMembership
from tests.accounts.privacy_world import PrivacyWorld, make_privacy_world, ok
from tests.accounts.two_factor_helpers import PASSWORD, enrol, send, sign_in
from tests.conftest import ApiClient, assert_problem
from tests.factories import ListingFactory, VendorFactory
from tests.messaging.helpers import NOW, VISA, _hold, tuesday
from tests.vendors.fixtures import media_root
from tests.vendors.helpers import snapshot

__all__ = ["media_root"]

pytestmark = pytest.mark.django_db

# What a deletion must leave exactly as it was: money, sales, the order lines.
KEPT: tuple[type[Model], ...] = (
    LedgerAccount,
    JournalTransaction,
    JournalEntry,
    Payment,
    Refund,
    OrderLine,
)


@pytest.fixture
def now() -> Iterator[datetime]:
    with clock.frozen(NOW):
        yield NOW


@pytest.fixture
def pw(db: Any, now: datetime, media_root: Any) -> PrivacyWorld:
    world = make_privacy_world()
    # Alice shares her other vendor with a co-owner, so she is not its sole owner.
    return world


def delete_me(client: ApiClient, password: str = PASSWORD) -> Any:
    return send(client, "delete", "/me", {"password": password})


def rows_of(*models: type[Model]) -> dict[str, list[dict[str, Any]]]:
    return snapshot(*models)


def reconciliation(pw: PrivacyWorld) -> dict[str, Any]:
    body: dict[str, Any] = ok(pw.world.as_operator.get("/operator/reconciliation"))
    return body


# --- what is erased, what is kept -----------------------------------------------------------------


def test_deleting_erases_the_person_and_keeps_the_ledger_orders_and_reviews(
    pw: PrivacyWorld,
) -> None:
    alice = pw.alice
    kept_before = rows_of(*KEPT)
    booking_before = Booking.objects.values().get(pk=pw.booking.pk)
    order_before = VendorOrder.objects.values().get(pk=pw.order.pk)
    reconciled_before = reconciliation(pw)
    assert reconciled_before["differences"] == []
    other_token = ApiClient(sign_in(alice).json()["access_token"])

    response = delete_me(pw.as_alice)

    assert response.status_code == 204, response.content
    alice.refresh_from_db()
    assert (alice.name, alice.email) == ("Deleted user", f"deleted-{alice.pk}@deleted.invalid")
    assert not alice.has_usable_password()
    assert (alice.is_active, alice.is_operator, alice.is_staff) == (False, False, False)
    assert alice.deleted_at == NOW
    # tokens, memberships, notices, preferences, cart: gone
    assert not ApiToken.objects.filter(user=alice).exists()
    assert_problem(pw.as_alice.get("/me"), 401, "not_authenticated")
    assert_problem(other_token.get("/me"), 401, "not_authenticated")
    assert not VendorMembership.objects.filter(user=alice).exists()
    assert not Notification.objects.filter(user=alice).exists()
    assert not NotificationPreference.objects.filter(user=alice).exists()
    assert not Cart.objects.filter(user=alice).exists()
    # her address on the checkout: blanked but for the country
    assert Checkout.objects.get(pk=pw.order.checkout_id).shipping_address == {
        "name": "Deleted user",
        "line1": "",
        "line2": "",
        "city": "",
        "postcode": "",
        "country": "GB",
    }
    # money, sales and order lines exactly as they were; the ledger balances and reconciles
    assert rows_of(*KEPT) == kept_before
    assert ledger.trial_balance() == {"GBP": 0}
    assert ledger.unbalanced_transactions() == []
    assert reconciliation(pw) == reconciled_before
    # the booking and the order keep their amounts, statuses and times
    assert Booking.objects.values().get(pk=pw.booking.pk) == {**booking_before, "notes": ""}
    assert VendorOrder.objects.values().get(pk=pw.order.pk) == order_before
    # the review and the messages stay, by "Deleted user"
    review = Review.objects.select_related("author").get(booking=pw.booking)
    assert (review.author.name, review.text, review.rating) == (
        "Deleted user",
        "Friendly and quick work.",
        5,
    )
    thread = ok(pw.world.as_owner.get(f"/bookings/{pw.booking.pk}/messages"))["items"]
    authors = {m["text"]: m["author"] for m in thread}
    assert authors["Is parking free?"]["name"] == "Deleted"  # first names only, as for anyone
    public = ok(ApiClient().get(f"/vendors/{pw.world.vendor.pk}/reviews"))
    assert "Alice" not in json.dumps(public)
    # audited
    entry = AuditLog.objects.get(action="user.deleted")
    assert (entry.object_id, entry.actor_id) == (str(alice.pk), alice.pk)
    assert entry.data["tokens"] >= 1
    assert entry.data["memberships"] == 1


def test_deleting_touches_nobody_else(pw: PrivacyWorld) -> None:
    carol = pw.carol
    carols = personal_data_export(user=carol).document
    carol_row = User.objects.values().get(pk=carol.pk)

    assert delete_me(pw.as_alice).status_code == 204

    assert User.objects.values().get(pk=carol.pk) == carol_row
    after = personal_data_export(user=carol).document
    assert {k: v for k, v in after.items() if k != "exported_at"} == {
        k: v for k, v in carols.items() if k != "exported_at"
    }
    assert ok(pw.as_carol.get("/me"))["email"] == carol.email


def test_the_deleted_account_can_never_sign_in_again(pw: PrivacyWorld) -> None:
    old_email = pw.alice.email
    assert delete_me(pw.as_alice).status_code == 204

    for email in (old_email, f"deleted-{pw.alice.pk}@deleted.invalid"):
        response = ApiClient().post("/auth/token", {"email": email, "password": PASSWORD})
        assert_problem(response, 401, "invalid_credentials")
    page = Client().post("/login/", {"email": old_email, "password": PASSWORD})
    assert page.status_code == 400
    # the address is free for a new account, which is someone new
    again = ApiClient().post(
        "/auth/register", {"email": old_email, "password": "a-new-long-passphrase", "name": "A"}
    )
    assert again.status_code == 201
    assert again.json()["id"] != pw.alice.pk


def test_the_export_after_deletion_holds_no_personal_data(pw: PrivacyWorld) -> None:
    before = personal_data_export(user=pw.alice).document
    assert delete_me(pw.as_alice).status_code == 204
    pw.alice.refresh_from_db()

    after = personal_data_export(user=pw.alice).document
    text = json.dumps(after)

    for personal in ("Alice", "alice", "1 High Street", "N1 1AA", before["profile"]["email"]):
        assert personal not in text, personal
    assert after["profile"]["name"] == "Deleted user"
    assert after["profile"]["deleted_at"] == NOW.isoformat()
    assert after["notifications"] == []
    assert after["api_tokens"] == []
    assert after["vendor_memberships"] == []
    # the records stay, so the marketplace's figures still add up
    assert [b["id"] for b in after["bookings"]] == [pw.booking.pk]
    assert after["payments"] == before["payments"]


def test_sessions_end_with_the_deletion(pw: PrivacyWorld) -> None:
    browser = Client()
    browser.force_login(pw.alice)
    assert browser.get("/account/").status_code == 200

    assert delete_me(pw.as_alice).status_code == 204

    response = browser.get("/account/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_two_factor_devices_go_with_the_account(pw: PrivacyWorld) -> None:
    enrol(pw.as_alice)
    assert TOTPDevice.objects.filter(user=pw.alice).exists()

    assert delete_me(pw.as_alice).status_code == 204

    assert not TOTPDevice.objects.filter(user=pw.alice).exists()
    pw.alice.refresh_from_db()
    assert pw.alice.otp_enabled_at is None


# --- refusals -----------------------------------------------------------------------------------


def assert_refused(pw: PrivacyWorld, *expected: dict[str, Any]) -> None:
    before = User.objects.values().get(pk=pw.alice.pk)
    response = delete_me(pw.as_alice)
    body = assert_problem(response, 409, "account_has_obligations")
    assert [{"kind": o["kind"], "id": o["id"]} for o in body["obligations"]] == list(expected)
    assert User.objects.values().get(pk=pw.alice.pk) == before
    assert ok(pw.as_alice.get("/me"))["name"] == "Alice Buyer"


def test_a_wrong_password_is_refused_and_changes_nothing(pw: PrivacyWorld) -> None:
    before = User.objects.values().get(pk=pw.alice.pk)

    assert_problem(delete_me(pw.as_alice, "not-my-password"), 401, "invalid_credentials")

    assert User.objects.values().get(pk=pw.alice.pk) == before


def test_an_upcoming_confirmed_booking_is_refused(pw: PrivacyWorld) -> None:
    upcoming = _hold(pw.as_alice, pw.world.service, tuesday(14))
    ok(pw.as_alice.post(f"/bookings/{upcoming.pk}/pay", {"payment_method": VISA}))

    assert_refused(pw, {"kind": "booking", "id": upcoming.pk})

    # once it is over, the account may go
    ok(pw.world.as_owner.post(f"/bookings/{upcoming.pk}/decline", {"reason": "closed"}))
    assert delete_me(pw.as_alice).status_code == 204


def test_a_live_unpaid_hold_does_not_stand_in_the_way(pw: PrivacyWorld) -> None:
    _hold(pw.as_alice, pw.world.service, tuesday(14))

    assert delete_me(pw.as_alice).status_code == 204


def test_a_paid_order_not_yet_shipped_is_refused(pw: PrivacyWorld) -> None:
    response = pw.as_alice.post(
        "/checkout",
        {
            "items": [{"listing_id": pw.world.product.pk, "quantity": 1}],
            "shipping_address": {
                "name": "Alice",
                "line1": "1 High Street",
                "city": "London",
                "postcode": "N1 1AA",
                "country": "GB",
            },
            "payment_method": VISA,
        },
        idempotency_key="second-order",
    )
    order_id = ok(response, 201)["orders"][0]["id"]

    assert_refused(pw, {"kind": "order", "id": order_id})


def test_an_open_dispute_is_refused(pw: PrivacyWorld) -> None:
    dispute = ok(
        pw.world.as_operator.post(
            "/operator/disputes",
            {"booking_id": pw.booking.pk, "reason": "chargeback"},
            idempotency_key="dispute-1",
        ),
        201,
    )

    assert_refused(pw, {"kind": "dispute", "id": dispute["id"]})


def test_the_sole_owner_of_a_vendor_is_refused(pw: PrivacyWorld) -> None:
    shop = VendorFactory(name="Alice Alone", owner=pw.alice)
    ListingFactory(vendor=shop)

    assert_refused(pw, {"kind": "vendor", "id": shop.pk})


def test_every_obligation_is_listed_at_once(pw: PrivacyWorld) -> None:
    upcoming = _hold(pw.as_alice, pw.world.service, tuesday(14))
    ok(pw.as_alice.post(f"/bookings/{upcoming.pk}/pay", {"payment_method": VISA}))
    shop = VendorFactory(name="Alice Alone", owner=pw.alice)

    assert_refused(pw, {"kind": "booking", "id": upcoming.pk}, {"kind": "vendor", "id": shop.pk})


def test_a_past_booking_the_vendor_never_completed_does_not_block_forever(
    pw: PrivacyWorld,
) -> None:
    late = _hold(pw.as_alice, pw.world.service, tuesday(14))
    ok(pw.as_alice.post(f"/bookings/{late.pk}/pay", {"payment_method": VISA}))
    clock.advance(timedelta(days=3))

    assert delete_me(pw.as_alice).status_code == 204


# --- the page ----------------------------------------------------------------------------------


def test_the_page_deletes_the_account_and_signs_out(pw: PrivacyWorld) -> None:
    browser = Client()
    browser.force_login(pw.alice)
    page = browser.get("/account/privacy/")
    assert 'action="/account/privacy/delete/"' in page.content.decode()

    wrong = browser.post("/account/privacy/delete/", {"password": "nope"})
    assert wrong.status_code == 400
    assert "That is not your password." in wrong.content.decode()

    response = browser.post("/account/privacy/delete/", {"password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert SESSION_KEY not in browser.session
    pw.alice.refresh_from_db()
    assert pw.alice.deleted_at == NOW


def test_the_page_lists_what_stands_in_the_way(pw: PrivacyWorld) -> None:
    VendorFactory(name="Alice Alone", owner=pw.alice)
    browser = Client()
    browser.force_login(pw.alice)

    response = browser.post("/account/privacy/delete/", {"password": PASSWORD})

    assert response.status_code == 409
    assert "sole owner of Alice Alone" in response.content.decode()
    pw.alice.refresh_from_db()
    assert pw.alice.deleted_at is None


def test_an_open_quote_request_is_refused_and_closed_ones_lose_their_words(
    pw: PrivacyWorld,
) -> None:
    from agora.quotes.models import QuoteRequest
    from agora.verticals.automotive.models import Vehicle
    from tests.accounts.privacy_world import quote_request_for

    assert pw.as_alice.post("/me/vehicles", {"registration": "AB12CDE"}).status_code == 201
    request = quote_request_for(pw.alice, "Boiler service", "The boiler in the loft ticks.")

    assert_refused(pw, {"kind": "quote_request", "id": request.pk})

    QuoteRequest.objects.filter(pk=request.pk).update(status="cancelled")
    assert delete_me(pw.as_alice).status_code == 204
    request.refresh_from_db()
    assert (request.title, request.description, request.answers) == ("Boiler service", "", {})
    vehicle = Vehicle.objects.get(owner=pw.alice)
    assert vehicle.removed_at == NOW  # out of the garage: no more MOT reminders
