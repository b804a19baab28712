from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from gatekeeper.settings import Settings
from gatekeeper.sites import load_sites

REPO = Path(__file__).resolve().parent.parent
SITES_DIR = REPO / "sites"
SECRET = "test-secret-key-for-signing"


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(
        sites_dir=str(SITES_DIR),
        database_url=f"sqlite:///{tmp_path}/consent.db",
        secret_keys=SECRET,
        secret_file=str(tmp_path / "secret"),
        receipt_key_file=str(tmp_path / "receipt-key"),
    )


@pytest.fixture
def make_client(settings):
    """A TestClient on a fresh app; keyword arguments override settings or pass `sites`."""
    clients = []

    from gatekeeper.app import create_app

    def factory(sites=None, **overrides) -> TestClient:
        app = create_app(Settings(**{**settings.__dict__, **overrides}), sites=sites)
        client = TestClient(app, base_url="http://testserver", raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client) -> TestClient:
    return make_client()


@pytest.fixture
def records(settings):
    """Rows of the consent log, read straight from the SQLite file."""

    def read(where: str = "1=1", *params) -> list[sqlite3.Row]:
        path = settings.database_url.removeprefix("sqlite:///")
        with sqlite3.connect(path) as db:
            db.row_factory = sqlite3.Row
            return db.execute(f"SELECT * FROM consent_records WHERE {where} ORDER BY id", params).fetchall()

    return read


@pytest.fixture
def sites():
    return load_sites(SITES_DIR)


@pytest.fixture(scope="session")
def postgres_cluster():
    """One throwaway PostgreSQL server for the session; skipped, saying why, when none can start."""
    from gatekeeper.pgcluster import Cluster, ClusterUnavailable

    try:
        cluster = Cluster.start(fsync=False)
    except ClusterUnavailable as exc:
        pytest.skip(f"PostgreSQL tests skipped: {exc}")
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    """A fresh, empty consent log database: an SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/consent.db"
    import uuid

    return request.getfixturevalue("postgres_cluster").create_database(f"t_{uuid.uuid4().hex[:16]}")


@pytest.fixture
def raw_status(client):
    """The status the app answers to a request with exactly these header bytes, which an
    HTTP client would refuse to send (not ASCII); the app is the client fixture's."""
    import asyncio

    def call(method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes = b"") -> int:
        scope = {
            "type": "http", "method": method, "path": path, "raw_path": path.encode(), "query_string": b"",
            "headers": headers, "scheme": "http", "server": ("testserver", 80), "client": ("192.0.2.1", 5000),
            "http_version": "1.1", "root_path": "",
        }
        messages = [{"type": "http.request", "body": body, "more_body": False}]
        sent = []

        async def receive():
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        async def send(message):
            sent.append(message)

        asyncio.run(client.app(scope, receive, send))
        return sent[0]["status"]

    return call
