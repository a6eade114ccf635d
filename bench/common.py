"""Shared helpers for the HTTP benchmarks under bench/.

What every benchmark that drives a real server needs, in one place:

* a scratch environment — the database named by DATABASE_URL (PostgreSQL through
  `scripts/with-postgres`) or else a fresh SQLite file, and AGORA_VAR_DIR in a temporary
  directory so that nothing touches ./var/ (`ScratchEnv`);
* `agora migrate` in a subprocess and Django set up in this process for fixtures and
  sweeps (`migrate`, `django_setup`);
* marketplace fixtures made through the services (operator, active vendor, schedule,
  service listings) and many customers with bearer tokens made in bulk, without paying
  Argon2 for each (`Fixtures`);
* `agora serve --workers N` on a free port as a subprocess, waited for on /healthz and
  always stopped — terminate, then kill (`Server`);
* a closed-loop asyncio + httpx load driver (`closed_loop`) and `percentile`;
* what a result must be recorded with: the machine and the load average (`machine_info`,
  `loadavg`).

Everything talks to 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
HOST = "127.0.0.1"


# --- small utilities ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0..100) of `values`; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def loadavg() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def machine_info() -> dict[str, str]:
    """What a recorded figure needs beside it."""
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    import django

    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "ram": ram,
        "python": platform.python_version(),
        "django": django.get_version(),
        "kernel": platform.release(),
    }


# --- scratch environment -----------------------------------------------------------------


class ScratchEnv:
    """The environment a benchmark's setup and its server share.

    DATABASE_URL from the caller's environment when set (PostgreSQL under
    scripts/with-postgres), else a fresh SQLite file in a temporary AGORA_VAR_DIR. The
    temporary directory is removed by `close()`, whatever happened.
    """

    def __init__(self, *, prefix: str = "agora-bench-", extra: dict[str, str] | None = None):
        self.dir = Path(tempfile.mkdtemp(prefix=prefix))
        env = dict(os.environ)
        env["AGORA_VAR_DIR"] = str(self.dir)
        env["DJANGO_SETTINGS_MODULE"] = "agora.settings"
        env["DEBUG"] = "0"
        env.setdefault("SECRET_KEY", "bench-" + secrets.token_urlsafe(32))
        env.setdefault("LOG_LEVEL", "WARNING")
        env["PYTHONUNBUFFERED"] = "1"
        if extra:
            env.update(extra)
        self.env = env

    @property
    def database_url(self) -> str:
        return self.env.get("DATABASE_URL", "") or f"sqlite:///{self.dir / 'agora.sqlite3'}"

    @property
    def db_label(self) -> str:
        return "postgresql" if self.database_url.startswith(("postgres", "pgsql")) else "sqlite"

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> ScratchEnv:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def agora_command(*args: str) -> list[str]:
    """`agora ARGS...` through this interpreter (the venv's console script may be absent)."""
    return [sys.executable, "-m", "agora", *args]


def migrate(env: ScratchEnv) -> None:
    subprocess.run(
        agora_command("migrate", "--verbosity", "0", "--no-input"),
        env=env.env,
        cwd=REPO,
        check=True,
    )


def django_setup(env: ScratchEnv) -> None:
    """Set up Django in this process on the scratch database (for fixtures and sweeps)."""
    os.environ.update(
        {
            k: v
            for k, v in env.env.items()
            if k.startswith(("AGORA_", "DJANGO_", "SECRET_", "LOG_LEVEL"))
        }
    )
    if "DATABASE_URL" in env.env:
        os.environ["DATABASE_URL"] = env.env["DATABASE_URL"]
    os.environ["DEBUG"] = "0"
    import django

    django.setup()


def close_db_connections() -> None:
    """Let go of this process's connections before the server takes the database."""
    from django.db import connections

    connections.close_all()


# --- marketplace fixtures ----------------------------------------------------------------

FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
OPEN_EVERY_DAY = {day: [["08:00", "20:00"]] for day in WEEKDAYS}


@dataclass
class Customer:
    user_id: int
    email: str
    token: str


class Fixtures:
    """Marketplace data made through the services, as a real vendor would get it.

    Only passwords are cut short: the setup process hashes with MD5 (never the server,
    which keeps Argon2), and customers' bearer tokens are inserted as ApiToken rows holding
    the token's SHA-256, exactly as `agora.accounts.services.token_issue` stores them.
    """

    def __init__(self, tag: str | None = None) -> None:
        self.tag = tag or secrets.token_hex(3)

    @contextmanager
    def fast_passwords(self) -> Iterator[None]:
        from django.test import override_settings

        with override_settings(PASSWORD_HASHERS=FAST_HASHERS):
            yield

    def operator(self) -> Any:
        from agora.accounts.services import operator_create

        with self.fast_passwords():
            return operator_create(
                email=f"operator-{self.tag}@bench.test", password="bench-Operator-pw-1"
            )

    def active_vendor(
        self, *, operator: Any, name: str, timezone: str = "Europe/London"
    ) -> tuple[Any, Any]:
        """(owner, vendor): a new user applies, the operator approves."""
        from agora.accounts.models import User
        from agora.vendors.services import vendor_apply, vendor_approve

        with self.fast_passwords():
            owner = User.objects.create_user(
                f"owner-{self.tag}-{secrets.token_hex(3)}@bench.test",
                "bench-Owner-pw-1",
                name="Bench owner",
            )
        vendor = vendor_apply(user=owner, name=name, timezone=timezone, currency="GBP")
        vendor = vendor_approve(actor=operator, vendor=vendor)
        return owner, vendor

    def schedule(self, *, owner: Any, vendor: Any, weekly: dict[str, Any] | None = None) -> None:
        from agora.bookings.services.setup import schedule_set

        schedule_set(actor=owner, vendor=vendor, weekly=weekly or OPEN_EVERY_DAY, overrides=[])

    def service(
        self,
        *,
        owner: Any,
        vendor: Any,
        title: str,
        capacity: int = 1,
        duration: int = 60,
        step: int | None = None,
        category: str = "mot-servicing",
        price: int = 5485,
    ) -> Any:
        from agora.catalog.services import listing_create
        from agora.core.money import Money

        extra: dict[str, Any] = {"duration_minutes": duration, "capacity": capacity}
        if step is not None:
            extra["slot_step_minutes"] = step
        return listing_create(
            actor=owner,
            vendor=vendor,
            kind="service",
            title=title,
            category=category,
            price=Money(price, "GBP"),
            **extra,
        )

    def customers(self, count: int, *, ttl_hours: int = 12) -> list[Customer]:
        """`count` customers, each with a live bearer token, in two bulk INSERTs."""
        from datetime import timedelta

        from django.contrib.auth.hashers import make_password

        from agora.accounts.models import ApiToken, User
        from agora.core import clock

        with self.fast_passwords():
            password = make_password("bench-Customer-pw-1")
        users = [
            User(email=f"c{i}-{self.tag}@bench.test", name=f"Customer {i}", password=password)
            for i in range(count)
        ]
        User.objects.bulk_create(users, batch_size=500)
        users = list(
            User.objects.filter(
                email__endswith=f"-{self.tag}@bench.test", email__startswith="c"
            ).order_by("id")
        )
        now = clock.now()
        raws = ["agora_" + secrets.token_urlsafe(32) for _ in users]
        ApiToken.objects.bulk_create(
            [
                ApiToken(
                    user=user,
                    token_hash=hashlib.sha256(raw.encode()).hexdigest(),
                    prefix=raw[:12],
                    created_at=now,
                    expires_at=now + timedelta(hours=ttl_hours),
                )
                for user, raw in zip(users, raws, strict=True)
            ],
            batch_size=500,
        )
        return [
            Customer(user_id=user.pk, email=user.email, token=raw)
            for user, raw in zip(users, raws, strict=True)
        ]


# --- the server --------------------------------------------------------------------------


class Server:
    """`agora serve --workers N` on 127.0.0.1:<free port>, in its own process group.

    Output goes to a log file in the scratch directory (a pipe could fill and stall it).
    `stop()` terminates the group, then kills what is left; it is safe to call twice.
    """

    def __init__(self, env: ScratchEnv, *, workers: int = 1, port: int | None = None) -> None:
        self.env = env
        self.workers = workers
        self.port = port or free_port()
        self.log_path = env.dir / f"server-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, *, timeout: float = 60.0) -> Server:
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            agora_command(
                "serve",
                "--host",
                HOST,
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
                "--log-level",
                "warning",
            ),
            env=self.env.env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.wait_healthy(timeout=timeout)
        return self

    def wait_healthy(self, *, timeout: float) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        healthy_needed = max(1, self.workers) * 2  # a few answers, likely from each worker
        healthy = 0
        last_error = ""
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"server exited early; log:\n{self.log_tail()}")
            try:
                response = httpx.get(f"{self.base_url}/healthz", timeout=2.0)
                if response.status_code == 200:
                    healthy += 1
                    # uvicorn's workers come up one by one: wait until all are there.
                    if healthy >= healthy_needed and (
                        self.workers == 1 or len(self.worker_pids()) >= self.workers
                    ):
                        return
                else:
                    last_error = f"HTTP {response.status_code}"
            except httpx.HTTPError as error:
                last_error = repr(error)
            time.sleep(0.2)
        raise RuntimeError(
            f"server not healthy after {timeout}s ({last_error}); log:\n{self.log_tail()}"
        )

    def worker_pids(self) -> list[int]:
        """PIDs running Django: the workers (children) when N > 1, else the server itself."""
        if self.proc is None:
            return []
        if self.workers == 1:
            return [self.proc.pid]
        children: list[int] = []
        try:
            for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
                text = (task / "children").read_text().split()
                children.extend(int(pid) for pid in text)
        except OSError:
            return []
        # uvicorn's multiprocessing may start a resource tracker too; workers run Python
        # with the same command line fragment "multiprocessing" and import Django.
        return [pid for pid in children if "resource_tracker" not in _cmdline(pid)]

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def log_count(self, needle: str) -> int:
        try:
            return self.log_path.read_text(errors="replace").count(needle)
        except OSError:
            return 0

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


class PySpy:
    """`py-spy record` on some PIDs for as long as the block lasts (raw collapsed stacks:
    `--format raw` files are greppable; `speedscope`/`flamegraph` work too)."""

    def __init__(self, pids: Sequence[int], out_dir: Path, *, fmt: str = "raw", rate: int = 200):
        self.pids = list(pids)
        self.out_dir = out_dir
        self.fmt = fmt
        self.rate = rate
        self.procs: list[subprocess.Popen[bytes]] = []
        self.outputs: list[Path] = []

    def __enter__(self) -> PySpy:
        exe = shutil.which("py-spy", path=str(VENV_BIN)) or shutil.which("py-spy")
        if exe is None:
            raise RuntimeError("py-spy is not installed: .venv/bin/pip install py-spy")
        self.out_dir.mkdir(parents=True, exist_ok=True)
        suffix = {"raw": "txt", "speedscope": "json", "flamegraph": "svg"}[self.fmt]
        for pid in self.pids:
            out = self.out_dir / f"py-spy-{pid}.{suffix}"
            self.outputs.append(out)
            self.procs.append(
                subprocess.Popen(
                    [
                        exe,
                        "record",
                        "--pid",
                        str(pid),
                        "--rate",
                        str(self.rate),
                        "--format",
                        self.fmt,
                        "--output",
                        str(out),
                        "--threads",
                        "--nonblocking",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        time.sleep(1.0)  # let it attach
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# --- load --------------------------------------------------------------------------------


@dataclass
class LoadResult:
    label: str
    sent: int = 0
    elapsed: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)  # seconds, answered requests only
    errors: Counter[str] = field(default_factory=Counter)  # no answer: exception name
    client_cpu: float = 0.0  # seconds of this process's CPU during the run

    @property
    def answered(self) -> int:
        return sum(self.statuses.values())

    @property
    def rate(self) -> float:
        return self.sent / self.elapsed if self.elapsed else 0.0

    def ms(self, pct: float) -> float:
        return percentile(self.latencies, pct) * 1000

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def status_text(self) -> str:
        parts = [f"{status}={self.statuses[status]}" for status in sorted(self.statuses)]
        if not any(status >= 500 for status in self.statuses):
            parts.append("5xx=0")
        else:
            parts.append(f"5xx={self.server_errors}")
        if self.errors:
            kinds = ",".join(f"{name}:{n}" for name, n in self.errors.most_common())
            parts.append(f"unanswered={sum(self.errors.values())}({kinds})")
        return " ".join(parts)


async def closed_loop(
    *,
    label: str,
    total: int,
    concurrency: int,
    send: Callable[[int, int], Awaitable[int]],
) -> LoadResult:
    """`concurrency` clients, each sending its next request as soon as the previous one is
    answered, until `total` have been sent. `send(i, client)` performs request i (0-based)
    for client `client` and returns the HTTP status; its latency is measured around it."""
    result = LoadResult(label=label)
    counter = iter(range(total))

    async def client(index: int) -> None:
        for i in counter:
            started = time.perf_counter()
            try:
                status = await send(i, index)
            except Exception as error:  # every failure is counted, none hidden
                result.errors[type(error).__name__] += 1
                continue
            result.latencies.append(time.perf_counter() - started)
            result.statuses[status] += 1

    cpu_before = time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(client(k) for k in range(concurrency)))
    result.elapsed = time.perf_counter() - started
    result.client_cpu = time.process_time() - cpu_before
    result.sent = total
    return result


def http_client(concurrency: int, *, timeout: float = 60.0) -> Any:
    import httpx

    return httpx.AsyncClient(
        limits=httpx.Limits(
            max_connections=concurrency, max_keepalive_connections=concurrency, keepalive_expiry=60
        ),
        timeout=httpx.Timeout(timeout, connect=timeout, pool=timeout),
    )


class RawHTTPConnection:
    """A minimal HTTP/1.1 keep-alive client connection over asyncio streams.

    httpx costs the load generator ~2-3 ms of CPU per request on this class of machine,
    and its pool gets slower with many connections: on a 2-core box the client then takes
    the CPU the server needs. This one sends a prepared request and reads the status line,
    headers and a Content-Length or chunked body: ~0.1 ms per request. One per client.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(
        self, method: str, path: str, *, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, bytes]:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        if body:
            lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        payload = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        for attempt in (1, 2):
            fresh = self.writer is None
            if fresh:
                await self._connect()
            assert self.reader is not None
            assert self.writer is not None
            try:
                self.writer.write(payload)
                status_line = await self.reader.readline()
                if not status_line:
                    raise ConnectionResetError("connection closed before the status line")
            except (ConnectionError, OSError):
                self.close()
                # A kept-alive connection the server closed: retry once on a new one (the
                # benchmarks' writes carry an Idempotency-Key, so a retry is safe).
                if fresh or attempt == 2:
                    raise
                continue
            return await self._read_rest(status_line)
        raise AssertionError("unreachable")

    async def _read_rest(self, status_line: bytes) -> tuple[int, bytes]:
        assert self.reader is not None
        status = int(status_line.split(None, 2)[1])
        length = 0
        chunked = close = False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                close = True
        if chunked:
            parts = []
            while True:
                size = int((await self.reader.readline()).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readline()
                    break
                parts.append(await self.reader.readexactly(size))
                await self.reader.readline()
            data = b"".join(parts)
        else:
            data = await self.reader.readexactly(length) if length else b""
        if close:
            self.close()
        return status, data
