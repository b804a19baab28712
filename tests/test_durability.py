"""Durability against the real server: concurrent consent POSTs, SIGKILL mid-load, restart.

Every POST answered 201 must have its record after the restart, no record may exist
that no unanswered request could account for, and `gatekeeper verify` finds every chain
intact. On SQLite and on PostgreSQL.
"""

import asyncio
import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import sqlalchemy as sa

from gatekeeper.db import consent_records, create_engine
from gatekeeper.sites import load_sites

REPO = Path(__file__).resolve().parent.parent
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"
WORKERS = 16


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(database_url: str, port: int, log_path: Path, key: str, *options: str) -> subprocess.Popen:
    """`python -m gatekeeper serve` on `port`, healthy; `options` are more CLI options."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEKEEPER_")}
    # This checkout's code, whatever the interpreter's environment has installed.
    env.update(GATEKEEPER_SECRET_KEYS=key, PYTHONUNBUFFERED="1",
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])))
    command = [sys.executable, "-m", "gatekeeper", "serve", "--host", "127.0.0.1", "--port", str(port),
               "--database-url", database_url, "--sites-dir", str(REPO / "sites"), "--log-level", "warning", *options]
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, cwd=log_path.parent, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, log_path.read_text()
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError(f"server did not become healthy:\n{log_path.read_text()}")


def load(port: int, stop: threading.Event, answered: list, unanswered: list) -> None:
    """POST decisions over one keep-alive connection until the server dies or `stop` is set."""
    body = json.dumps({"site": "locomail", "categories": {"analytics": True}, "revision": 1, "language": "nl"})
    headers = {"Content-Type": "application/json", "Origin": f"http://127.0.0.1:{port}", "User-Agent": CHROME}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    while not stop.is_set():
        try:
            connection.request("POST", "/api/v1/consent", body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException):
            unanswered.append(1)  # sent (or half sent) and never answered: it may or may not be recorded
            return
        if response.status == 201:
            answered.append(json.loads(payload)["consent_id"])
        else:
            raise AssertionError(f"unexpected answer {response.status}: {payload[:200]!r}")


def logged_ids(database_url: str) -> list[str]:
    async def read():
        engine = create_engine(database_url)
        try:
            async with engine.connect() as connection:
                return list((await connection.execute(sa.select(consent_records.c.consent_id))).scalars())
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_sigkill_mid_load_loses_no_acknowledged_record(database_url, tmp_path):
    port, key, log_path = free_port(), secrets.token_hex(16), tmp_path / "server.log"
    server = start_server(database_url, port, log_path, key)
    answered, unanswered, stop = [], [], threading.Event()
    workers = [threading.Thread(target=load, args=(port, stop, answered, unanswered)) for _ in range(WORKERS)]
    try:
        for worker in workers:
            worker.start()
        deadline = time.monotonic() + 10
        while len(answered) < 300 and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(server.pid, signal.SIGKILL)  # mid-load: requests are in flight
        server.wait(timeout=10)
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=15)
        if server.poll() is None:
            server.kill()
    assert len(answered) >= 50, f"too little load before the kill: {len(answered)} answers\n{log_path.read_text()}"
    assert len(set(answered)) == len(answered)

    server = start_server(database_url, port, log_path, key)  # restart on the same log
    try:
        logged = logged_ids(database_url)
        missing = set(answered) - set(logged)
        assert not missing, f"{len(missing)} acknowledged decisions lost"
        unaccounted = len(logged) - len(answered)
        assert 0 <= unaccounted <= len(unanswered), (len(logged), len(answered), len(unanswered))
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", f"/api/v1/consent/{answered[-1]}")
        assert connection.getresponse().status == 200
    finally:
        server.terminate()
        server.wait(timeout=10)
    # Every committed record is chained: the kill left no half-written batch.
    verified = subprocess.run(
        [sys.executable, "-m", "gatekeeper", "verify", "-q", "--database-url", database_url, "--sites-dir", str(REPO / "sites")],
        capture_output=True, text=True, timeout=60,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    texts = len(load_sites(REPO / "sites")["locomail"].languages)  # one archived banner text per language
    assert f"locomail: intact — {len(logged) + texts} entries" in verified.stdout, verified.stdout
