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
import sqlite3
import sys
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timezone
from functools import lru_cache
from operator import itemgetter

import msgspec
import sqlalchemy as sa

from . import chain, metrics

Entry = tuple[str, Mapping]  # ("consent", record row) or ("text", banner text row)

RECORD_COLUMNS = (*chain.RECORD_FIELDS, "site", "seq", "prev_hash", "record_hash")
TEXT_COLUMNS = ("text_hash", "site", "language", "revision", "markup", "first_seen", "seq", "prev_hash", "record_hash")
LOCK_TIMEOUT_MS = 5000
SWITCH_INTERVAL = 0.0005  # seconds; see SQLiteStore._open


def _insert(table: str, columns: Sequence[str], placeholder, rows: int = 1) -> str:
    """INSERT of `rows` rows in one statement; `placeholder(i)` is the driver's i-th parameter."""
    values = f"({', '.join(placeholder(i) for i in range(len(columns)))})"
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES " + ", ".join([values] * rows)


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
    """(records, texts, new heads, linked per entry index): records and texts as (fields,
    chain position) in the order queued."""
    new_heads, linked = [], {}
    for site, indexes in by_site.items():
        head, links = chain.extend(heads[site], [entries[i] for i in indexes])
        new_heads.append(head)
        linked.update(zip(indexes, links))
    records, texts = [], []
    for i in sorted(linked):
        kind, fields = entries[i]
        (records if kind == "consent" else texts).append((fields, linked[i]))
    return records, texts, new_heads, linked


def _rows(columns: Sequence[str], linked_fields, convert: Mapping) -> list[list]:
    """Statement parameters in `columns` order (the entry's fields, then its chain position),
    each field through its converter for the driver."""
    fields_of = columns[:-3]
    values_of = itemgetter(*fields_of)
    converted = [(i, convert[c]) for i, c in enumerate(fields_of) if c in convert]
    rows = []
    for fields, at in linked_fields:
        row = list(values_of(fields))
        for i, to_driver in converted:
            row[i] = to_driver(row[i])
        row += (at.seq, at.prev_hash, at.record_hash)
        rows.append(row)
    return rows


class SQLiteStore:
    """One sqlite3 connection, used only from its own thread. The consent log runs its writer
    loop in that thread (`submit`), which commits each batch there (`write_here`). A batch
    extends the heads this connection committed last without reading them, and moves each
    only from there; if another process moved one meanwhile, the batch is rolled back and
    written again after the heads as read under the write lock."""

    writes_in_thread = True

    def __init__(self, path: str) -> None:
        self.path = path
        self.timings = Timings()
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="consent-log-sqlite")
        self._db: sqlite3.Connection | None = None
        self._heads: dict[str, chain.Head] = {}  # each site's head as this connection committed it

    async def open(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._thread, self._open)

    def _open(self) -> None:
        # Each sqlite3 call lets go of the GIL and then waits to take it back from the event
        # loop's thread; while that thread runs Python, the wait lasts the switch interval
        # (5 ms by default), several times per batch: the commits, not the disk, set the pace.
        if sys.getswitchinterval() > SWITCH_INTERVAL:
            sys.setswitchinterval(SWITCH_INTERVAL)
        db = sqlite3.connect(self.path, isolation_level=None, timeout=LOCK_TIMEOUT_MS / 1000, check_same_thread=False,
                             cached_statements=2 * _SQLITE_ROWS_PER_INSERT + 20)  # an INSERT per batch size
        # SQLite before 3.32 allows 999 parameters per statement (later ones 32,766).
        self._rows_per_insert = {
            table: max(1, min(_SQLITE_ROWS_PER_INSERT, db.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // len(columns)))
            for table, columns in (("consent_records", RECORD_COLUMNS), ("banner_texts", TEXT_COLUMNS))}
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        self._db = db

    async def close(self) -> None:
        def close():
            if self._db is not None:
                self._db.close()

        await asyncio.get_running_loop().run_in_executor(self._thread, close)
        self._thread.shutdown(wait=True)

    def submit(self, work) -> Future:
        """Runs `work` in the connection's thread (after whatever runs there now); awaitable
        from any event loop (asyncio.wrap_future)."""
        return self._thread.submit(work)

    def write_here(self, entries: Sequence[Entry]) -> dict[int, chain.Linked]:
        """Writes a batch; only in the connection's thread."""
        db, began = self._db, time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        try:
            self.timings.wait(time.perf_counter() - began)
            hashes = [f["text_hash"] for k, f in entries if k == "text"]
            known = {r[0] for r in db.execute(
                f"SELECT text_hash FROM banner_texts WHERE text_hash IN ({','.join('?' * len(hashes))})", hashes)} if hashes else set()
            by_site = _plan(entries, known)
            sites = list(by_site)
            # The heads this connection committed last, checked as they are moved (below); read
            # only when one is not known: two statements fewer per batch, two waits for the GIL.
            heads = {site: self._heads[site] for site in sites if site in self._heads}
            assumed = bool(sites) and len(heads) == len(sites)
            if not assumed:
                found = {site: chain.Head(site, seq, record_hash) for site, seq, record_hash in db.execute(
                    f"SELECT site, seq, record_hash FROM chain_heads WHERE site IN ({','.join('?' * len(sites))})", sites)}
                heads = {site: found.get(site) or chain.Head(site, 0, chain.GENESIS) for site in sites}
            records, texts, new_heads, linked = _link(entries, by_site, heads)
            # One multi-row INSERT per table: executemany runs a statement per row, each a
            # round of the GIL (SQLiteStore._open).
            for table, columns, linked_fields in (("consent_records", RECORD_COLUMNS, records),
                                                  ("banner_texts", TEXT_COLUMNS, texts)):
                step = self._rows_per_insert[table]
                for start in range(0, len(linked_fields), step):
                    rows = _rows(columns, linked_fields[start : start + step], _SQLITE_CONVERT)
                    db.execute(_sqlite_insert(table, columns, len(rows)), [value for row in rows for value in row])
            now = _sqlite_time(datetime.now(timezone.utc))
            if assumed:
                moved = db.executemany(
                    "UPDATE chain_heads SET seq = ?, record_hash = ?, updated_at = ? WHERE site = ? AND seq = ? AND record_hash = ?",
                    [(h.seq, h.record_hash, now, h.site, heads[h.site].seq, heads[h.site].record_hash) for h in new_heads])
                if moved.rowcount != len(new_heads):  # another process wrote meanwhile: nothing of this stays
                    raise _HeadMoved()
            else:
                db.executemany(
                    "INSERT INTO chain_heads (site, seq, record_hash, updated_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (site) DO UPDATE SET seq = excluded.seq, record_hash = excluded.record_hash, "
                    "updated_at = excluded.updated_at",
                    [(h.site, h.seq, h.record_hash, now) for h in new_heads],
                )
            db.execute("COMMIT")
        except BaseException as exc:
            self._heads.clear()
            if db.in_transaction:
                db.execute("ROLLBACK")
            if isinstance(exc, _HeadMoved):
                metrics.chain_head_moved.inc()
                return self.write_here(entries)  # the heads read this time
            raise
        self._heads.update((h.site, h) for h in new_heads)
        self.timings.batches += 1
        self.timings.entries += len(linked)
        self.timings.writing += time.perf_counter() - began
        return linked


class _HeadMoved(Exception):
    """A head this connection assumed was moved by another process: the batch is written again."""


def _sqlite_time(value: datetime) -> str:
    """As SQLAlchemy stores a time on SQLite, so its reads and ours agree."""
    if value.tzinfo is not timezone.utc:  # the server's own times are UTC already
        value = value.astimezone(timezone.utc)
    return value.isoformat(" ", "microseconds")[:26]  # YYYY-MM-DD HH:MM:SS.ffffff


_encode = msgspec.json.encode


def _json(value) -> str:
    return _encode(value).decode()


# What SQLAlchemy would store for these columns on SQLite; every other field as it is.
_SQLITE_CONVERT = {"created_at": _sqlite_time, "first_seen": _sqlite_time, "categories": _json}
_SQLITE_ROWS_PER_INSERT = 100  # at most; fewer where SQLite allows fewer parameters (SQLiteStore._open)


@lru_cache(maxsize=2 * _SQLITE_ROWS_PER_INSERT)
def _sqlite_insert(table: str, columns: Sequence[str], rows: int) -> str:
    """The SQLite INSERT of `rows` rows, made once per table and batch size (a hot path)."""
    return _insert(table, columns, lambda i: "?", rows)


class PostgresStore:
    """One asyncpg connection of its own. A batch of one site's records whose head this
    process moved last is one statement (no round trip for the lock); anything else takes
    the heads' row locks first."""

    def __init__(self, url: sa.URL) -> None:
        self.dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.timings = Timings()
        self._db = None
        self._sites: set[str] = set()
        self._heads: dict[str, chain.Head] = {}  # each site's head as this process last committed it
        self._locked_next: dict[str, int] = {}  # batches to take the lock before trying the known head again

    async def open(self) -> None:
        import asyncpg

        self._heads.clear()
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
        began, linked = time.perf_counter(), None
        try:
            head = self._known_head(entries)
            if head is not None:
                linked = await self._extend_known_head(head, entries)
            if linked is None:
                linked = await self._write_locked(entries)
        except BaseException:
            self._heads.clear()  # not known to be committed: read the heads again
            raise
        self.timings.batches += 1
        self.timings.entries += len(linked)
        self.timings.writing += time.perf_counter() - began
        return linked

    def _known_head(self, entries: Sequence[Entry]) -> chain.Head | None:
        """The head a batch of one site's consent records may extend without a lock."""
        site = entries[0][1]["site"]
        if self._locked_next.get(site):
            self._locked_next[site] -= 1
            return None
        if any(kind != "consent" or fields["site"] != site for kind, fields in entries):
            return None
        return self._heads.get(site)

    async def _extend_known_head(self, head: chain.Head, entries: Sequence[Entry]) -> dict[int, chain.Linked] | None:
        """Link after the head this process committed last and write it all in one statement
        (its own transaction) that moves the head only from there and inserts only if it did;
        None when another server moved it meanwhile (nothing was written)."""
        new_head, links = chain.extend(head, list(entries))
        records = _encode([{**fields, "seq": at.seq, "prev_hash": at.prev_hash, "record_hash": at.record_hash}
                           for (_, fields), at in zip(entries, links)]).decode()
        status = await self._db.execute(
            _PG_EXTEND_HEAD, head.site, head.seq, head.record_hash, new_head.seq, new_head.record_hash, records)
        if int(status.rsplit(" ", 1)[-1]) != len(entries):
            del self._heads[head.site]
            self._locked_next[head.site] = _LOCKED_AFTER_MOVED
            metrics.chain_head_moved.inc()
            return None
        self._heads[head.site] = new_head
        return dict(enumerate(links))

    async def _write_locked(self, entries: Sequence[Entry]) -> dict[int, chain.Linked]:
        db = self._db
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
                                     _rows(RECORD_COLUMNS, records, _PG_CONVERT))
            if texts:
                await db.executemany(_insert("banner_texts", TEXT_COLUMNS, lambda i: f"${i + 1}"),
                                     _rows(TEXT_COLUMNS, texts, {}))
            await db.executemany("UPDATE chain_heads SET seq = $2, record_hash = $3, updated_at = now() WHERE site = $1",
                                 [(h.site, h.seq, h.record_hash) for h in new_heads])
        self._sites.update(sites)  # their head rows exist now (committed)
        self._heads.update((h.site, h) for h in new_heads)
        return linked


_PG_CONVERT = {"categories": _json}
_LOCKED_AFTER_MOVED = 16  # with several servers on one site the head moves often: mostly lock first
# The records travel as one JSON array of objects (one parameter, the driver encodes a
# string): 17 array parameters cost asyncpg a type check per element, about a tenth of the
# event loop's time per POST. json (not jsonb) keeps the categories' text as sent.
_PG_TYPES = {"created_at": "timestamptz", "categories": "json", "revision": "int", "seq": "bigint"}
# $1-$5: site, the head as this process left it, the new head; $6: the records.
_PG_EXTEND_HEAD = (
    "WITH moved AS (UPDATE chain_heads SET seq = $4, record_hash = $5, updated_at = now() "
    "WHERE site = $1 AND seq = $2 AND record_hash = $3 RETURNING site) "
    f"INSERT INTO consent_records ({', '.join(RECORD_COLUMNS)}) "
    f"SELECT {', '.join(RECORD_COLUMNS)} FROM json_to_recordset($6::json) AS r("
    + ", ".join(f"{c} {_PG_TYPES.get(c, 'varchar')}" for c in RECORD_COLUMNS)
    + ") WHERE EXISTS (SELECT 1 FROM moved)"
)


def store_for(url: sa.URL):
    if url.get_backend_name() == "sqlite":
        return SQLiteStore(url.database or ":memory:")
    return PostgresStore(url)
