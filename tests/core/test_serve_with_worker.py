"""`agora serve --with-worker` (what `make run` uses) stops its worker with the server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.core.test_asgi_lanes import free_port

REPO = Path(__file__).resolve().parents[2]


def children_of(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "State:\tZ" not in status.read_text()


def wait_until(predicate: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_the_worker_stops_with_the_server(tmp_path: Path, stop: signal.Signals) -> None:
    # Given a server started with its worker
    port = free_port()
    env = {
        **os.environ,
        "AGORA_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "agora", "serve", "--with-worker", "--port", str(port)],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert wait_until(lambda: children_of(server.pid), 30), "no worker was started"
        assert wait_until(lambda: _healthy(port), 30), "the server did not come up"
        (worker,) = children_of(server.pid)
        assert alive(worker)

        # When the server is stopped (or killed)
        server.send_signal(stop)
        server.wait(20)

        # Then its worker is gone too
        assert wait_until(lambda: not alive(worker), 20), "the worker outlived the server"
    finally:
        if server.poll() is None:
            server.kill()


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code in (200, 503)
    except httpx.HTTPError:
        return False
