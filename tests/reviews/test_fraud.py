"""Each fraud rule flags the case it is for — and not its honest neighbour.

A flagged review is stored, not public, not counted, and waits in the moderation queue."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from agora.accounts.models import User
from agora.catalog.models import Listing
from agora.core import clock
from agora.reviews import services
from agora.reviews.models import Review, ReviewStatus
from agora.vendors import services as vendor_services
from tests.conftest import ApiClient
from tests.factories import ListingFactory, UserFactory, VendorFactory, VendorMembershipFactory
from tests.reviews.helpers import Shop, completed_booking, stars, vendor_rating

pytestmark = pytest.mark.django_db

CHROME = "Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Firefox/132.0"
LONG_TEXT = (
    "Booked a full service for my Golf; they collected the car on time, found a worn "
    "brake disc, called me before fitting it and had it back the same afternoon."
)


def write(
    author: User,
    listing: Listing,
    *,
    ip: str,
    agent: str = CHROME,
    text: str = "Good work, fair price.",
    rating: int = 5,
) -> Review:
    booking = completed_booking(author, listing)
    return services.review_create(
        author=author,
        booking_id=booking.pk,
        rating=rating,
        text=text,
        ip_address=ip,
        user_agent=agent,
    )


def reasons(review: Review) -> list[str]:
    review.refresh_from_db()
    return list(review.signals.reasons)


def test_accounts_sharing_an_ip_address_are_flagged_together(shop: Shop) -> None:
    first_account, second_account, neighbour = UserFactory.create_batch(3)
    first = write(first_account, shop.listing, ip="203.0.113.7")
    assert first.status == ReviewStatus.PUBLISHED

    second = write(second_account, shop.listing, ip="203.0.113.7", agent=FIREFOX)
    # the honest neighbour: same browser, another address, same vendor
    honest = write(neighbour, shop.listing, ip="10.44.0.1")

    assert second.status == ReviewStatus.FLAGGED
    assert reasons(second) == ["shared_network"]
    assert second.signals.related_review_ids == [first.pk]
    # the first account's review goes back to the queue too, with the link recorded
    first.refresh_from_db()
    assert first.status == ReviewStatus.FLAGGED
    assert first.signals.related_review_ids == [second.pk]
    assert honest.status == ReviewStatus.PUBLISHED
    assert reasons(honest) == []
    assert vendor_rating(shop.vendor) == (1, 5, stars(five=1))


def test_one_address_reviewing_different_vendors_is_not_flagged(shop: Shop) -> None:
    other_listing = ListingFactory(vendor=VendorFactory())
    household = UserFactory.create_batch(2)

    first = write(household[0], shop.listing, ip="203.0.113.7")
    second = write(household[1], other_listing, ip="203.0.113.7")

    assert (first.status, second.status) == (ReviewStatus.PUBLISHED, ReviewStatus.PUBLISHED)


def test_one_device_hopping_addresses_on_its_network_is_flagged(shop: Shop) -> None:
    a, b, c = UserFactory.create_batch(3)
    write(a, shop.listing, ip="203.0.113.7", agent=CHROME)

    same_device = write(b, shop.listing, ip="203.0.113.99", agent=CHROME)
    other_network = write(c, shop.listing, ip="198.51.100.99", agent=CHROME)

    assert same_device.status == ReviewStatus.FLAGGED
    assert reasons(same_device) == ["shared_network"]
    assert other_network.status == ReviewStatus.PUBLISHED


def test_a_review_an_operator_approved_is_not_flagged_again(
    shop: Shop, operator_user: User
) -> None:
    a, b = UserFactory.create_batch(2)
    first = write(a, shop.listing, ip="203.0.113.7")
    second = write(b, shop.listing, ip="203.0.113.7")
    first = services.review_moderate(
        operator=operator_user, review_id=first.pk, action="approve", reason="known household"
    )

    third = write(UserFactory(), shop.listing, ip="203.0.113.7")

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status, third.status) == ("published", "flagged", "flagged")


def test_a_burst_of_reviews_for_one_vendor_is_flagged(shop: Shop, settings: Any) -> None:
    settings.AGORA_REVIEW_BURST_COUNT = 3
    settings.AGORA_REVIEW_BURST_MINUTES = 60
    other_listing = ListingFactory(vendor=VendorFactory())
    people = UserFactory.create_batch(5)

    one = write(people[0], shop.listing, ip="10.1.0.1")
    clock.advance(timedelta(minutes=10))
    two = write(people[1], shop.listing, ip="10.2.0.1")
    clock.advance(timedelta(minutes=10))
    three = write(people[2], shop.listing, ip="10.3.0.1")
    elsewhere = write(people[3], other_listing, ip="10.4.0.1")  # another vendor, same minute
    clock.advance(timedelta(minutes=51))
    later = write(people[4], shop.listing, ip="10.5.0.1")  # one and two have left the window

    assert [r.status for r in (one, two, three, elsewhere, later)] == [
        "published",
        "published",
        "flagged",
        "published",
        "published",
    ]
    assert reasons(three) == ["burst"]
    assert sorted(three.signals.related_review_ids) == [one.pk, two.pk]


def test_a_reviewer_linked_to_the_vendors_staff_is_flagged(shop: Shop, settings: Any) -> None:
    settings.AGORA_REVIEW_BURST_COUNT = 100
    shop.vendor.contact_email = "hello@camden-motors.co.uk"
    shop.vendor.website = "https://www.camden-motors.co.uk/"
    shop.vendor.save()
    invited = UserFactory(email="new.hire@example.net")
    vendor_services.staff_invite(
        actor=shop.owner,
        vendor=shop.vendor,
        actor_role="owner",
        email="New.Hire@example.net",
        role="staff",
    )
    colleague = UserFactory(email="jo@camden-motors.co.uk")
    rival_staff = UserFactory()
    VendorMembershipFactory(user=rival_staff, role="staff")  # staff of another vendor
    ordinary = UserFactory(email="sam@gmail.com")
    shop.vendor.contact_email = "camdenmotors@gmail.com"  # shares only a public domain
    flagged = [
        write(shop.staff, shop.listing, ip="10.1.0.1"),
        write(invited, shop.listing, ip="10.2.0.1"),
    ]
    flagged.append(write(colleague, shop.listing, ip="10.3.0.1"))
    honest = [
        write(rival_staff, shop.listing, ip="10.4.0.1"),
    ]
    shop.vendor.save()
    honest.append(write(ordinary, shop.listing, ip="10.5.0.1"))

    assert [(r.status, reasons(r)) for r in flagged] == [("flagged", ["staff_link"])] * 3
    assert [(r.status, reasons(r)) for r in honest] == [("published", [])] * 2


def test_a_near_duplicate_text_is_flagged(shop: Shop) -> None:
    other_listing = ListingFactory(vendor=VendorFactory())
    a, b, c, d, e = UserFactory.create_batch(5)
    original = write(a, other_listing, ip="10.1.0.1", text=LONG_TEXT)

    copied = write(
        b,
        shop.listing,
        ip="10.2.0.1",
        text=LONG_TEXT.replace("Golf", "Polo").replace("same afternoon", "same day!"),
    )
    honest = write(
        c,
        shop.listing,
        ip="10.3.0.1",
        text=(
            "Took my Golf in for a full service; they found a worn brake disc and rang me "
            "first. Fair price, car back by teatime."
        ),
    )
    short_one = write(d, shop.listing, ip="10.4.0.1", text="Great service, thank you!")
    short_two = write(e, shop.listing, ip="10.5.0.1", text="Great service, thank you!")

    assert copied.status == ReviewStatus.FLAGGED
    assert reasons(copied) == ["near_duplicate"]
    assert copied.signals.related_review_ids == [original.pk]
    assert [r.status for r in (original, honest, short_one, short_two)] == ["published"] * 4


def test_the_same_author_may_repeat_themselves(shop: Shop) -> None:
    other_listing = ListingFactory(vendor=VendorFactory())
    author = UserFactory()

    first = write(author, shop.listing, ip="10.1.0.1", text=LONG_TEXT)
    second = write(author, other_listing, ip="10.1.0.1", text=LONG_TEXT)

    assert (first.status, second.status) == ("published", "published")


def test_an_edit_into_a_copy_is_flagged(shop: Shop) -> None:
    other_listing = ListingFactory(vendor=VendorFactory())
    write(UserFactory(), other_listing, ip="10.1.0.1", text=LONG_TEXT)
    review = write(shop.customer, shop.listing, ip="10.2.0.1", rating=4)
    assert vendor_rating(shop.vendor) == (1, 4, stars(four=1))

    edited = services.review_edit(
        author=shop.customer, review_id=review.pk, rating=5, text=LONG_TEXT + " Lovely."
    )

    assert edited.status == ReviewStatus.FLAGGED
    assert reasons(edited) == ["near_duplicate"]
    assert vendor_rating(shop.vendor) == (0, 0, stars())


def test_signals_record_account_age_and_other_reviews(shop: Shop) -> None:
    author = UserFactory(date_joined=clock.now() - timedelta(days=40))
    write(author, ListingFactory(vendor=VendorFactory()), ip="10.1.0.1")

    review = write(author, shop.listing, ip="10.1.0.1", agent="X" * 400)

    signals = review.signals
    assert (signals.account_age_days, signals.author_review_count) == (40, 1)
    assert signals.user_agent == "X" * 300


def test_flagged_reviews_are_not_public(shop: Shop) -> None:
    staff_review = write(shop.staff, shop.listing, ip="10.1.0.1")

    page = ApiClient().get(f"/vendors/{shop.vendor.pk}/reviews").json()

    assert staff_review.status == "flagged"
    assert (page["items"], page["rating_count"], page["rating_average"]) == ([], 0, None)
