from __future__ import annotations

from datetime import date, datetime

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema, Status
from pydantic import Field

from agora.accounts.auth import acting_user, bearer, optional_user
from agora.accounts.models import User
from agora.bookings import calendar, selectors
from agora.bookings.models import Booking, TimeBlock, VendorSchedule
from agora.bookings.schemas import (
    AgendaOut,
    AssignIn,
    BlockIn,
    BlockOut,
    BookingOut,
    BookingStatusOut,
    CalendarFeedOut,
    FirstSlotOut,
    HoldIn,
    PayIn,
    PolicyIn,
    ReasonIn,
    RescheduleIn,
    ResourceIn,
    ResourceOut,
    ScheduleIn,
    ScheduleOut,
    SlotOut,
    SlotsOut,
)
from agora.bookings.services import calendar_feeds, holds, lifecycle, setup
from agora.catalog.selectors import listing_get_for_staff, listing_get_visible
from agora.core.money import MoneySchema
from agora.core.openapi import file_responses
from agora.core.pagination import PageOut
from agora.vendors.selectors import MANAGER_ROLES, vendor_get_for_staff, vendor_get_visible

router = Router(tags=["bookings"])


# --- schedule and slots -------------------------------------------------------------------


@router.put(
    "/vendors/{vendor_id}/schedule", response=ScheduleOut, auth=bearer, summary="Set opening hours"
)
def schedule_set(request: HttpRequest, vendor_id: int, payload: ScheduleIn) -> ScheduleOut:
    user = acting_user(request)
    vendor = vendor_get_for_staff(user=user, vendor_id=vendor_id, roles=MANAGER_ROLES)
    schedule = setup.schedule_set(
        actor=user,
        vendor=vendor,
        weekly=payload.weekly,
        overrides=payload.overrides,
        holidays=payload.holidays,
    )
    return ScheduleOut(
        timezone=vendor.timezone,
        weekly=schedule.weekly,
        overrides=schedule.overrides,
        holidays=schedule.holidays,
    )


@router.get("/vendors/{vendor_id}/schedule", response=ScheduleOut, summary="Opening hours")
def schedule_get(request: HttpRequest, vendor_id: int) -> ScheduleOut:
    vendor = vendor_get_visible(user=optional_user(request), vendor_id=vendor_id)
    schedule = VendorSchedule.objects.filter(vendor=vendor).first()
    if schedule is None:
        return ScheduleOut(timezone=vendor.timezone, weekly={}, overrides=[], holidays=[])
    return ScheduleOut(
        timezone=vendor.timezone,
        weekly=schedule.weekly,
        overrides=schedule.overrides,
        holidays=schedule.holidays,
    )


class SlotQuery(Schema):
    start: datetime | None = Field(None, alias="from")
    end: datetime | None = Field(None, alias="to")
    include_full: bool = False


@router.get("/listings/{listing_id}/slots", response=SlotsOut, summary="Bookable slots")
def listing_slots(request: HttpRequest, listing_id: int, query: Query[SlotQuery]) -> SlotsOut:
    listing = listing_get_visible(user=optional_user(request), listing_id=listing_id)
    result = selectors.listing_slots(
        listing=listing, start=query.start, end=query.end, include_full=query.include_full
    )
    return SlotsOut(
        timezone=result.timezone,
        slots=[SlotOut(start=s.start, end=s.end, remaining=s.remaining) for s in result.slots],
    )


class FirstQuery(Schema):
    category: str
    city: str | None = None
    start: datetime | None = Field(None, alias="from")
    end: datetime | None = Field(None, alias="to")
    limit: int = Field(20, ge=1, le=100)


@router.get(
    "/slots/first-available", response=list[FirstSlotOut], summary="Earliest slot at any vendor"
)
def first_available(request: HttpRequest, query: Query[FirstQuery]) -> list[FirstSlotOut]:
    found = selectors.first_available_slots(
        category=query.category,
        city=query.city,
        start=query.start,
        end=query.end,
        limit=query.limit,
    )
    return [
        FirstSlotOut(
            listing_id=item.listing.pk,
            listing_title=item.listing.title,
            vendor_id=item.listing.vendor_id,
            vendor_name=item.listing.vendor.name,
            city=item.listing.vendor.city.slug if item.listing.vendor.city else None,
            price=MoneySchema(amount=item.listing.price_amount, currency=item.listing.currency),
            start=item.slot.start,
            end=item.slot.end,
            remaining=item.slot.remaining,
        )
        for item in found
    ]


# --- bookings -----------------------------------------------------------------------------


def _out(booking: Booking, *, with_history: bool = True) -> BookingOut:
    return BookingOut.of(booking, selectors.booking_history(booking) if with_history else None)


@router.post(
    "/bookings", response={201: BookingOut}, auth=bearer, summary="Hold a slot (Idempotency-Key)"
)
def booking_hold(request: HttpRequest, payload: HoldIn) -> Status[BookingOut]:
    user = acting_user(request)
    listing = selectors.bookable_listing(user=user, listing_id=payload.listing_id)
    booking = holds.booking_hold(
        customer=user,
        listing=listing,
        start=payload.start,
        notes=payload.notes,
        pickup=payload.pickup.dict() if payload.pickup else None,
        options=payload.options,
        vehicle_id=payload.vehicle_id,
    )
    return Status(201, _out(booking))


@router.post(
    "/bookings/{booking_id}/pay",
    response=BookingOut,
    auth=bearer,
    summary="Pay a held booking (Idempotency-Key)",
)
def booking_pay(request: HttpRequest, booking_id: int, payload: PayIn) -> BookingOut:
    user = acting_user(request)
    booking = selectors.booking_get_for_customer(user=user, booking_id=booking_id)
    key = request.headers.get("Idempotency-Key") or f"pay-{booking.pk}"
    return _out(
        lifecycle.booking_pay(
            customer=user,
            booking=booking,
            payment_method=payload.payment_method,
            idempotency_key=key,
        )
    )


def _staff_action(request: HttpRequest, booking_id: int) -> tuple[User, Booking]:
    user = acting_user(request)
    return user, selectors.booking_get_for_staff(user=user, booking_id=booking_id)


@router.post("/bookings/{booking_id}/accept", response=BookingStatusOut, auth=bearer)
def booking_accept(request: HttpRequest, booking_id: int) -> BookingStatusOut:
    user, booking = _staff_action(request, booking_id)
    booking = lifecycle.booking_accept(actor=user, booking=booking)
    return BookingStatusOut(id=booking.pk, status=booking.status)


@router.post("/bookings/{booking_id}/decline", response=BookingStatusOut, auth=bearer)
def booking_decline(
    request: HttpRequest, booking_id: int, payload: ReasonIn | None = None
) -> BookingStatusOut:
    user, booking = _staff_action(request, booking_id)
    booking = lifecycle.booking_decline(
        actor=user, booking=booking, reason=payload.reason if payload else ""
    )
    return BookingStatusOut(id=booking.pk, status=booking.status)


@router.post("/bookings/{booking_id}/start", response=BookingStatusOut, auth=bearer)
def booking_start(request: HttpRequest, booking_id: int) -> BookingStatusOut:
    user, booking = _staff_action(request, booking_id)
    booking = lifecycle.booking_start(actor=user, booking=booking)
    return BookingStatusOut(id=booking.pk, status=booking.status)


@router.post("/bookings/{booking_id}/complete", response=BookingStatusOut, auth=bearer)
def booking_complete(request: HttpRequest, booking_id: int) -> BookingStatusOut:
    user, booking = _staff_action(request, booking_id)
    booking = lifecycle.booking_complete(actor=user, booking=booking)
    return BookingStatusOut(id=booking.pk, status=booking.status)


@router.post("/bookings/{booking_id}/no-show", response=BookingStatusOut, auth=bearer)
def booking_no_show(request: HttpRequest, booking_id: int) -> BookingStatusOut:
    user, booking = _staff_action(request, booking_id)
    booking = lifecycle.booking_no_show(actor=user, booking=booking)
    return BookingStatusOut(id=booking.pk, status=booking.status)


@router.post("/bookings/{booking_id}/pickup/confirm", response=BookingOut, auth=bearer)
def booking_confirm_pickup(request: HttpRequest, booking_id: int) -> BookingOut:
    user, booking = _staff_action(request, booking_id)
    return _out(lifecycle.booking_confirm_pickup(actor=user, booking=booking))


@router.post(
    "/bookings/{booking_id}/cancel",
    response=BookingStatusOut,
    auth=bearer,
    summary="Cancel (customer or vendor)",
)
def booking_cancel(
    request: HttpRequest, booking_id: int, payload: ReasonIn | None = None
) -> BookingStatusOut:
    user = acting_user(request)
    booking = selectors.booking_get_visible(user=user, booking_id=booking_id)
    by_vendor = booking.customer_id != user.pk
    booking = lifecycle.booking_cancel(
        actor=user, booking=booking, by_vendor=by_vendor, reason=payload.reason if payload else ""
    )
    return BookingStatusOut(id=booking.pk, status=booking.status)


@router.post(
    "/bookings/{booking_id}/reschedule",
    response=BookingOut,
    auth=bearer,
    summary="Move to another slot",
)
def booking_reschedule(request: HttpRequest, booking_id: int, payload: RescheduleIn) -> BookingOut:
    user = acting_user(request)
    booking = selectors.booking_get_visible(user=user, booking_id=booking_id)
    return _out(holds.booking_reschedule(actor=user, booking=booking, start=payload.start))


@router.get(
    "/bookings/{booking_id}", response=BookingOut, auth=bearer, summary="A booking with its history"
)
def booking_detail(request: HttpRequest, booking_id: int) -> BookingOut:
    return _out(selectors.booking_get_visible(user=acting_user(request), booking_id=booking_id))


class BookingListQuery(Schema):
    as_: str = Field("customer", alias="as", pattern="^(customer|vendor)$")
    status: str | None = None
    cursor: str | None = None
    limit: int = Field(20, ge=1, le=100)


@router.get(
    "/bookings",
    response=PageOut[BookingOut],
    auth=bearer,
    summary="My bookings (as customer or vendor staff)",
)
def booking_list(request: HttpRequest, query: Query[BookingListQuery]) -> PageOut[BookingOut]:
    page = selectors.bookings_for_user(
        user=acting_user(request),
        as_vendor=query.as_ == "vendor",
        status=query.status,
        cursor=query.cursor,
        limit=query.limit,
    )
    return PageOut[BookingOut](
        items=[_out(b, with_history=False) for b in page.items], next_cursor=page.next_cursor
    )


# --- vendor tools ---------------------------------------------------------------------------


@router.post(
    "/vendors/{vendor_id}/resources",
    response={201: ResourceOut},
    auth=bearer,
    summary="Add a resource",
)
def resource_create(
    request: HttpRequest, vendor_id: int, payload: ResourceIn
) -> Status[ResourceOut]:
    user = acting_user(request)
    vendor = vendor_get_for_staff(user=user, vendor_id=vendor_id, roles=MANAGER_ROLES)
    resource = setup.resource_create(actor=user, vendor=vendor, **payload.dict())
    return Status(201, ResourceOut.from_orm(resource))


@router.get("/vendors/{vendor_id}/resources", response=list[ResourceOut], auth=bearer)
def resource_list(request: HttpRequest, vendor_id: int) -> list[ResourceOut]:
    vendor = vendor_get_for_staff(user=acting_user(request), vendor_id=vendor_id)
    return [ResourceOut.from_orm(r) for r in vendor.resources.order_by("id")]


@router.put(
    "/listings/{listing_id}/resource",
    response={204: None},
    auth=bearer,
    summary="Share a resource's capacity",
)
def resource_assign(request: HttpRequest, listing_id: int, payload: AssignIn) -> HttpResponse:
    user = acting_user(request)
    listing = listing_get_for_staff(user=user, listing_id=listing_id, roles=MANAGER_ROLES)
    setup.resource_assign(actor=user, listing=listing, resource_id=payload.resource_id)
    return HttpResponse(status=204)


@router.post(
    "/vendors/{vendor_id}/blocks", response={201: BlockOut}, auth=bearer, summary="Block time"
)
def block_create(request: HttpRequest, vendor_id: int, payload: BlockIn) -> Status[BlockOut]:
    user = acting_user(request)
    vendor = vendor_get_for_staff(user=user, vendor_id=vendor_id)
    block: TimeBlock = setup.time_block_create(actor=user, vendor=vendor, **payload.dict())
    return Status(
        201,
        BlockOut(
            id=block.pk,
            start=block.start,
            end=block.end,
            resource_id=block.resource_id,
            reason=block.reason,
        ),
    )


@router.delete("/vendors/{vendor_id}/blocks/{block_id}", response={204: None}, auth=bearer)
def block_delete(request: HttpRequest, vendor_id: int, block_id: int) -> HttpResponse:
    user = acting_user(request)
    vendor = vendor_get_for_staff(user=user, vendor_id=vendor_id)
    setup.time_block_delete(actor=user, vendor=vendor, block_id=block_id)
    return HttpResponse(status=204)


@router.put("/vendors/{vendor_id}/cancellation-policy", response=PolicyIn, auth=bearer)
def policy_set(request: HttpRequest, vendor_id: int, payload: PolicyIn) -> PolicyIn:
    user = acting_user(request)
    vendor = vendor_get_for_staff(user=user, vendor_id=vendor_id, roles=MANAGER_ROLES)
    policy = setup.cancellation_policy_set(actor=user, vendor=vendor, **payload.dict())
    return PolicyIn(
        free_until_hours=policy.free_until_hours,
        late_fee_bp=policy.late_fee_bp,
        acceptance_timeout_hours=policy.acceptance_timeout_hours,
    )


@router.get(
    "/vendors/{vendor_id}/agenda", response=AgendaOut, auth=bearer, summary="A day's bookings"
)
def agenda(request: HttpRequest, vendor_id: int, day: date | None = None) -> AgendaOut:
    from zoneinfo import ZoneInfo

    from agora.core import clock

    vendor = vendor_get_for_staff(user=acting_user(request), vendor_id=vendor_id)
    day = day or clock.now().astimezone(ZoneInfo(vendor.timezone)).date()
    bookings = selectors.agenda(vendor_id=vendor.pk, day=day, timezone=vendor.timezone)
    return AgendaOut(
        date=day, timezone=vendor.timezone, bookings=[_out(b, with_history=False) for b in bookings]
    )


def _feed_out(
    request: HttpRequest, response: HttpResponse, link: calendar_feeds.FeedLink
) -> CalendarFeedOut:
    # The URL is a secret: never cached, and never kept in the Idempotency-Key store.
    response["Cache-Control"] = "no-store"
    return CalendarFeedOut(
        url=request.build_absolute_uri(link.path),
        resource_id=link.feed.resource_id,
        created_at=link.feed.created_at,
        last_used_at=link.feed.last_used_at,
    )


@router.get(
    "/vendors/{vendor_id}/calendar-feed",
    response=CalendarFeedOut,
    auth=bearer,
    summary="My iCalendar feed URL (made on first use)",
)
def calendar_feed(
    request: HttpRequest, response: HttpResponse, vendor_id: int, resource_id: int | None = None
) -> CalendarFeedOut:
    user = acting_user(request)
    vendor = vendor_get_for_staff(user=user, vendor_id=vendor_id)
    link = calendar_feeds.calendar_feed_issue(user=user, vendor=vendor, resource_id=resource_id)
    return _feed_out(request, response, link)


@router.post(
    "/vendors/{vendor_id}/calendar-feed/rotate",
    response=CalendarFeedOut,
    auth=bearer,
    summary="A new iCalendar feed URL; the old one stops working",
)
def calendar_feed_rotate(
    request: HttpRequest, response: HttpResponse, vendor_id: int, resource_id: int | None = None
) -> CalendarFeedOut:
    user = acting_user(request)
    vendor = vendor_get_for_staff(user=user, vendor_id=vendor_id)
    link = calendar_feeds.calendar_feed_rotate(user=user, vendor=vendor, resource_id=resource_id)
    return _feed_out(request, response, link)


@router.delete(
    "/vendors/{vendor_id}/calendar-feed",
    response={204: None},
    auth=bearer,
    summary="Stop my iCalendar feed URL",
)
def calendar_feed_revoke(
    request: HttpRequest, vendor_id: int, resource_id: int | None = None
) -> HttpResponse:
    user = acting_user(request)
    vendor = vendor_get_for_staff(user=user, vendor_id=vendor_id)
    calendar_feeds.calendar_feed_revoke(user=user, vendor=vendor, resource_id=resource_id)
    return HttpResponse(status=204)


@router.get(
    "/calendar/{token}.ics",
    summary="iCalendar feed (RFC 5545)",
    openapi_extra=file_responses("text/calendar", description="The feed, as iCalendar"),
)
def calendar_ics(request: HttpRequest, token: str) -> HttpResponse:
    feed = calendar_feeds.calendar_feed_open(token=token)
    response = HttpResponse(
        calendar.render_feed(vendor=feed.vendor, resource_id=feed.resource_id),
        content_type="text/calendar; charset=utf-8",
    )
    # A secret address: no shared cache keeps it, no page it links to learns it.
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response
