"""Reads of the live streams: who is asking, the stream position, the events past it.

Every read is keyed on `Event.seq`, the position in commit order, never on `Event.id`
(see `notifications.sequencer`): on PostgreSQL ids are handed out at insert, so event 11
can be visible before event 10 commits, and a reader that resumed "after id 11" would skip
10 for good. `seq` is given only to events whose transaction and every older one have
finished, so what a reader sees of it is always a gap-free prefix.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib import auth
from django.db.models import Max, Q, QuerySet
from django.http import HttpRequest

from agora.accounts.models import User
from agora.accounts.services import token_authenticate
from agora.catalog.selectors import listing_get_visible
from agora.core.errors import NotAuthenticated
from agora.notifications.live.wire import BOOKING_STREAM, Audience, StreamEvent
from agora.notifications.models import Event
from agora.vendors.models import VendorMembership

_FIELDS = ("seq", "name", "stream_name", "user_id", "vendor_id", "operators", "data")


@dataclass(frozen=True)
class Credential:
    """What a stream request presented: its Authorization header or its session cookie."""

    authorization: str | None = None
    session_key: str | None = None


def stream_position() -> int:
    """The highest stream position given so far (0 before the first event)."""
    top = Event.objects.aggregate(top=Max("seq"))["top"]
    return int(top or 0)


def _stream_events(events: QuerySet[Event], limit: int) -> list[StreamEvent]:
    rows = events.exclude(stream_name="").order_by("seq").values_list(*_FIELDS)[:limit]
    return [StreamEvent(*row) for row in rows]


def events_after(*, after: int, limit: int) -> tuple[int, list[StreamEvent]]:
    """Every streamed event past position `after` (at most `limit`), and the position the
    reader is at afterwards: the last one returned when `limit` cut the list short, else
    the top of the stream (past events nobody streams, too)."""
    top = stream_position()
    if top <= after:
        return after, []
    events = _stream_events(Event.objects.filter(seq__gt=after, seq__lte=top), limit)
    if len(events) == limit:
        return events[-1].seq, events
    return top, events


def _concerning(audience: Audience) -> Q:
    if audience.slots_of_vendor is not None:
        return Q(vendor_id=audience.slots_of_vendor, stream_name=BOOKING_STREAM)
    concerns = Q(pk__in=[])
    if audience.user_id is not None:
        concerns |= Q(user_id=audience.user_id)
    if audience.vendor_roles:
        concerns |= Q(vendor_id__in=audience.vendor_ids)
    if audience.operator:
        concerns |= Q(operators=True)
    return concerns


def events_for(*, audience: Audience, after: int, limit: int) -> list[StreamEvent]:
    """The events past `after` that may concern `audience`, in stream order (at most
    `limit`; `Audience.side` has the last word, on the roles an event is for)."""
    return _stream_events(Event.objects.filter(_concerning(audience), seq__gt=after), limit)


def audience_for_user(*, user: User) -> Audience:
    memberships = VendorMembership.objects.filter(user=user).order_by("vendor_id")
    return Audience(
        user_id=user.pk,
        vendor_roles=tuple(memberships.values_list("vendor_id", "role")),
        operator=bool(user.is_operator),
    )


def _session_user(session_key: str) -> User | None:
    """The active user signed in with this session (its auth hash checked, as Django's
    AuthenticationMiddleware does), else None."""
    request = HttpRequest()
    request.session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    user: Any = auth.get_user(request)
    if isinstance(user, User) and user.is_active:
        return user
    return None


def caller_for(*, credential: Credential) -> User:
    """The user behind a bearer token or, without one, a session; NotAuthenticated else.

    A bearer header wins over a cookie, as in BearerTokenMiddleware.
    """
    if credential.authorization is not None:
        scheme, _, raw_token = credential.authorization.partition(" ")
        if scheme.lower() != "bearer" or not raw_token.strip():
            raise NotAuthenticated("Use the Authorization header as 'Bearer <token>'.")
        return token_authenticate(raw_token=raw_token.strip()).user
    if credential.session_key:
        user = _session_user(credential.session_key)
        if user is not None:
            return user
    raise NotAuthenticated("Sign in, or send a bearer token (Authorization: Bearer <token>).")


def audience_for_credential(*, credential: Credential) -> Audience:
    return audience_for_user(user=caller_for(credential=credential))


def audience_still_valid(*, credential: Credential) -> Audience | None:
    """The caller's audience now (memberships change), or None once the token or session
    no longer admits them (revoked, expired, signed out, deactivated)."""
    try:
        return audience_for_credential(credential=credential)
    except NotAuthenticated:
        return None


def audience_for_listing(*, listing_id: int) -> Audience:
    """The public stream of a listing anyone may see (NotFound for any other)."""
    listing = listing_get_visible(user=None, listing_id=listing_id)
    return Audience(slots_of_vendor=listing.vendor_id, listing_id=listing.pk)
