"""GET /healthz answered by the event loop itself, never queued behind requests.

A load balancer's probe that waits for a free lane (agora.asgi) times out exactly when
the server is busiest, and a busy but healthy server is then taken out of rotation. So
the served application answers the probe before a lane is asked for: a tiny JSON
response built in the event loop, with one `SELECT 1` run on a thread of the probe's
own and given `DATABASE_TIMEOUT_SECONDS` to answer.

The probe's thread opens a fresh connection per probe and closes it after: a probe every
few seconds costs little, a connection kept open would outlive a database restart in a
broken state and hold a test database open. (Under WSGI and in tests, the Django view
`agora.web.views.healthz` answers the same path with the same body.)
"""

from __future__ import annotations

import asyncio
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.db import DatabaseError, connection

logger = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
DATABASE_TIMEOUT_SECONDS = 2.0
_HEADERS = [
    (b"content-type", b"application/json"),
    (b"cache-control", b"max-age=0, no-cache, no-store, must-revalidate, private"),
    (b"x-content-type-options", b"nosniff"),
]


def is_probe(scope: dict[str, Any]) -> bool:
    return scope.get("path") == HEALTH_PATH and scope.get("method") in ("GET", "HEAD")


def database_round_trip() -> str:
    """One `SELECT 1` on a new connection of the calling thread; the database's vendor."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return connection.vendor
    finally:
        connection.close()


class HealthProbe:
    def __init__(self, timeout: float = DATABASE_TIMEOUT_SECONDS) -> None:
        self.timeout = timeout
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="agora-health")

    async def check(self) -> tuple[int, dict[str, str]]:
        loop = asyncio.get_running_loop()
        try:
            vendor = await asyncio.wait_for(
                loop.run_in_executor(self._executor, database_round_trip), self.timeout
            )
        except TimeoutError:
            logger.warning("health check: the database did not answer in %.1f s", self.timeout)
            return 503, {"status": "error", "database": "timeout"}
        except DatabaseError:
            logger.exception("health check: database unreachable")
            return 503, {"status": "error", "database": "unreachable"}
        return 200, {"status": "ok", "database": vendor}

    async def serve(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        status, document = await self.check()
        body = json.dumps(document).encode()
        headers = [*_HEADERS, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send(
            {"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body}
        )
