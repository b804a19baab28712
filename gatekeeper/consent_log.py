"""The consent log: append-only records, one per decision, committed before "recorded".

Writes go through one writer task that commits whatever has queued up while the
previous commit was in flight (group commit): under load many decisions share one
fsync, and each caller still waits for the commit that holds its own record.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timezone

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from . import metrics
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
    def __init__(self, engine: AsyncEngine, max_batch: int = MAX_BATCH) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self._queue: asyncio.Queue[tuple[ConsentRecord, asyncio.Future]] | None = None
        self._writer: asyncio.Task | None = None

    async def start(self) -> None:
        self._queue = asyncio.Queue()
        self._writer = asyncio.create_task(self._write_forever(), name="consent-log-writer")

    async def stop(self) -> None:
        """Commit what is queued, then stop."""
        if self._writer is None or self._queue is None:
            return
        queue, self._queue = self._queue, None
        await queue.join()
        self._writer.cancel()
        try:
            await self._writer
        except asyncio.CancelledError:
            pass
        self._writer = None

    async def append(self, record: ConsentRecord) -> None:
        """Returns once the record is committed; raises if the commit failed."""
        if self._queue is None:
            raise LogClosed("the consent log is not running")
        done = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((record, done))
        await done

    async def _write_forever(self) -> None:
        queue = self._queue
        assert queue is not None
        while True:
            batch = [await queue.get()]
            while len(batch) < self.max_batch and not queue.empty():
                batch.append(queue.get_nowait())
            started = time.perf_counter()
            try:
                async with self.engine.begin() as connection:
                    await connection.execute(sa.insert(consent_records), [record.row() for record, _ in batch])
            except Exception as exc:  # every waiter learns its record was not written
                metrics.write_failures.inc()
                log.exception("consent log write of %d records failed", len(batch))
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
            else:
                metrics.commit_seconds.observe(time.perf_counter() - started)
                metrics.commit_batch.observe(len(batch))
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)
            finally:
                for _ in batch:
                    queue.task_done()

    async def records_for(self, consent_id: str) -> list[ConsentRecord]:
        """Every record of one consent id, oldest first."""
        query = (
            sa.select(*[consent_records.c[f] for f in ConsentRecord.__struct_fields__])
            .where(consent_records.c.consent_id == consent_id)
            .order_by(consent_records.c.id)
        )
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [ConsentRecord(**{**row, "created_at": as_utc(row["created_at"])}) for row in rows]


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every time in the log is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)
