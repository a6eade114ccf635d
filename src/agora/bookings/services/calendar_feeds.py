"""Calendar feed addresses: one per person, vendor and resource; rotated, revoked, checked.

A feed address is a bearer secret in a URL (agora.bookings.calendar), so it belongs to
one person and dies with their place on the staff: `calendar_feeds_revoke_for_member` is
called when a membership is removed, and `calendar_feed_open` answers only for a person
still on the vendor's staff (whatever removed them). Rotating gives a new address and
kills the old one at once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from agora.accounts.models import User
from agora.bookings import calendar
from agora.bookings.models import CalendarFeedToken, Resource
from agora.core import clock
from agora.core.audit import audit_log
from agora.core.errors import Conflict, NotFound
from agora.vendors.models import Vendor, VendorMembership

# Calendar apps poll every few minutes; noting each poll would be a write per poll.
LAST_USED_PRECISION = timedelta(minutes=15)


@dataclass(frozen=True)
class FeedLink:
    feed: CalendarFeedToken
    token: str

    @property
    def path(self) -> str:
        return calendar.feed_path(self.token)


def _resource(vendor: Vendor, resource_id: int | None) -> Resource | None:
    if resource_id is None:
        return None
    resource = Resource.objects.filter(pk=resource_id, vendor=vendor).first()
    if resource is None:
        raise NotFound("No such resource.")
    return resource


def _live(*, vendor: Vendor, user: User, resource: Resource | None) -> CalendarFeedToken | None:
    return _live_feeds(vendor_id=vendor.pk, user_id=user.pk).filter(resource=resource).first()


def _create(*, vendor: Vendor, user: User, resource: Resource | None) -> FeedLink:
    nonce = secrets.token_hex(16)
    token = calendar.token_for(nonce)
    feed = CalendarFeedToken.objects.create(
        vendor=vendor,
        user=user,
        resource=resource,
        nonce=nonce,
        token_hash=calendar.token_hash(token),
    )
    return FeedLink(feed=feed, token=token)


def _revoke(feeds: list[CalendarFeedToken]) -> int:
    return CalendarFeedToken.objects.filter(
        pk__in=[feed.pk for feed in feeds], revoked_at__isnull=True
    ).update(revoked_at=clock.now())


def calendar_feed_issue(*, user: User, vendor: Vendor, resource_id: int | None) -> FeedLink:
    """The person's live feed address for `vendor` (or one of its resources), made on first
    use. Precondition: `user` is on `vendor`'s staff (vendors.selectors.vendor_get_for_staff).

    A resource of another vendor → 404. Should SECRET_KEY have changed since the address
    was made, it can no longer be shown: a new one replaces it."""
    resource = _resource(vendor, resource_id)
    feed = _live(vendor=vendor, user=user, resource=resource)
    if feed is not None:
        token = calendar.token_for(feed.nonce)
        if calendar.token_hash(token) == feed.token_hash:
            return FeedLink(feed=feed, token=token)
    with transaction.atomic():
        if feed is not None:
            _revoke([feed])
        try:
            with transaction.atomic():
                link = _create(vendor=vendor, user=user, resource=resource)
        except IntegrityError:
            # A concurrent first look made it: show that one.
            feed = _live(vendor=vendor, user=user, resource=resource)
            if feed is None:
                raise
            return FeedLink(feed=feed, token=calendar.token_for(feed.nonce))
        audit_log(
            actor=user,
            action="calendar_feed.issued",
            target=vendor,
            data={"feed_id": link.feed.pk, "resource_id": resource_id},
        )
    return link


@transaction.atomic
def calendar_feed_rotate(*, user: User, vendor: Vendor, resource_id: int | None) -> FeedLink:
    """A new address for the person's feed; the old one stops working at once.
    Precondition as `calendar_feed_issue`."""
    resource = _resource(vendor, resource_id)
    old = list(
        _live_feeds(vendor_id=vendor.pk, user_id=user.pk)
        .filter(resource=resource)
        .select_for_update()
    )
    _revoke(old)
    try:
        with transaction.atomic():
            link = _create(vendor=vendor, user=user, resource=resource)
    except IntegrityError as error:  # rotated twice at the same moment (PostgreSQL)
        raise Conflict("The address was rotated at the same moment; ask for it again.") from error
    audit_log(
        actor=user,
        action="calendar_feed.rotated",
        target=vendor,
        data={
            "feed_id": link.feed.pk,
            "revoked": [feed.pk for feed in old],
            "resource_id": resource_id,
        },
    )
    return link


def _live_feeds(*, vendor_id: int, user_id: int) -> QuerySet[CalendarFeedToken]:
    return CalendarFeedToken.objects.filter(
        vendor_id=vendor_id, user_id=user_id, revoked_at__isnull=True
    )


@transaction.atomic
def calendar_feed_revoke(*, user: User, vendor: Vendor, resource_id: int | None) -> int:
    """Stop the person's feed address (calendars subscribed to it get 404 from now on).
    Precondition as `calendar_feed_issue`. Returns how many addresses stopped."""
    resource = _resource(vendor, resource_id)
    live = list(_live_feeds(vendor_id=vendor.pk, user_id=user.pk).filter(resource=resource))
    revoked = _revoke(live)
    if revoked:
        audit_log(
            actor=user,
            action="calendar_feed.revoked",
            target=vendor,
            data={"revoked": [feed.pk for feed in live], "resource_id": resource_id},
        )
    return revoked


def calendar_feeds_revoke_for_member(*, vendor_id: int, user_id: int) -> int:
    """Every feed address of a person at a vendor, stopped: they have left its staff.
    Called inside the removal's transaction (vendors.services.staff_remove)."""
    return _live_feeds(vendor_id=vendor_id, user_id=user_id).update(revoked_at=clock.now())


def calendar_feed_open(*, token: str) -> CalendarFeedToken:
    """The live feed `token` opens, with its vendor — only while its person is an active
    member of the vendor's staff; otherwise NotFound (and a feed whose person has left is
    revoked on the way). Notes when it was last read, at most every LAST_USED_PRECISION."""
    if not token.startswith(calendar.TOKEN_PREFIX) or len(token) > 100:
        raise NotFound("No such calendar.")
    feed = (
        CalendarFeedToken.objects.select_related("vendor", "user")
        .filter(token_hash=calendar.token_hash(token), revoked_at__isnull=True)
        .first()
    )
    if feed is None:
        raise NotFound("No such calendar.")
    on_staff = (
        feed.user.is_active
        and VendorMembership.objects.filter(vendor_id=feed.vendor_id, user_id=feed.user_id).exists()
    )
    if not on_staff:
        _revoke([feed])
        raise NotFound("No such calendar.")
    now = clock.now()
    if feed.last_used_at is None or feed.last_used_at <= now - LAST_USED_PRECISION:
        CalendarFeedToken.objects.filter(pk=feed.pk).update(last_used_at=now)
        feed.last_used_at = now
    return feed
