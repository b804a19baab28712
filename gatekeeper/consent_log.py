"""The consent log: append-only records, one per decision, committed before "recorded".

Writes go through one writer that commits whatever has queued up while the previous
commit was in flight (group commit): under load many decisions share one fsync, and each
caller still waits for the commit that holds its own record. The same transaction links
every record into its site's hash chain (chain_store.py). On PostgreSQL the writer is a
task on the event loop (asyncpg); on SQLite it is a loop in the store's own thread, which
starts the next commit as soon as one ends, without waiting for a turn of the event loop
(busy with the requests the last commit answered), and hands each batch's answers back
in one call.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
from datetime import datetime, timezone

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from . import metrics
from .chain import Linked
from .chain_store import Entry, store_for
from .db import consent_records

log = logging.getLogger("gatekeeper.log")

MAX_BATCH = 500


class ConsentRecord(msgspec.Struct, frozen=True, kw_only=True):
    consent_id: str
    site: str
    created_at: datetime  # server UTC time
    action: str  # decisions.ACTIONS: grant, refuse, withdraw
    categories: dict[str, bool]
    revision: int
    text_hash: str
    language: str
    source: str
    ua_browser: str
    ua_os: str
    ua_device: str
    ip: str | None

    def row(self) -> dict:
        return msgspec.structs.asdict(self)


class LogClosed(Exception):
    """The log is not accepting records (not started, or shutting down)."""


class ConsentLog:
    """Appends records (and first-seen banner texts) to the chained log, in batches."""

    def __init__(self, engine: AsyncEngine, max_batch: int = MAX_BATCH) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self.store = store_for(engine.url)
        self._pending: list[tuple[Entry, asyncio.Future]] = []
        self._wake = asyncio.Event()
        self._queued = threading.Condition()  # guards _pending when the store's thread takes from it
        self._open = False
        # The writer: a task on the event loop (PostgreSQL), or the loop in the store's thread
        # (SQLite), a concurrent future any server's event loop can wait for.
        self._writer: asyncio.Task | concurrent.futures.Future | None = None
        self._in_thread = False
        self._also_started = 0

    async def start(self) -> None:
        if self._in_thread and self._writer is not None and not self._writer.done():
            self._also_started += 1  # a second server on the app (another event loop) shares the writer
            return
        await self.store.open()
        self._wake = asyncio.Event()
        self._open = True
        self._in_thread = getattr(self.store, "writes_in_thread", False)
        if self._in_thread:
            self._writer = self.store.submit(self._write_in_thread)
        else:
            self._writer = asyncio.create_task(self._write_forever(), name="consent-log-writer")

    async def stop(self) -> None:
        """Commit what is queued, then stop."""
        if self._writer is None:
            return
        if self._also_started:
            self._also_started -= 1
            return
        with self._queued:
            self._open = False
            self._queued.notify()
        self._wake.set()
        writer, self._writer = self._writer, None
        await (asyncio.wrap_future(writer) if isinstance(writer, concurrent.futures.Future) else writer)
        await self.store.close()
        log.info("consent log: %s", self.store.timings.summary())

    async def append(self, record: ConsentRecord) -> Linked:
        """Returns the record's chain position once it is committed; raises if it is not."""
        return await self._enqueue(("consent", record.row()))

    async def archive_text(self, fields: dict) -> Linked | None:
        """Chains a banner text the first time it is seen; None when it is archived already."""
        return await self._enqueue(("text", fields))

    async def _enqueue(self, entry: Entry):
        if not self._open:
            raise LogClosed("the consent log is not running")
        done = asyncio.get_running_loop().create_future()
        if self._in_thread:
            with self._queued:
                # Again under the lock stop() takes, and the writer must still be running:
                # no waiter is left behind for a writer that has ended (503, not a hang).
                if not self._open or self._writer is None or self._writer.done():
                    raise LogClosed("the consent log is not running")
                self._pending.append((entry, done))
                self._queued.notify()
        else:
            self._pending.append((entry, done))
            self._wake.set()
        return await done

    def _write_in_thread(self) -> None:
        """The SQLite writer, in the store's thread: takes what is queued, commits it, hands
        the outcome to the waiters' event loop in one call, and goes on with what queued
        meanwhile."""
        while True:
            with self._queued:
                while not self._pending and self._open:
                    self._queued.wait()
                if not self._pending:
                    return  # stopped, and everything queued is committed
                batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
            started = time.perf_counter()
            try:
                linked = self.store.write_here([entry for entry, _ in batch])
            except Exception as exc:
                _count_failure(batch)
                _hand_back(batch, _failed, exc)
            else:
                _count_commit(batch, time.perf_counter() - started)  # prometheus-client is thread-safe
                _hand_back(batch, _committed, linked)

    async def _write_forever(self) -> None:
        while self._open or self._pending:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
                started = time.perf_counter()
                try:
                    linked = await self.store.write([entry for entry, _ in batch])
                except Exception as exc:
                    _count_failure(batch)
                    _failed(list(enumerate(done for _, done in batch)), exc)
                else:
                    _count_commit(batch, time.perf_counter() - started)
                    _committed(list(enumerate(done for _, done in batch)), linked)

    async def records_for(self, consent_id: str) -> list[ConsentRecord]:
        """Every record of one consent id, oldest first."""
        return [record for record, _ in await self.chained_for(consent_id)]

    async def chained_for(self, consent_id: str) -> list[tuple[ConsentRecord, Linked]]:
        """Every record of one consent id with its chain position, oldest first."""
        chained = ("seq", "prev_hash", "record_hash")
        query = (
            sa.select(*[consent_records.c[f] for f in (*ConsentRecord.__struct_fields__, *chained)])
            .where(consent_records.c.consent_id == consent_id)
            .order_by(consent_records.c.id)
        )
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [
            (ConsentRecord(**{k: v for k, v in row.items() if k not in chained} | {"created_at": as_utc(row["created_at"])}),
             Linked(*(row[k] for k in chained)))
            for row in rows
        ]


Waiters = list[tuple[int, asyncio.Future]]  # (index in the batch, its caller's future)


def _by_loop(batch: list[tuple[Entry, asyncio.Future]]) -> dict[asyncio.AbstractEventLoop, Waiters]:
    """A batch's waiters by their event loop (one, unless two servers share the app)."""
    loops: dict[asyncio.AbstractEventLoop, Waiters] = {}
    for i, (_, done) in enumerate(batch):
        loops.setdefault(done.get_loop(), []).append((i, done))
    return loops


def _hand_back(batch: list[tuple[Entry, asyncio.Future]], outcome, value) -> None:
    """From the store's thread: each waiter's event loop learns its records' outcome, in one
    call per loop. A loop closed meanwhile (its server stopped) has nobody left waiting."""
    for loop, waiters in _by_loop(batch).items():
        try:
            loop.call_soon_threadsafe(outcome, waiters, value)
        except RuntimeError:
            pass


def _count_failure(batch: list) -> None:
    metrics.write_failures.inc()
    log.exception("consent log write of %d entries failed", len(batch))


def _count_commit(batch: list, seconds: float) -> None:
    metrics.commit_seconds.observe(seconds)
    metrics.commit_batch.observe(len(batch))


def _failed(waiters: Waiters, exc: Exception) -> None:
    """Every waiter learns its record was not written."""
    for _, done in waiters:
        if not done.done():
            done.set_exception(exc)


def _committed(waiters: Waiters, linked: dict) -> None:
    for i, done in waiters:
        if not done.done():  # its request was cancelled meanwhile
            done.set_result(linked.get(i))


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every time in the log is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)
