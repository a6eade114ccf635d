"""The served application reuses a bounded number of database connections.

A real `agora serve` process (uvicorn, several workers) on the test database, real HTTP
from many concurrent clients. The server processes report every database connection they
open through Django's `connection_created` signal, hooked in by a `sitecustomize` module
put on the server's PYTHONPATH (the application code is untouched). Django's stock ASGI
handler runs each request on a new thread and so opens a connection per request; the
lanes of `agora.asgi` keep it to workers × AGORA_SYNC_THREADS.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.db import connection

from agora.asgi import LaneASGIHandler, lanes_from_env

pytestmark = pytest.mark.django_db(transaction=True)

REPO = Path(__file__).resolve().parents[2]

HOOK = """\
import os, threading
from django.db.backends.signals import connection_created

def _note(sender, connection, **kwargs):
    with open(os.environ["AGORA_TEST_CONNECTION_LOG"], "a") as log:
        log.write(f"{os.getpid()} {threading.get_ident()}\\n")

connection_created.connect(_note, weak=False)
"""


def database_url() -> str:
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    user = settings["USER"] or ""
    password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
    host = settings["HOST"] or "localhost"
    port = f":{settings['PORT']}" if settings["PORT"] else ""
    return f"postgres://{user}{password}@{host}{port}/{settings['NAME']}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Served:
    def __init__(self, base_url: str, log: Path) -> None:
        self.base_url = base_url
        self.log = log

    def connections_opened(self) -> list[tuple[int, int]]:
        if not self.log.exists():
            return []
        return [
            (int(pid), int(thread))
            for pid, thread in (line.split() for line in self.log.read_text().splitlines())
        ]


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Any]:
    started: list[subprocess.Popen[bytes]] = []

    def start(*, workers: int, lanes: str | None) -> Served:
        hook_dir = tmp_path / "hook"
        hook_dir.mkdir(exist_ok=True)
        (hook_dir / "sitecustomize.py").write_text(HOOK)
        log = tmp_path / "connections.log"
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "AGORA_VAR_DIR": str(tmp_path / "var"),
            "DEBUG": "0",
            "SECRET_KEY": "lanes-test-" + "x" * 40,
            "PYTHONPATH": os.pathsep.join(
                [str(hook_dir), str(REPO / "src"), os.environ.get("PYTHONPATH", "")]
            ),
            "AGORA_TEST_CONNECTION_LOG": str(log),
        }
        env.pop("AGORA_SYNC_THREADS", None)
        if lanes is not None:
            env["AGORA_SYNC_THREADS"] = lanes
        server_log = (tmp_path / f"server-{port}.log").open("wb")
        command = [sys.executable, "-m", "agora", "serve", "--port", str(port)]
        command += ["--workers", str(workers), "--log-level", "warning"]
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            command,
            env=env,
            cwd=REPO,
            stdout=server_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        server_log.close()
        started.append(proc)
        base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert proc.poll() is None, (tmp_path / f"server-{port}.log").read_text()
            try:
                if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            pytest.fail("the server did not come up")
        # The probes above ran on the health check's own thread, one connection each
        # (agora.core.health); what is counted from here on is the lanes'.
        log.unlink(missing_ok=True)
        return Served(base_url, log)

    yield start
    for proc in started:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def hammer(base_url: str, *, requests: int, clients: int) -> list[list[dict[str, Any]]]:
    """`requests` GET /api/v1/categories (a read of the database, served on a lane) from
    `clients` concurrent keep-alive clients. (/healthz would not do: it is answered in the
    event loop, without a lane — agora.core.health.)"""

    def client_run(count: int) -> list[list[dict[str, Any]]]:
        with httpx.Client(base_url=base_url, timeout=30) as client:
            answers = []
            for _ in range(count):
                response = client.get("/api/v1/categories")
                assert response.status_code == 200, response.text
                answers.append(response.json())
            return answers

    per_client = requests // clients
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(client_run, [per_client] * clients))
    return [answer for answers in results for answer in answers]


def test_many_concurrent_requests_reuse_one_connection_per_lane(serve: Any) -> None:
    # Given two worker processes with the default single lane each
    served = serve(workers=2, lanes=None)

    # When 32 clients send 640 requests that each talk to the database
    answers = hammer(served.base_url, requests=640, clients=32)

    # Then every one was answered from the database (the seeded category tree)...
    assert len(answers) == 640
    assert len({len(answer) for answer in answers}) == 1
    assert answers[0]
    # ...through at most one connection per worker, each opened on one long-lived thread
    opened = served.connections_opened()
    assert 1 <= len(opened) <= 2, opened
    assert len({pid for pid, _ in opened}) == len(opened)


def test_lanes_per_worker_bound_the_connections(serve: Any) -> None:
    served = serve(workers=1, lanes="3")

    answers = hammer(served.base_url, requests=320, clients=32)

    assert len(answers) == 320
    opened = served.connections_opened()
    assert 1 <= len(opened) <= 3, opened
    assert len(set(opened)) == len(opened)  # one per lane thread, never reopened


def test_the_lane_count_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGORA_SYNC_THREADS", raising=False)
    assert lanes_from_env() == 1
    monkeypatch.setenv("AGORA_SYNC_THREADS", "4")
    assert lanes_from_env() == 4
    assert len(LaneASGIHandler(4).executors) == 4
    for bad in ("0", "-2", "many"):
        monkeypatch.setenv("AGORA_SYNC_THREADS", bad)
        with pytest.raises(ValueError, match="AGORA_SYNC_THREADS"):
            lanes_from_env()


def test_the_served_app_answers_pages_api_errors_and_writes(serve: Any) -> None:
    """The whole request path runs as one sync call on a lane: middleware (security
    headers, problem+json, idempotency), the view, and the response's close."""
    served = serve(workers=1, lanes=None)
    with httpx.Client(base_url=served.base_url, timeout=30) as client:
        missing = client.get("/api/v1/listings/987654")
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("application/problem+json")
        assert missing.json()["code"] == "not_found"
        assert "x-content-type-options" in missing.headers

        page = client.get("/robots.txt")
        assert page.status_code == 200
        assert "Sitemap:" in page.text

        body = {"email": "lanes@example.test", "password": "a-Long-passw0rd!", "name": "Lane"}
        first = client.post(
            "/api/v1/auth/register", json=body, headers={"Idempotency-Key": "lanes-1"}
        )
        again = client.post(
            "/api/v1/auth/register", json=body, headers={"Idempotency-Key": "lanes-1"}
        )
        assert first.status_code == 201, first.text
        assert again.status_code == 201
        assert again.headers.get("idempotent-replayed") == "true"
        assert again.json() == first.json()
