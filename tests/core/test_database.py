"""Which database the suite runs on is asserted, not assumed: `make test` runs it twice."""

import os

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_runs_on_the_database_the_run_expects() -> None:
    expected = os.environ.get("AGORA_EXPECT_DB")
    if os.environ.get("CI") and not expected:
        pytest.fail("CI must say which database it expects (AGORA_EXPECT_DB)")
    if expected:
        assert connection.vendor == expected


def test_postgresql_run_talks_to_a_real_postgresql() -> None:
    if os.environ.get("AGORA_EXPECT_DB") != "postgresql":
        pytest.skip("the SQLite run; the PostgreSQL run asserts this")
    with connection.cursor() as cursor:
        cursor.execute("SELECT version(), current_setting('server_version_num')::int")
        version, number = cursor.fetchone()
    assert version.startswith("PostgreSQL")
    assert number >= 150000


def test_sqlite_is_tuned_for_a_web_server() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] >= 10000
        cursor.execute("PRAGMA synchronous")
        assert cursor.fetchone()[0] == 1  # NORMAL
    assert connection.transaction_mode == "IMMEDIATE"
