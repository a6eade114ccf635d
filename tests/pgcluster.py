"""A throwaway PostgreSQL cluster for tests that stop or restart the server themselves.

The suite's own database (scripts/with-postgres, pytest-django's test database) is shared
by every test and must never go down under them; a test that needs to take a server down
starts one of these instead. Binaries are found, and root is handled, as in
scripts/with-postgres: initdb refuses to run as root, so as root every server command runs
as the `postgres` user in a directory it owns.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


def find_bindir() -> Path | None:
    """The directory holding initdb and pg_ctl: on PATH, else the newest /usr/lib/postgresql."""
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl:
        # Resolved, so that createdb comes from the same installation.
        return Path(os.path.realpath(initdb)).parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda path: int(Path(path).parent.name) if Path(path).parent.name.isdigit() else 0,
        reverse=True,
    )
    for candidate in candidates:
        if all(os.access(Path(candidate) / tool, os.X_OK) for tool in ("initdb", "pg_ctl")):
            return Path(candidate)
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_postgres() -> list[str]:
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


@dataclass(frozen=True)
class PostgresCluster:
    bindir: Path
    root: Path
    port: int

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    @property
    def logfile(self) -> Path:
        return self.root / "server.log"

    @property
    def url(self) -> str:
        """DATABASE_URL of the database "agora", owned by role "agora" (trust auth)."""
        return f"postgres://agora@127.0.0.1:{self.port}/agora"

    def server_log(self) -> str:
        try:
            return self.logfile.read_text(errors="replace")
        except OSError:
            return ""

    def _run(self, tool: str, *args: str) -> None:
        command = [*_as_postgres(), str(self.bindir / tool), *args]
        result = subprocess.run(  # noqa: S603 - PostgreSQL's own tools, our arguments
            command, capture_output=True, text=True, timeout=90
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{tool} failed ({result.returncode}): {result.stdout}{result.stderr}\n"
                f"server log:\n{self.server_log()}"
            )

    def initdb(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self.datadir),
            "-U",
            "agora",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        )

    def createdb(self) -> None:
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "agora", "agora")

    def start(self) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.datadir),
            "-l",
            str(self.logfile),
            "-w",
            "-t",
            "60",
            "start",
            "-o",
            options,
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; "fast" disconnects clients as a routine restart does."""
        self._run("pg_ctl", "-D", str(self.datadir), "-m", mode, "-w", "stop")


@contextlib.contextmanager
def running_cluster(bindir: Path) -> Iterator[PostgresCluster]:
    """A started cluster with database "agora"; stopped and deleted on exit, always."""
    root = Path(tempfile.mkdtemp(prefix="agora-pg-"))
    root.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    cluster = PostgresCluster(bindir=bindir, root=root, port=_free_port())
    try:
        cluster.initdb()
        cluster.start()
        cluster.createdb()
        yield cluster
    finally:
        if (cluster.datadir / "postmaster.pid").exists():
            with contextlib.suppress(RuntimeError):  # already down; the directory goes anyway
                cluster.stop(mode="immediate")
        shutil.rmtree(root, ignore_errors=True)
