"""Cursor (keyset) pagination over the audit log (API.md: `{"items", "next_cursor"}`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core import signing

from agora.accounts.models import User
from agora.core import clock
from agora.core.audit import audit_log
from agora.core.errors import InvalidInput
from agora.core.models import AuditLog
from agora.core.pagination import MAX_LIMIT, paginate
from tests.conftest import ApiClient, assert_problem
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NOON = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


def make_entries(count: int, *, same_time: bool) -> list[AuditLog]:
    """`count` audit rows on a few users; all at one instant, or a second apart."""
    users = UserFactory.create_batch(3)
    entries = []
    with clock.frozen(NOON):
        for index in range(count):
            entries.append(
                audit_log(actor=None, action=f"test.step{index}", target=users[index % 3])
            )
            if not same_time:
                clock.advance(timedelta(seconds=1))
    return entries


def walk(ordering: tuple[str, ...], limit: int) -> tuple[list[int], int]:
    """Every row id, following next_cursor to the end; and the number of pages."""
    ids: list[int] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = paginate(AuditLog.objects.all(), ordering=ordering, cursor=cursor, limit=limit)
        pages += 1
        assert len(page.items) <= limit
        ids.extend(entry.pk for entry in page.items)
        if page.next_cursor is None:
            return ids, pages
        cursor = page.next_cursor


@pytest.mark.parametrize("limit", [1, 2, 3, 7, 25])
@pytest.mark.parametrize("same_time", [True, False], ids=["equal-times", "distinct-times"])
def test_walking_every_page_returns_every_row_once_in_order(limit: int, same_time: bool) -> None:
    entries = make_entries(7, same_time=same_time)

    newest_first, pages = walk(("-at", "-id"), limit)
    oldest_first, _ = walk(("at", "id"), limit)

    by_id = [entry.pk for entry in entries]
    assert newest_first == sorted(by_id, reverse=True)
    assert oldest_first == sorted(by_id)
    assert pages == max(1, -(-7 // limit))


def test_ties_on_the_first_key_are_broken_by_id_across_a_page_boundary() -> None:
    # Given rows at two instants, three at the first and three at the second
    users = UserFactory.create_batch(2)
    with clock.frozen(NOON):
        early = [audit_log(actor=None, action="a", target=users[0]) for _ in range(3)]
        clock.advance(timedelta(minutes=1))
        late = [audit_log(actor=None, action="b", target=users[1]) for _ in range(3)]

    # When pages of two are read newest first, each boundary falls inside a tie
    first = paginate(AuditLog.objects.all(), ordering=("-at", "-id"), cursor=None, limit=2)
    second = paginate(
        AuditLog.objects.all(), ordering=("-at", "-id"), cursor=first.next_cursor, limit=2
    )
    third = paginate(
        AuditLog.objects.all(), ordering=("-at", "-id"), cursor=second.next_cursor, limit=2
    )

    # Then the order is (at desc, id desc) with nothing skipped or repeated
    assert [e.pk for e in first.items] == [late[2].pk, late[1].pk]
    assert [e.pk for e in second.items] == [late[0].pk, early[2].pk]
    assert [e.pk for e in third.items] == [early[1].pk, early[0].pk]
    assert third.next_cursor is None


def test_rows_inserted_between_pages_are_neither_skipped_nor_repeated() -> None:
    make_entries(4, same_time=False)
    first = paginate(AuditLog.objects.all(), ordering=("at", "id"), cursor=None, limit=2)

    # a newer row arrives while the client reads
    with clock.frozen(NOON + timedelta(hours=1)):
        newcomer = audit_log(actor=None, action="late", target=UserFactory())
    rest = paginate(AuditLog.objects.all(), ordering=("at", "id"), cursor=first.next_cursor)

    seen = [e.pk for e in first.items] + [e.pk for e in rest.items]
    assert seen == sorted(AuditLog.objects.values_list("pk", flat=True))
    assert seen[-1] == newcomer.pk


def test_empty_list_has_no_next_cursor() -> None:
    page = paginate(AuditLog.objects.all(), ordering=("-at", "-id"), cursor=None, limit=5)

    assert page.items == []
    assert page.next_cursor is None


def test_exactly_one_full_page_has_no_next_cursor() -> None:
    make_entries(5, same_time=False)

    page = paginate(AuditLog.objects.all(), ordering=("-at", "-id"), cursor=None, limit=5)

    assert len(page.items) == 5
    assert page.next_cursor is None


@pytest.mark.parametrize(("asked", "served"), [(0, 1), (-3, 1), (500, MAX_LIMIT)])
def test_limit_is_clamped(asked: int, served: int) -> None:
    make_entries(MAX_LIMIT + 1, same_time=True)

    page = paginate(AuditLog.objects.all(), ordering=("-at", "-id"), cursor=None, limit=asked)

    assert len(page.items) == served
    assert page.next_cursor is not None


# --- cursors a client cannot forge ---------------------------------------------------------------


def a_real_cursor() -> str:
    make_entries(3, same_time=False)
    page = paginate(AuditLog.objects.all(), ordering=("-at", "-id"), cursor=None, limit=1)
    assert page.next_cursor is not None
    return page.next_cursor


@pytest.mark.parametrize(
    "tamper",
    [
        lambda c: "garbage",
        lambda c: c[:-1] + ("A" if c[-1] != "A" else "B"),
        lambda c: c[: len(c) // 2],
        lambda c: c + "x",
        lambda c: signing.dumps([999999, 1], salt="someone-else", compress=True),
    ],
    ids=["garbage", "last-char", "truncated", "extended", "foreign-signature"],
)
def test_tampered_cursor_is_invalid_input(tamper: Any) -> None:
    cursor = tamper(a_real_cursor())

    with pytest.raises(InvalidInput) as raised:
        paginate(AuditLog.objects.all(), ordering=("-at", "-id"), cursor=cursor)

    assert raised.value.status == 422
    assert raised.value.code == "validation_error"
    assert raised.value.extra["errors"][0]["loc"] == ["query", "cursor"]


def test_a_cursor_from_another_list_is_invalid_input_not_a_crash() -> None:
    # Given a genuine cursor from a list sorted by other keys (e.g. vendors by name)
    UserFactory.create_batch(3)
    users_page = paginate(User.objects.all(), ordering=("email", "id"), cursor=None, limit=1)
    assert users_page.next_cursor is not None

    # When a client hands it to the audit log, sorted by time
    with pytest.raises(InvalidInput):
        paginate(AuditLog.objects.all(), ordering=("-at", "-id"), cursor=users_page.next_cursor)


def test_a_cursor_with_a_different_number_of_keys_is_invalid_input() -> None:
    cursor = a_real_cursor()

    with pytest.raises(InvalidInput):
        paginate(AuditLog.objects.all(), ordering=("-id",), cursor=cursor)


# --- over the API --------------------------------------------------------------------------------


def test_audit_log_endpoint_pages_through_everything(as_operator: ApiClient) -> None:
    # Given five entries at one instant (so the order is decided by id alone)
    entries = make_entries(5, same_time=True)

    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": 2} if cursor is None else {"limit": 2, "cursor": cursor}
        response = as_operator.get("/operator/audit-log", **params)
        assert response.status_code == 200, response.content
        body = response.json()
        assert set(body) == {"items", "next_cursor"}
        seen.extend(item["id"] for item in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert seen == sorted((entry.pk for entry in entries), reverse=True)
    first = as_operator.get("/operator/audit-log", limit=1).json()["items"][0]
    newest = entries[-1]
    assert first == {
        "id": newest.pk,
        "at": "2030-01-01T12:00:00Z",
        "action": "test.step4",
        "actor_id": None,
        "object_type": "user",
        "object_id": newest.object_id,
        "data": {},
        "request_id": "",
    }


def test_audit_log_endpoint_filters_by_action_prefix(as_operator: ApiClient) -> None:
    user = UserFactory()
    audit_log(actor=None, action="vendor.approved", target=user)
    audit_log(actor=None, action="vendor.suspended", target=user)
    audit_log(actor=None, action="booking.accepted", target=user)

    body = as_operator.get("/operator/audit-log", action="vendor.").json()

    assert [item["action"] for item in body["items"]] == ["vendor.suspended", "vendor.approved"]


@pytest.mark.parametrize("cursor", ["garbage", "", "eyJhIjoxfQ:1abc:xyz"])
def test_audit_log_endpoint_rejects_a_bad_cursor_with_422(
    as_operator: ApiClient, cursor: str
) -> None:
    make_entries(2, same_time=False)
    if cursor == "":
        # an empty cursor means "from the start"
        assert as_operator.get("/operator/audit-log", cursor=cursor).status_code == 200
        return

    response = as_operator.get("/operator/audit-log", cursor=cursor)

    body = assert_problem(response, 422, "validation_error")
    assert body["errors"] == [
        {"loc": ["query", "cursor"], "msg": "invalid cursor", "type": "cursor"}
    ]


@pytest.mark.parametrize("rows", [3, 60])
def test_audit_log_endpoint_query_count_does_not_grow_with_rows(
    as_operator: ApiClient, django_assert_max_num_queries: Any, rows: int
) -> None:
    make_entries(rows, same_time=False)

    # token lookup (with its user) + one page query, however many rows and content types
    with django_assert_max_num_queries(2):
        response = as_operator.get("/operator/audit-log", limit=50)

    assert response.status_code == 200
    assert len(response.json()["items"]) == min(rows, 50)
