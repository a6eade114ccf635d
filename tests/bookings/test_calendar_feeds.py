"""Calendar feed addresses: one per person, revocable, and carrying only what a calendar needs.

A feed URL is a bearer secret anyone who holds it can read, so: each staff member gets
their own (GET /vendors/{id}/calendar-feed), it stops working when they leave the staff,
when they rotate it and when they stop it, only its SHA-256 is stored, and the feed holds
a customer's first name, the service, the vehicle and the booking's reference and page —
never a surname, an e-mail address, notes or a pickup address. Addresses of the old
signed kind (one per vendor, never revocable) no longer open anything.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.core import signing
from icalendar import Calendar

from agora.bookings.models import Booking, CalendarFeedToken, Resource
from agora.core.audit import audit_trail
from agora.core.models import IdempotencyKey
from agora.vendors.models import VendorMembership
from agora.verticals.automotive.models import Vehicle
from tests.bookings.helpers import Shop, make_shop, tuesday
from tests.conftest import ApiClient, assert_problem
from tests.factories import UserFactory, VendorMembershipFactory
from tests.vendors.helpers import client_for

ORIGIN = "http://testserver"


def feed_url(client: ApiClient, shop: Shop, **params: Any) -> str:
    response = client.get(f"/vendors/{shop.vendor.pk}/calendar-feed", **params)
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    url: str = response.json()["url"]
    assert url.startswith(f"{ORIGIN}/api/v1/calendar/cal_")
    assert url.endswith(".ics")
    return url


def fetch(url: str) -> Any:
    """What a calendar app gets: no bearer token, just the address."""
    return ApiClient().client.get(url.removeprefix(ORIGIN))


def events(url: str) -> list[Any]:
    response = fetch(url)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Cache-Control"] == "private, no-store"
    return list(Calendar.from_ical(response.content).walk("VEVENT"))


def token_of(url: str) -> str:
    return url.removeprefix(f"{ORIGIN}/api/v1/calendar/").removesuffix(".ics")


def gone(url: str) -> None:
    assert_problem(fetch(url), 404, "not_found")


@pytest.fixture
def private_booking(shop: Shop) -> Booking:
    """A paid booking whose customer left a full name, an e-mail, notes and a pickup."""
    shop.customer.name = "Annabel Quintessa-Privet"
    shop.customer.email = "annabel.privet@example.test"
    shop.customer.save(update_fields=["name", "email"])
    booking = shop.paid(tuesday(10), notes="Gate code 4471; my husband Lionel will drop off")
    Booking.objects.filter(pk=booking.pk).update(
        pickup={"address": "7 Quarry Lane, Camden NW1 8QP", "window": "08:00-09:00"}
    )
    return booking


# --- what the feed carries -------------------------------------------------------------------


def test_the_feed_carries_the_service_first_name_and_reference_and_nothing_private(
    shop: Shop, private_booking: Booking
) -> None:
    # Given a paid booking of a customer who gave their full name, notes and a pickup
    url = feed_url(shop.as_staff, shop)

    # When a calendar app reads the staff member's feed
    body = fetch(url).content.decode()
    [event] = events(url)

    # Then the event names the service and the customer's first name, and links the
    # booking's page in the vendor portal
    page = f"http://127.0.0.1:8000/vendor/bookings/{private_booking.pk}/?vendor={shop.vendor.pk}"
    assert str(event["summary"]) == "Full service — Annabel"
    assert str(event["description"]) == f"Booking {private_booking.pk}: {page}"
    assert str(event["url"]) == page
    assert (event["dtstart"].dt, str(event["status"])) == (tuesday(10), "TENTATIVE")
    # and nothing else about the customer: no surname, no e-mail, no notes, no address
    for private in ("Quintessa", "Privet", "annabel.privet", "@example", "Gate", "4471"):
        assert private not in body, private
    for private in ("Lionel", "Quarry", "NW1"):
        assert private not in body, private


def test_the_feed_names_the_vehicle_the_work_is_for(shop: Shop) -> None:
    # Given a booking for the customer's saved car
    booking = shop.paid(tuesday(10))
    car = Vehicle.objects.create(
        owner=shop.customer, registration="AB12CDE", make="VAUXHALL", model="ASTRA"
    )
    Booking.objects.filter(pk=booking.pk).update(vehicle=car)

    [event] = events(feed_url(shop.as_staff, shop))

    first = shop.customer.name.split()[0]
    assert str(event["summary"]) == f"Full service — {first} — VAUXHALL ASTRA (AB12 CDE)"


# --- one address per person, stored only as a hash ----------------------------------------------


def test_each_person_has_their_own_address_shown_again_and_stored_only_as_a_hash(
    shop: Shop,
) -> None:
    # When the staff member asks twice and the owner once
    first = feed_url(shop.as_staff, shop)
    again = feed_url(shop.as_staff, shop)
    owners = feed_url(shop.as_owner, shop)

    # Then the staff member sees the same address again; the owner has another
    assert again == first
    assert owners != first
    feeds = list(CalendarFeedToken.objects.order_by("pk"))
    assert [(f.user_id, f.vendor_id, f.resource_id, f.revoked_at) for f in feeds] == [
        (shop.staff.pk, shop.vendor.pk, None, None),
        (shop.owner.pk, shop.vendor.pk, None, None),
    ]
    # and only the token's SHA-256 is stored, nowhere the token itself
    token = token_of(first)
    assert feeds[0].token_hash == hashlib.sha256(token.encode()).hexdigest()
    stored = CalendarFeedToken.objects.filter(pk=feeds[0].pk).values().get()
    assert not any(token in str(value) for value in stored.values())
    assert [row.action for row in audit_trail(shop.vendor)][-2:] == [
        "calendar_feed.issued",
        "calendar_feed.issued",
    ]


def test_reading_the_feed_notes_when_it_was_last_used(shop: Shop) -> None:
    url = feed_url(shop.as_staff, shop)
    assert CalendarFeedToken.objects.get().last_used_at is None

    events(url)

    feed = CalendarFeedToken.objects.get()
    assert feed.last_used_at is not None
    response = shop.as_staff.get(f"/vendors/{shop.vendor.pk}/calendar-feed")
    assert response.json()["last_used_at"] is not None


# --- ways an address stops working --------------------------------------------------------------


def test_a_removed_staff_members_feed_is_404(shop: Shop) -> None:
    # Given the staff member's and the owner's feeds, both working
    staff_url, owner_url = feed_url(shop.as_staff, shop), feed_url(shop.as_owner, shop)
    shop.paid(tuesday(10))
    assert len(events(staff_url)) == 1

    # When the owner removes the staff member
    removed = shop.as_owner.delete(f"/vendors/{shop.vendor.pk}/staff/{shop.staff.pk}")
    assert removed.status_code == 204, removed.content

    # Then the removed person's address opens nothing; the owner's still works
    gone(staff_url)
    assert len(events(owner_url)) == 1
    revoked = CalendarFeedToken.objects.get(user=shop.staff)
    assert revoked.revoked_at is not None
    # and taken on again later, they get a new address, not the old one back
    VendorMembershipFactory(vendor=shop.vendor, user=shop.staff, role="staff")
    assert feed_url(shop.as_staff, shop) != staff_url
    gone(staff_url)


def test_a_feed_stops_with_its_persons_membership_however_it_ended(shop: Shop) -> None:
    # Given the staff member's feed
    url = feed_url(shop.as_staff, shop)

    # When their membership ends some other way than staff_remove (an account erased)
    VendorMembership.objects.filter(vendor=shop.vendor, user=shop.staff).delete()

    # Then the feed is 404, and its address is revoked on the way
    gone(url)
    assert CalendarFeedToken.objects.get().revoked_at is not None


def test_a_deactivated_persons_feed_is_404(shop: Shop) -> None:
    url = feed_url(shop.as_staff, shop)
    shop.staff.is_active = False
    shop.staff.save(update_fields=["is_active"])

    gone(url)


def test_rotating_kills_the_old_address_at_once(shop: Shop) -> None:
    # Given the staff member's feed, working
    shop.paid(tuesday(10))
    old = feed_url(shop.as_staff, shop)
    assert len(events(old)) == 1

    # When they rotate it
    response = shop.as_staff.post(f"/vendors/{shop.vendor.pk}/calendar-feed/rotate")

    # Then they get a new address that works, and the old one is 404 from now on
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    new = response.json()["url"]
    assert new != old
    gone(old)
    assert len(events(new)) == 1
    assert feed_url(shop.as_staff, shop) == new
    assert [f.revoked_at is None for f in CalendarFeedToken.objects.order_by("pk")] == [
        False,
        True,
    ]
    assert audit_trail(shop.vendor).last().action == "calendar_feed.rotated"


def test_a_rotated_address_is_never_stored_under_an_idempotency_key(shop: Shop) -> None:
    path = f"/vendors/{shop.vendor.pk}/calendar-feed/rotate"

    first = shop.as_staff.post(path, idempotency_key="rotate-1")
    second = shop.as_staff.post(path, idempotency_key="rotate-1")

    # The secret is not kept for replay: the retry rotates again, and only it works
    assert first.status_code == second.status_code == 200
    assert "Idempotent-Replayed" not in second
    assert not IdempotencyKey.objects.filter(key="rotate-1").exists()
    gone(first.json()["url"])
    assert fetch(second.json()["url"]).status_code == 200


def test_stopping_a_feed_makes_it_404_and_a_later_request_makes_a_new_one(shop: Shop) -> None:
    url = feed_url(shop.as_staff, shop)

    response = shop.as_staff.delete(f"/vendors/{shop.vendor.pk}/calendar-feed")

    assert response.status_code == 204
    gone(url)
    assert feed_url(shop.as_staff, shop) != url


def test_addresses_of_the_old_signed_kind_open_nothing(shop: Shop) -> None:
    # The format before per-person addresses: the vendor's id, signed, never revocable
    shop.paid(tuesday(10))
    old = signing.dumps({"v": shop.vendor.pk, "r": None}, salt="agora.bookings.calendar")

    assert_problem(ApiClient().client.get(f"/api/v1/calendar/{old}.ics"), 404, "not_found")
    tampered = token_of(feed_url(shop.as_staff, shop))
    tampered = tampered[:-1] + ("A" if tampered[-1] != "A" else "B")
    assert_problem(ApiClient().client.get(f"/api/v1/calendar/{tampered}.ics"), 404, "not_found")
    assert_problem(ApiClient().client.get("/api/v1/calendar/nonsense.ics"), 404, "not_found")


# --- tenants ------------------------------------------------------------------------------------


def test_another_vendors_staff_cannot_get_rotate_or_stop_a_feed_of_this_vendor(
    shop: Shop,
) -> None:
    # Given another vendor's owner, and a plain customer
    rival = make_shop()
    outsiders = [rival.as_owner, rival.as_staff, shop.as_customer]
    path = f"/vendors/{shop.vendor.pk}/calendar-feed"

    for client in outsiders:
        assert_problem(client.get(path), 404, "not_found")
        assert_problem(client.post(f"{path}/rotate"), 404, "not_found")
        assert_problem(client.delete(path), 404, "not_found")

    # and nobody got an address
    assert not CalendarFeedToken.objects.exists()


def test_a_feed_of_another_vendors_resource_is_404(shop: Shop) -> None:
    rival = make_shop()
    theirs = Resource.objects.create(vendor=rival.vendor, name="Their bay")
    ours = Resource.objects.create(vendor=shop.vendor, name="Bay 1")

    response = shop.as_staff.get(f"/vendors/{shop.vendor.pk}/calendar-feed", resource_id=theirs.pk)

    assert_problem(response, 404, "not_found")
    assert not CalendarFeedToken.objects.exists()
    url = feed_url(shop.as_staff, shop, resource_id=ours.pk)
    assert CalendarFeedToken.objects.get().resource_id == ours.pk
    assert events(url) == []


def test_a_new_member_of_the_staff_gets_an_address_of_their_own(shop: Shop) -> None:
    newcomer = UserFactory()
    VendorMembershipFactory(vendor=shop.vendor, user=newcomer, role="staff")

    mine, theirs = feed_url(client_for(newcomer), shop), feed_url(shop.as_staff, shop)

    assert mine != theirs
