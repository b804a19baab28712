"""The real server for the browser tests: `python -m gatekeeper serve` as a subprocess on
a free port with a fresh SQLite consent log, its output kept for failing tests.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_answering(process: subprocess.Popen, url: str, timeout: float, log) -> None:
    """Until `url` answers 200 (bounded); the process's log if it exits or never answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: server exited with {process.returncode}:\n{log()}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url}: no answer within {timeout:.0f}s:\n{log()}")


def stop_process(process: subprocess.Popen | None) -> None:
    if process and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@dataclass
class Server:
    url: str
    db_path: Path
    log_path: Path
    process: subprocess.Popen | None = None
    secret_keys: str = ""

    @classmethod
    def start(
        cls, workdir: Path, *, timeout: float = 60.0, sites_dir: Path | None = None, secret_keys: str | None = None,
        options: tuple[str, ...] = (), port: int | None = None,
    ) -> Server:
        """A server on a free port (or `port`); pass another server's `secret_keys` to share its
        cookies, and more `gatekeeper serve` options in `options`."""
        if port is None:
            # A port found free can be taken by another process before the server binds it
            # (Chromium's own connections draw from the same range): then try another.
            for attempt in range(3):
                try:
                    return cls.start(workdir, timeout=timeout, sites_dir=sites_dir, secret_keys=secret_keys,
                                     options=options, port=free_port())
                except RuntimeError as exc:
                    if "address already in use" not in str(exc) or attempt == 2:
                        raise
        db_path = workdir / "consent.db"
        log_path = workdir / "server.log"
        command = cls.command(port, db_path) + list(options)
        if sites_dir is not None:  # the last --sites-dir wins, also after a subclass's options
            command += ["--sites-dir", str(sites_dir)]
        keys = secret_keys or secrets.token_hex(32)
        env = {k: v for k, v in os.environ.items() if not k.startswith("GATEKEEPER_")}
        env.update(GATEKEEPER_SECRET_KEYS=keys, PYTHONUNBUFFERED="1")
        server = cls(url=f"http://127.0.0.1:{port}", db_path=db_path, log_path=log_path, secret_keys=keys)
        with log_path.open("wb") as log:
            server.process = subprocess.Popen(
                command, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        server._wait_healthy(timeout)
        return server

    @staticmethod
    def command(port: int, db_path: Path) -> list[str]:
        return [
            sys.executable, "-m", "gatekeeper", "serve",
            "--host", "127.0.0.1", "--port", str(port),
            "--database-url", f"sqlite:///{db_path}",
            "--sites-dir", str(REPO / "sites"),
        ]

    def _wait_healthy(self, timeout: float) -> None:
        try:
            wait_answering(self.process, f"{self.url}/healthz", timeout, self.log)
        except RuntimeError:
            self.stop()
            raise

    def stop(self) -> None:
        stop_process(self.process)

    def log(self, start: int = 0) -> str:
        try:
            with self.log_path.open("rb") as log:
                log.seek(start)
                return log.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return "(no server log)"

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def page_url(self, site: str, path: str = "", **query: str) -> str:
        url = f"{self.url}/demo/{site}{path}"
        return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")

    def last_rowid(self) -> int:
        with sqlite3.connect(self.db_path) as db:
            return db.execute("SELECT coalesce(max(rowid), 0) FROM consent_records").fetchone()[0]

    def records(self, *, after: int = 0, consent_id: str | None = None) -> list[dict]:
        """Consent log rows written after rowid `after`, categories parsed from JSON."""
        sql = "SELECT rowid AS _rowid, * FROM consent_records WHERE rowid > ?"
        args: list = [after]
        if consent_id is not None:
            sql += " AND consent_id = ?"
            args.append(consent_id)
        with sqlite3.connect(self.db_path) as db:
            db.row_factory = sqlite3.Row
            rows = [dict(row) for row in db.execute(sql + " ORDER BY rowid", args)]
        for row in rows:
            if isinstance(row.get("categories"), str):
                row["categories"] = json.loads(row["categories"])
        return rows
