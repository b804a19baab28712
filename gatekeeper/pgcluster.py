"""A throwaway PostgreSQL cluster in a temporary folder, for the tests and the benchmark.

Uses the server binaries of Debian's `postgresql` package (scripts/ensure-postgres
installs it). initdb refuses to run as root, so as root the cluster belongs to an
unprivileged system user, created once.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

TEST_USER = "gatekeeper-test"


class ClusterUnavailable(Exception):
    """No PostgreSQL server can be started here; the message says why."""


def server_binaries() -> Path | None:
    """The folder holding initdb and postgres: $GATEKEEPER_PG_BIN, PATH, or Debian's newest."""
    candidates = [os.environ.get("GATEKEEPER_PG_BIN", "")]
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(str(Path(os.path.realpath(on_path)).parent))
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True)
    for folder in filter(None, candidates):
        if all((Path(folder) / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _unprivileged_user() -> pwd.struct_passwd | None:
    """None when not root; else the test user, created if missing."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(TEST_USER)
    except KeyError:
        pass
    try:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", TEST_USER],
            check=True, capture_output=True, timeout=30,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise ClusterUnavailable(f"running as root and cannot create the user {TEST_USER!r} for initdb: {exc}") from None
    return pwd.getpwnam(TEST_USER)


@dataclass
class Cluster:
    """One postgres server on 127.0.0.1:<port>, trust authentication, superuser `postgres`."""

    bin_dir: Path
    root: Path
    port: int
    fsync: bool = True
    user: pwd.struct_passwd | None = None
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log_path = self.root / "postgres.log"

    @classmethod
    def start(cls, *, fsync: bool = True, timeout: float = 60.0) -> Cluster:
        bin_dir = server_binaries()
        if bin_dir is None:
            raise ClusterUnavailable("no PostgreSQL server binaries (initdb, pg_ctl, postgres); run scripts/ensure-postgres")
        root = Path(tempfile.mkdtemp(prefix="gatekeeper-pg-"))
        cluster = cls(bin_dir=bin_dir, root=root, port=_free_port(), fsync=fsync, user=_unprivileged_user())
        if cluster.user is not None:
            os.chown(root, cluster.user.pw_uid, cluster.user.pw_gid)
        try:
            cluster._initdb(timeout)
            cluster._run_server(timeout)
        except BaseException:
            cluster.stop()
            raise
        return cluster

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def database_url(self, name: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def _run(self, args: list[str], timeout: float) -> subprocess.CompletedProcess:
        prefix = []
        if self.user is not None:
            prefix = ["setpriv", f"--reuid={self.user.pw_uid}", f"--regid={self.user.pw_gid}", "--clear-groups", "--"]
        try:
            return subprocess.run(
                prefix + args, capture_output=True, text=True, timeout=timeout, cwd=self.root,
                env={**os.environ, "LC_ALL": "C.UTF-8", "HOME": str(self.root)},
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ClusterUnavailable(f"{Path(args[0]).name} failed: {exc}") from None

    def _initdb(self, timeout: float) -> None:
        done = self._run(
            [str(self.bin_dir / "initdb"), "-D", str(self.root / "data"), "-U", "postgres", "-A", "trust",
             "-E", "UTF8", "--locale=C.UTF-8", "--no-instructions"] + ([] if self.fsync else ["--no-sync"]),
            timeout,
        )
        if done.returncode != 0:
            raise ClusterUnavailable(f"initdb failed: {(done.stderr or done.stdout).strip().splitlines()[-1:]}")

    def _run_server(self, timeout: float) -> None:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c max_connections=200"
        if not self.fsync:
            options += " -c fsync=off -c full_page_writes=off"
        done = self._run(
            [str(self.bin_dir / "pg_ctl"), "-D", str(self.root / "data"), "-l", str(self.log_path),
             "-o", options, "-w", "-t", str(int(timeout)), "start"],
            timeout + 5,
        )
        if done.returncode != 0:
            raise ClusterUnavailable(f"postgres did not start: {self.log_tail()}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise ClusterUnavailable(f"postgres is not accepting connections on port {self.port}: {self.log_tail()}")

    def log_tail(self, lines: int = 5) -> str:
        try:
            return " | ".join(self.log_path.read_text(errors="replace").strip().splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def create_database(self, name: str) -> str:
        """A fresh, empty database; returns its URL."""
        import asyncio

        import asyncpg

        async def create() -> None:
            connection = await asyncpg.connect(host="127.0.0.1", port=self.port, user="postgres", database="postgres")
            try:
                await connection.execute(f'CREATE DATABASE "{name}"')
            finally:
                await connection.close()

        asyncio.run(create())
        return self.database_url(name)

    def stop(self) -> None:
        if (self.root / "data" / "postmaster.pid").exists():
            self._run([str(self.bin_dir / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop"], 30)
        shutil.rmtree(self.root, ignore_errors=True)
