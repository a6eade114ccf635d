"""A code and a recovery code are each good once, even for requests racing with them.

The losers are refused as wrong codes, or (once five have failed, on SQLite where the
threads take turns) by the code throttle: either way exactly one gets in. Without the
conditional UPDATE that claims a code's time step, several racing checks accept one code
(seen on PostgreSQL with the guard removed)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django_otp.plugins.otp_static.models import StaticToken

from agora.accounts.models import ApiToken, User
from agora.accounts.services import token_issue
from agora.accounts.two_factor.services import otp_check
from agora.core import clock
from agora.core.errors import NotAuthenticated, RateLimited
from tests.accounts.two_factor_helpers import PASSWORD, code_for, enrol, token_without_otp
from tests.factories import UserFactory
from tests.race import run_concurrently

pytestmark = [pytest.mark.race, pytest.mark.django_db(transaction=True)]

START = datetime(2030, 1, 1, 12, 1, 40, tzinfo=UTC)
THREADS = 8


@pytest.fixture(autouse=True)
def _frozen_clock() -> Iterator[None]:
    with clock.frozen(START):
        yield


def race_sign_ins(user: User, otp: str) -> list[str]:
    def attempt(_: int) -> str:
        try:
            token_issue(email=user.email, password=PASSWORD, ip="127.0.0.1", otp=otp)
        except (NotAuthenticated, RateLimited):
            return "refused"
        return "signed in"

    return run_concurrently(attempt, threads=THREADS)


def race_code_checks(user: User, otp: str) -> list[str]:
    """The code step alone, each thread connected to the database before the start, so the
    threads meet where the code is checked and spent."""
    ready = threading.Barrier(THREADS)

    def attempt(_: int) -> str:
        connection.ensure_connection()
        ready.wait(timeout=30)
        try:
            otp_check(user=user, otp=otp)
        except (NotAuthenticated, RateLimited):
            return "refused"
        return "accepted"

    return run_concurrently(attempt, threads=THREADS)


def test_one_code_signs_in_once_under_concurrency() -> None:
    ann = UserFactory()
    secret, _ = enrol(token_without_otp(ann))
    clock.advance(timedelta(seconds=30))
    tokens_before = ApiToken.objects.count()

    outcomes = race_sign_ins(ann, code_for(secret))

    assert sorted(outcomes) == ["refused"] * (THREADS - 1) + ["signed in"]
    assert ApiToken.objects.count() == tokens_before + 1


def test_one_recovery_code_signs_in_once_under_concurrency() -> None:
    ann = UserFactory()
    _, recovery = enrol(token_without_otp(ann))

    outcomes = race_sign_ins(ann, recovery[0])

    assert sorted(outcomes) == ["refused"] * (THREADS - 1) + ["signed in"]
    assert StaticToken.objects.filter(device__user=ann).count() == 9


def test_one_code_is_accepted_once_by_racing_code_checks() -> None:
    ann = UserFactory()
    secret, _ = enrol(token_without_otp(ann))
    clock.advance(timedelta(seconds=30))

    outcomes = race_code_checks(User.objects.get(pk=ann.pk), code_for(secret))

    assert sorted(outcomes) == ["accepted"] + ["refused"] * (THREADS - 1)
