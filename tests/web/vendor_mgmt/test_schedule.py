"""/vendor/schedule/: weekly hours, special days, holidays, blocked time and resources."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from agora.bookings.models import Resource, TimeBlock, VendorSchedule
from agora.core import clock
from tests.factories import VendorScheduleFactory
from tests.web.vendor_mgmt.conftest import NOW, Shop, html
from tests.web.vendor_mgmt.test_listings import field_errors

pytestmark = pytest.mark.django_db

WEEK = {
    "mon": "09:00-12:30, 13:30-17:00",
    "tue": "9:00-17:00",
    "wed": "09:00-17:00",
    "thu": "09:00-17:00",
    "fri": "09:00-16:00",
    "sat": "10:00-13:00",
    "sun": "",
}


def test_schedule_page_shows_the_stored_hours(shop: Shop) -> None:
    VendorScheduleFactory(vendor=shop.vendor, holidays=["2026-12-25"])

    response = shop.as_owner.get("/vendor/schedule/")

    assert response.status_code == 200
    page = html(response)
    assert "<h1>Schedule</h1>" in page
    assert "Times are in Europe/London." in page
    assert 'name="mon" value="09:00-17:00"' in page
    assert 'name="sat" maxlength="200" placeholder="closed"' in page
    assert "Fri 25 Dec 2026" in page


def test_save_weekly_hours(shop: Shop) -> None:
    VendorScheduleFactory(
        vendor=shop.vendor,
        overrides=[{"date": "2026-12-24", "intervals": [["09:00", "13:00"]]}],
        holidays=["2026-12-25"],
    )

    response = shop.as_manager.post("/vendor/schedule/weekly/", WEEK)

    assert response.status_code == 302
    schedule = VendorSchedule.objects.get(vendor=shop.vendor)
    assert schedule.weekly["mon"] == [["09:00", "12:30"], ["13:30", "17:00"]]
    assert schedule.weekly["tue"] == [["09:00", "17:00"]]
    assert schedule.weekly["sat"] == [["10:00", "13:00"]]
    assert schedule.weekly["sun"] == []
    # the rest of the document is kept
    assert schedule.overrides == [{"date": "2026-12-24", "intervals": [["09:00", "13:00"]]}]
    assert schedule.holidays == ["2026-12-25"]


def test_hours_that_are_not_a_range_are_refused_on_their_day(shop: Shop) -> None:
    response = shop.as_owner.post("/vendor/schedule/weekly/", {**WEEK, "wed": "nine to five"})

    assert response.status_code == 422
    assert field_errors(html(response), "wed") == [
        "“nine to five” is not a time range; write it like 09:00-17:00."
    ]
    assert not VendorSchedule.objects.filter(vendor=shop.vendor).exists()


def test_the_schedule_services_refusals_land_on_their_day(shop: Shop) -> None:
    response = shop.as_owner.post(
        "/vendor/schedule/weekly/",
        {**WEEK, "thu": "17:00-09:00", "fri": "09:00-13:00, 12:00-15:00"},
    )

    assert response.status_code == 422
    page = html(response)
    assert field_errors(page, "thu")[0].startswith("end 09:00 must be after start 17:00")
    assert field_errors(page, "fri") != []
    assert not VendorSchedule.objects.filter(vendor=shop.vendor).exists()


def test_add_and_remove_a_special_day(shop: Shop) -> None:
    VendorScheduleFactory(vendor=shop.vendor)

    shop.as_owner.post(
        "/vendor/schedule/overrides/", {"date": "2026-12-24", "hours": "09:00-13:00"}
    )
    shop.as_owner.post("/vendor/schedule/overrides/", {"date": "2026-12-31", "hours": ""})
    # the same date again replaces it
    shop.as_owner.post(
        "/vendor/schedule/overrides/", {"date": "2026-12-24", "hours": "10:00-12:00"}
    )

    schedule = VendorSchedule.objects.get(vendor=shop.vendor)
    assert schedule.overrides == [
        {"date": "2026-12-24", "intervals": [["10:00", "12:00"]]},
        {"date": "2026-12-31", "intervals": []},
    ]
    page = html(shop.as_owner.get("/vendor/schedule/"))
    assert "Thu 24 Dec 2026</strong>: 10:00-12:00" in page
    assert "Thu 31 Dec 2026</strong>: closed" in page

    shop.as_owner.post("/vendor/schedule/overrides/2026-12-31/delete/")
    schedule.refresh_from_db()
    assert [item["date"] for item in schedule.overrides] == ["2026-12-24"]
    assert shop.as_owner.post("/vendor/schedule/overrides/2027-01-01/delete/").status_code == 404


def test_a_special_day_with_bad_hours_is_refused(shop: Shop) -> None:
    VendorScheduleFactory(vendor=shop.vendor)

    response = shop.as_owner.post(
        "/vendor/schedule/overrides/", {"date": "2026-12-24", "hours": "13:00-09:00"}
    )

    assert response.status_code == 422
    assert field_errors(html(response), "hours")[0].startswith(
        "end 09:00 must be after start 13:00"
    )
    assert VendorSchedule.objects.get(vendor=shop.vendor).overrides == []


def test_add_and_remove_a_holiday(shop: Shop) -> None:
    shop.as_owner.post("/vendor/schedule/holidays/", {"date": "2026-12-26"})
    shop.as_owner.post("/vendor/schedule/holidays/", {"date": "2026-12-25"})

    schedule = VendorSchedule.objects.get(vendor=shop.vendor)
    assert schedule.holidays == ["2026-12-25", "2026-12-26"]
    assert schedule.weekly == {day: [] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}

    shop.as_owner.post("/vendor/schedule/holidays/2026-12-26/delete/")
    schedule.refresh_from_db()
    assert schedule.holidays == ["2026-12-25"]
    refused = shop.as_owner.post("/vendor/schedule/holidays/", {"date": "2026-13-45"})
    assert refused.status_code == 422
    assert field_errors(html(refused), "date") == ["Enter a valid date."]


def test_block_time_in_the_vendors_wall_clock(shop: Shop) -> None:
    shop.vendor.timezone = "America/New_York"
    shop.vendor.save()
    bay = Resource.objects.create(vendor=shop.vendor, name="Bay 2")

    with clock.frozen(NOW):
        response = shop.as_staff.post(
            "/vendor/schedule/blocks/",
            {
                "start": "2026-01-07T09:00",
                "end": "2026-01-07T12:30",
                "reason": "Lift repair",
                "resource": bay.pk,
            },
        )

    assert response.status_code == 302
    block = TimeBlock.objects.get(vendor=shop.vendor)
    assert block.start == datetime.fromisoformat("2026-01-07T14:00:00+00:00")  # 09:00 EST
    assert block.end == datetime.fromisoformat("2026-01-07T17:30:00+00:00")
    assert (block.resource, block.reason, block.created_by) == (bay, "Lift repair", shop.staff)
    with clock.frozen(NOW):
        page = html(shop.as_staff.get("/vendor/schedule/"))
    assert "Wed 7 Jan 2026, 09:00 – Wed 7 Jan 2026, 12:30" in page
    assert "Bay 2 · Lift repair" in page


def test_a_block_that_ends_before_it_starts_is_refused(shop: Shop) -> None:
    response = shop.as_owner.post(
        "/vendor/schedule/blocks/", {"start": "2026-01-07T12:00", "end": "2026-01-07T09:00"}
    )

    assert response.status_code == 422
    assert field_errors(html(response), "end") == ["must be after start"]
    assert not TimeBlock.objects.exists()


def test_staff_may_remove_a_block_but_not_another_vendors(shop: Shop) -> None:
    start = clock.now() + timedelta(days=1)
    mine = TimeBlock.objects.create(vendor=shop.vendor, start=start, end=start + timedelta(hours=1))
    theirs = TimeBlock.objects.create(
        vendor=shop.rival, start=start, end=start + timedelta(hours=1)
    )

    assert shop.as_staff.post(f"/vendor/schedule/blocks/{theirs.pk}/delete/").status_code == 404
    assert shop.as_staff.post(f"/vendor/schedule/blocks/{mine.pk}/delete/").status_code == 302
    assert list(TimeBlock.objects.all()) == [theirs]


def test_add_a_resource(shop: Shop) -> None:
    response = shop.as_owner.post(
        "/vendor/schedule/resources/", {"name": "MOT bay", "kind": "bay", "capacity": "2"}
    )

    assert response.status_code == 302
    bay = Resource.objects.get(vendor=shop.vendor)
    assert (bay.name, bay.kind, bay.capacity) == ("MOT bay", "bay", 2)
    assert "MOT bay" in html(shop.as_owner.get("/vendor/schedule/"))
    refused = shop.as_owner.post(
        "/vendor/schedule/resources/", {"name": "X", "kind": "bay", "capacity": "0"}
    )
    assert refused.status_code == 422
    assert Resource.objects.count() == 1


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/vendor/schedule/weekly/", WEEK),
        ("/vendor/schedule/overrides/", {"date": "2026-12-24", "hours": ""}),
        ("/vendor/schedule/holidays/", {"date": "2026-12-25"}),
        ("/vendor/schedule/resources/", {"name": "Bay", "kind": "bay", "capacity": "1"}),
    ],
)
def test_staff_members_cannot_change_hours_or_resources(shop: Shop, path: str, data: Any) -> None:
    response = shop.as_staff.post(path, data)

    assert response.status_code == 403
    assert not VendorSchedule.objects.exists()
    assert not Resource.objects.exists()


def test_staff_see_the_hours_read_only(shop: Shop) -> None:
    VendorScheduleFactory(vendor=shop.vendor)

    page = html(shop.as_staff.get("/vendor/schedule/"))

    assert '<th scope="row">Monday</th><td>09:00-17:00</td>' in page
    assert '<th scope="row">Sunday</th><td>Closed</td>' in page
    assert "Save opening hours" not in page
    assert "Block this time" in page


def test_schedule_page_query_count(shop: Shop, django_assert_max_num_queries: Any) -> None:
    VendorScheduleFactory(vendor=shop.vendor)
    start = clock.now() + timedelta(days=1)
    for n in range(10):
        bay = Resource.objects.create(vendor=shop.vendor, name=f"Bay {n}")
        TimeBlock.objects.create(
            vendor=shop.vendor, resource=bay, start=start, end=start + timedelta(hours=n + 1)
        )

    # + 1: the header's notification bell (one COUNT of unread notifications)
    with django_assert_max_num_queries(13 + 1):
        response = shop.as_owner.get("/vendor/schedule/")

    assert response.status_code == 200
