"""Real server processes for the live-stream tests: `agora serve` on the test database,
`redis-server`, and which worker process holds a given connection (from /proc)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.db import connection

REPO = Path(__file__).resolve().parents[3]


def database_url() -> str:
    """The URL of the database this test process uses (the test database)."""
    config = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{config['NAME']}"
    user = config["USER"] or ""
    password = f":{config['PASSWORD']}" if config["PASSWORD"] else ""
    host = config["HOST"] or "localhost"
    port = f":{config['PORT']}" if config["PORT"] else ""
    return f"postgres://{user}{password}@{host}{port}/{config['NAME']}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_text(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def workers(self) -> set[int]:
        """The pids of this server's worker processes (or of the server, with one)."""
        children = _children(self.process.pid)
        return children or {self.process.pid}

    def pid_serving(self, client_port: int) -> int | None:
        """The process whose socket is the server end of the connection from `client_port`."""
        inode = _server_socket_inode(self.port, client_port)
        if inode is None:
            return None
        for pid in self.workers():
            try:
                for fd in os.listdir(f"/proc/{pid}/fd"):
                    if os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]":
                        return pid
            except OSError:
                continue
        return None


def _children(parent: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after its ")".
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) != parent:
            continue
        try:
            command = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if b"resource_tracker" not in command:  # multiprocessing's helper, not a worker
            found.add(int(entry))
    return found


def _hex_port(value: str) -> int:
    return int(value.rsplit(":", 1)[1], 16)


def _server_socket_inode(server_port: int, client_port: int) -> str | None:
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            local, remote, inode = parts[1], parts[2], parts[9]
            if _hex_port(local) == server_port and _hex_port(remote) == client_port:
                return inode
    return None


class Servers:
    """Starts `agora serve` processes on the test database; stops them all at the end."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.started: list[Served] = []

    def start(self, *, workers: int = 1, env: dict[str, str] | None = None) -> Served:
        port = free_port()
        log = self.tmp_path / f"server-{port}.log"
        server_env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "AGORA_VAR_DIR": str(self.tmp_path / f"var-{port}"),
            "DEBUG": "0",
            # The same key as this process: sessions made here are valid there.
            "SECRET_KEY": settings.SECRET_KEY,
            "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")]),
            "LOG_LEVEL": "INFO",
        }
        server_env.pop("REDIS_URL", None)
        server_env.pop("AGORA_SYNC_THREADS", None)
        server_env.update(env or {})
        command = [sys.executable, "-m", "agora", "serve", "--port", str(port)]
        command += ["--workers", str(workers), "--log-level", "warning"]
        with log.open("wb") as out:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                command,
                env=server_env,
                cwd=REPO,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        served = Served(process, port, log)
        self.started.append(served)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert process.poll() is None, served.log_text()
            try:
                healthy = httpx.get(f"{served.url}/healthz", timeout=2).status_code == 200
                if healthy and len(served.workers()) >= workers:
                    return served
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        pytest.fail(f"the server did not come up: {served.log_text()}")

    def stop(self, served: Served, timeout: float = 15) -> float:
        """SIGTERM, and how long the server took to exit."""
        began = time.monotonic()
        served.process.terminate()
        try:
            served.process.wait(timeout)
        except subprocess.TimeoutExpired:
            served.process.kill()
            served.process.wait(5)
        return time.monotonic() - began

    def stop_all(self) -> None:
        for served in self.started:
            if served.process.poll() is None:
                self.stop(served)


def redis_required() -> bool:
    """In CI (or wherever a database is expected), a missing redis-server is a failure."""
    return bool(os.environ.get("CI") or os.environ.get("AGORA_EXPECT_DB"))


@contextmanager
def redis_server(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A throwaway `redis-server` on a free port, no persistence; its URL and process."""
    binary = shutil.which("redis-server")
    if binary is None:
        message = "redis-server is missing (apt-get install redis-server)"
        if redis_required():
            pytest.fail(message)
        pytest.skip(message)
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - a fixed binary and arguments
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        import redis

        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
                break
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
