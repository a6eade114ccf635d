"""Audited state machines (ARCHITECTURE.md invariant 6).

The machine needs a model with a string state field; `User.name` stands in for one here,
so these tests depend on no app still being written.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType

from agora.accounts.models import User
from agora.core import statemachine
from agora.core.errors import InvalidTransition
from agora.core.models import AuditLog
from agora.core.request_context import reset_request_id, set_request_id
from agora.core.statemachine import StateMachine
from tests.factories import UserFactory
from tests.race import run_concurrently

DEMO = StateMachine.of("demo", {"a": ["b"], "b": ["c", "a"]}, field="name")


@pytest.fixture
def row(db: Any) -> User:
    return UserFactory(name="a")


@pytest.fixture
def actor(db: Any) -> User:
    return UserFactory(is_operator=True)


def state_of(user: User) -> str:
    return User.objects.values_list("name", flat=True).get(pk=user.pk)


def test_declared_transitions() -> None:
    assert DEMO.can("a", "b")
    assert DEMO.can("b", "a")
    assert not DEMO.can("a", "c")
    assert not DEMO.can("c", "a")  # "c" is final
    assert not DEMO.can("zzz", "a")


def test_an_allowed_move_updates_the_row_and_writes_an_audit_row(row: User, actor: User) -> None:
    # When the row moves a -> b
    token = set_request_id("req-42")
    try:
        moved = DEMO.apply(row, "b", actor=actor, reason="customer asked")
    finally:
        reset_request_id(token)

    # Then the row and the instance are in b
    assert moved is row
    assert row.name == "b"
    assert state_of(row) == "b"
    # and one audit row says who moved it, from where to where, and why
    [entry] = AuditLog.objects.all()
    assert entry.action == "demo.b"
    assert entry.actor == actor
    assert entry.content_type == ContentType.objects.get_for_model(User)
    assert entry.object_id == str(row.pk)
    assert entry.data == {"from": "a", "to": "b", "reason": "customer asked"}
    assert entry.request_id == "req-42"


def test_a_move_can_carry_other_fields_an_action_name_and_data(row: User) -> None:
    DEMO.apply(
        row,
        "b",
        actor=None,
        action="demo.approved",
        data={"note": "auto"},
        updates={"is_operator": True},
    )

    fresh = User.objects.get(pk=row.pk)
    assert (fresh.name, fresh.is_operator) == ("b", True)
    assert row.is_operator is True
    [entry] = AuditLog.objects.all()
    assert (entry.action, entry.actor) == ("demo.approved", None)
    assert entry.data == {"from": "a", "to": "b", "reason": "", "note": "auto"}


def test_a_chain_of_moves_is_one_audit_row_each(row: User, actor: User) -> None:
    DEMO.apply(row, "b", actor=actor)
    DEMO.apply(row, "a", actor=actor)
    DEMO.apply(row, "b", actor=actor)
    DEMO.apply(row, "c", actor=actor)

    assert state_of(row) == "c"
    assert [(e.data["from"], e.data["to"]) for e in AuditLog.objects.order_by("id")] == [
        ("a", "b"),
        ("b", "a"),
        ("a", "b"),
        ("b", "c"),
    ]


@pytest.mark.parametrize(("start", "target"), [("a", "c"), ("a", "a"), ("c", "a"), ("a", "x")])
def test_an_undeclared_move_is_refused_and_changes_nothing(
    actor: User, start: str, target: str
) -> None:
    row = UserFactory(name=start)

    with pytest.raises(InvalidTransition) as raised:
        DEMO.apply(row, target, actor=actor)

    error = raised.value
    assert (error.status, error.code) == (409, "invalid_transition")
    assert error.detail == f"A demo cannot move from '{start}' to '{target}'."
    assert error.extra == {"from": start, "to": target}
    assert row.name == start
    assert state_of(row) == start
    assert AuditLog.objects.count() == 0


def test_a_stale_instance_cannot_move_a_row_someone_else_moved(row: User, actor: User) -> None:
    # Given two copies of one row, both loaded in state a
    mine = User.objects.get(pk=row.pk)
    theirs = User.objects.get(pk=row.pk)
    DEMO.apply(theirs, "b", actor=actor)  # someone else moves it a -> b

    # When my stale copy tries the same move
    with pytest.raises(InvalidTransition) as raised:
        DEMO.apply(mine, "b", actor=actor)

    # Then it is refused, naming the row's real state, and only their move is recorded
    assert raised.value.extra == {"from": "b", "to": "b"}
    assert mine.name == "a"
    assert state_of(row) == "b"
    assert AuditLog.objects.count() == 1


def test_a_stale_instance_cannot_jump_over_a_newer_state(row: User, actor: User) -> None:
    stale = User.objects.get(pk=row.pk)
    DEMO.apply(row, "b", actor=actor)
    DEMO.apply(row, "c", actor=actor)  # now final

    # a -> b is declared, but the row is in c: the conditional UPDATE matches nothing
    with pytest.raises(InvalidTransition):
        DEMO.apply(stale, "b", actor=actor)

    assert state_of(row) == "c"
    assert AuditLog.objects.count() == 2


def test_the_move_and_its_audit_row_land_together_or_not_at_all(
    row: User, actor: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_audit(**kwargs: Any) -> None:
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(statemachine, "audit_log", failing_audit)

    with pytest.raises(RuntimeError):
        DEMO.apply(row, "b", actor=actor)

    assert state_of(row) == "a"
    assert AuditLog.objects.count() == 0


@pytest.mark.race
@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_moves_have_exactly_one_winner() -> None:
    # Given one row in a, and 8 requests that each loaded it in a
    row = UserFactory(name="a")

    def move(_: int) -> str:
        copy = User.objects.get(pk=row.pk)
        try:
            DEMO.apply(copy, "b", actor=None)
        except InvalidTransition:
            return "refused"
        return "moved"

    # When they all move it a -> b at once
    outcomes = run_concurrently(move, threads=8)

    # Then one moved it, seven were refused, and there is one audit row
    assert sorted(outcomes) == ["moved"] + ["refused"] * 7
    assert state_of(row) == "b"
    assert AuditLog.objects.filter(action="demo.b").count() == 1
