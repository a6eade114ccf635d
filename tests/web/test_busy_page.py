"""A page whose row is busy (a lock timeout or a deadlock that no service retried) says so
with 503 and Retry-After, instead of "the database is down" (#21 item 4)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import OperationalError
from django.test import RequestFactory

from agora.web.errors import PageErrorMiddleware

pytestmark = pytest.mark.django_db


def _middleware() -> PageErrorMiddleware:
    return PageErrorMiddleware(lambda request: None)  # type: ignore[arg-type,return-value]


def test_a_busy_row_on_a_page_is_503_busy_with_retry_after(rf: RequestFactory) -> None:
    request: Any = rf.post("/account/bookings/1/cancel/")
    request.user = None

    response = _middleware().process_exception(request, OperationalError("database is locked"))

    assert response is not None
    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert "nothing was saved" in response.content.decode()


def test_a_database_that_is_down_is_still_the_unavailable_page(rf: RequestFactory) -> None:
    request: Any = rf.get("/account/")

    response = _middleware().process_exception(request, OperationalError("connection refused"))

    assert response is not None
    assert response.status_code == 503
    assert "cannot reach its database" in response.content.decode()
