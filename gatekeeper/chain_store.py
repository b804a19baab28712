"""Writing a batch of chain entries in one transaction, per database.

Each batch locks its sites' chain heads, links its entries after them (chain.py),
inserts them and moves the heads, all in the transaction that commits them: an entry
is either committed and chained or not written at all. The hot path talks to the
database drivers directly (sqlite3 in one writer thread, asyncpg), without the ORM's
per-statement work.

- SQLite: `BEGIN IMMEDIATE` takes the database's write lock before the heads are read.
- PostgreSQL: `SELECT … FOR UPDATE` on the sites' `chain_heads` rows (in site order, so
  two batches never deadlock); a writer that waits longer than `lock_timeout` fails its
  batch, and its callers get a 503.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import sqlalchemy as sa

from . import chain, metrics

Entry = tuple[str, Mapping]  # ("consent", record row) or ("text", banner text row)

RECORD_COLUMNS = (*chain.RECORD_FIELDS, "site", "seq", "prev_hash", "record_hash")
TEXT_COLUMNS = ("text_hash", "site", "language", "revision", "markup", "first_seen", "seq", "prev_hash", "record_hash")
LOCK_TIMEOUT_MS = 5000


def _insert(table: str, columns: Sequence[str], placeholder) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(placeholder(i) for i in range(len(columns)))})"


class Timings:
    """What chaining costs: time waiting for the heads' lock, and whole batches."""

    def __init__(self) -> None:
        self.batches = self.entries = 0
        self.lock_wait = self.writing = 0.0

    def wait(self, seconds: float) -> None:
        self.lock_wait += seconds
        metrics.chain_lock_seconds.observe(seconds)

    def summary(self) -> str:
        per = 1000 / max(1, self.batches)
        return (f"{self.entries} entries in {self.batches} batches; head lock wait {self.lock_wait * per:.2f} ms "
                f"per batch, whole batch {self.writing * per:.2f} ms")


def _plan(entries: Sequence[Entry], known_texts: set[str]) -> dict[str, list[int]]:
    """Indexes of the entries to write, by site, in order; a text already archived is skipped."""
    by_site: dict[str, list[int]] = {}
    seen: set[str] = set()
    for i, (kind, fields) in enumerate(entries):
        if kind == "text":
            if fields["text_hash"] in known_texts or fields["text_hash"] in seen:
                continue
            seen.add(fields["text_hash"])
        by_site.setdefault(fields["site"], []).append(i)
    return by_site


def _link(entries, by_site, heads: Mapping[str, chain.Head]):
    """(record rows, text rows, new heads, linked per entry index); rows in the order queued."""
    new_heads, linked = [], {}
    for site, indexes in by_site.items():
        head, links = chain.extend(heads[site], [entries[i] for i in indexes])
        new_heads.append(head)
        linked.update(zip(indexes, links))
    records, texts = [], []
    for i in sorted(linked):
        kind, fields = entries[i]
        at = linked[i]
        values = {**fields, "seq": at.seq, "prev_hash": at.prev_hash, "record_hash": at.record_hash}
        (records if kind == "consent" else texts).append(values)
    return records, texts, new_heads, linked


class SQLiteStore:
    """One sqlite3 connection, used only from its own thread: one thread hop per batch."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.timings = Timings()
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="consent-log-sqlite")
        self._db: sqlite3.Connection | None = None

    async def open(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._thread, self._open)

    def _open(self) -> None:
        db = sqlite3.connect(self.path, isolation_level=None, timeout=LOCK_TIMEOUT_MS / 1000, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        self._db = db

    async def close(self) -> None:
        def close():
            if self._db is not None:
                self._db.close()

        await asyncio.get_running_loop().run_in_executor(self._thread, close)
        self._thread.shutdown(wait=True)

    async def write(self, entries: Sequence[Entry]) -> dict[int, chain.Linked]:
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._write, entries)

    def _write(self, entries: Sequence[Entry]) -> dict[int, chain.Linked]:
        db, began = self._db, time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        try:
            self.timings.wait(time.perf_counter() - began)
            hashes = [f["text_hash"] for k, f in entries if k == "text"]
            known = {r[0] for r in db.execute(
                f"SELECT text_hash FROM banner_texts WHERE text_hash IN ({','.join('?' * len(hashes))})", hashes)} if hashes else set()
            by_site = _plan(entries, known)
            heads = {}
            for site in by_site:
                row = db.execute("SELECT seq, record_hash FROM chain_heads WHERE site = ?", (site,)).fetchone()
                heads[site] = chain.Head(site, *row) if row else chain.Head(site, 0, chain.GENESIS)
            records, texts, new_heads, linked = _link(entries, by_site, heads)
            if records:
                db.executemany(_insert("consent_records", RECORD_COLUMNS, lambda i: "?"),
                               [tuple(_sqlite_value(c, r[c]) for c in RECORD_COLUMNS) for r in records])
            if texts:
                db.executemany(_insert("banner_texts", TEXT_COLUMNS, lambda i: "?"),
                               [tuple(_sqlite_value(c, r[c]) for c in TEXT_COLUMNS) for r in texts])
            now = _sqlite_value("updated_at", datetime.now(timezone.utc))
            db.executemany(
                "INSERT INTO chain_heads (site, seq, record_hash, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (site) DO UPDATE SET seq = excluded.seq, record_hash = excluded.record_hash, "
                "updated_at = excluded.updated_at",
                [(h.site, h.seq, h.record_hash, now) for h in new_heads],
            )
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        self.timings.batches += 1
        self.timings.entries += len(linked)
        self.timings.writing += time.perf_counter() - began
        return linked


def _sqlite_value(column: str, value):
    """As SQLAlchemy stores it on SQLite, so its reads and ours agree."""
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
    if column == "categories":
        return json.dumps(value)
    return value


class PostgresStore:
    """One asyncpg connection of its own; statements are prepared once and pipelined."""

    def __init__(self, url: sa.URL) -> None:
        self.dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.timings = Timings()
        self._db = None
        self._sites: set[str] = set()

    async def open(self) -> None:
        import asyncpg

        self._db = await asyncpg.connect(
            self.dsn, timeout=10,
            server_settings={"lock_timeout": str(LOCK_TIMEOUT_MS), "application_name": "gatekeeper consent log"},
        )

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()

    async def write(self, entries: Sequence[Entry]) -> dict[int, chain.Linked]:
        if self._db is None or self._db.is_closed():  # the database went away and may be back
            await self.open()
        db, began = self._db, time.perf_counter()
        async with db.transaction():
            sites = sorted({fields["site"] for _, fields in entries})
            if not self._sites.issuperset(sites):
                await db.executemany(
                    "INSERT INTO chain_heads (site, seq, record_hash, updated_at) VALUES ($1, 0, $2, now()) "
                    "ON CONFLICT (site) DO NOTHING", [(s, chain.GENESIS) for s in sites])
            locked = time.perf_counter()
            rows = await db.fetch(
                "SELECT site, seq, record_hash FROM chain_heads WHERE site = ANY($1::varchar[]) ORDER BY site FOR UPDATE",
                sites)
            self.timings.wait(time.perf_counter() - locked)
            # Only under the heads' lock: another server may have archived the same text a moment ago.
            hashes = [f["text_hash"] for k, f in entries if k == "text"]
            known = {r[0] for r in await db.fetch(
                "SELECT text_hash FROM banner_texts WHERE text_hash = ANY($1::varchar[])", hashes)} if hashes else set()
            by_site = _plan(entries, known)
            heads = {r["site"]: chain.Head(r["site"], r["seq"], r["record_hash"]) for r in rows}
            records, texts, new_heads, linked = _link(entries, by_site, heads)
            if records:
                await db.executemany(_insert("consent_records", RECORD_COLUMNS, lambda i: f"${i + 1}"),
                                     [tuple(_pg_value(c, r[c]) for c in RECORD_COLUMNS) for r in records])
            if texts:
                await db.executemany(_insert("banner_texts", TEXT_COLUMNS, lambda i: f"${i + 1}"),
                                     [tuple(r[c] for c in TEXT_COLUMNS) for r in texts])
            await db.executemany("UPDATE chain_heads SET seq = $2, record_hash = $3, updated_at = now() WHERE site = $1",
                                 [(h.site, h.seq, h.record_hash) for h in new_heads])
        self._sites.update(sites)  # their head rows exist now (committed)
        self.timings.batches += 1
        self.timings.entries += len(linked)
        self.timings.writing += time.perf_counter() - began
        return linked


def _pg_value(column: str, value):
    return json.dumps(value) if column == "categories" else value


def store_for(url: sa.URL):
    if url.get_backend_name() == "sqlite":
        return SQLiteStore(url.database or ":memory:")
    return PostgresStore(url)
