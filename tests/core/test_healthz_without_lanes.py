"""GET /healthz is answered while every lane is busy (agora.core.health).

A burst of slow requests occupies all of a worker's lanes; a load balancer's probe that
queued behind them would time out and take a healthy server out of rotation.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import pytest

from tests.conftest import run_coroutine

pytestmark = pytest.mark.django_db(transaction=True)


def scope(method: str = "GET", path: str = "/healthz") -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


async def probe(application: Any, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await application(scope(method), receive, send)
    start, *bodies = sent
    headers = {name.decode(): value.decode() for name, value in start["headers"]}
    return start["status"], headers, b"".join(part.get("body", b"") for part in bodies)


def test_healthz_answers_in_time_while_every_lane_is_busy() -> None:
    from agora.asgi import application

    release = threading.Event()

    async def scenario() -> tuple[float, int, dict[str, str], bytes, bytes]:
        # Given every lane held by a slow request
        busy = [
            asyncio.ensure_future(application.run_on_lane(lambda: release.wait(30)))
            for _ in range(application.lane_count)
        ]
        await asyncio.sleep(0.2)
        try:
            # When the load balancer probes
            started = time.monotonic()
            status, headers, body = await asyncio.wait_for(probe(application), 5)
            elapsed = time.monotonic() - started
            _, _, head_body = await asyncio.wait_for(probe(application, "HEAD"), 5)
        finally:
            release.set()
            await asyncio.gather(*busy)
        return elapsed, status, headers, body, head_body

    elapsed, status, headers, body, head_body = run_coroutine(scenario())

    # Then it is answered at once, with a real round trip to the database
    assert elapsed < 2.5
    assert status == 200
    from django.db import connection

    assert json.loads(body) == {"status": "ok", "database": connection.vendor}
    assert headers["content-type"] == "application/json"
    assert "no-store" in headers["cache-control"]
    assert head_body == b""
