"""Retention: each site keeps its consent records `retention_days` (from its policy), no longer.

Deletes go in small batches, each its own transaction, so a purge of millions of rows
never holds the write lock long enough to delay a visitor's decision. Banner texts are
never purged: older policy versions stay provable.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from .consent_log import as_utc
from .db import consent_records as t
from .sites import Site

BATCH = 5000


@dataclass(frozen=True)
class Purged:
    site: str
    retention_days: int
    cutoff: datetime  # records before this were deleted
    deleted: int
    kept: int
    oldest_kept: datetime | None


def cutoff(site: Site, now: datetime | None = None) -> datetime:
    return (now or datetime.now(timezone.utc)) - timedelta(days=site.retention_days)


async def purge_site(engine: AsyncEngine, site: Site, now: datetime | None = None, dry_run: bool = False) -> Purged:
    before = cutoff(site, now)
    expired = sa.and_(t.c.site == site.id, t.c.created_at < before)
    deleted = 0
    if dry_run:
        async with engine.connect() as connection:
            deleted = (await connection.execute(sa.select(sa.func.count()).where(expired))).scalar_one()
    else:
        while True:
            async with engine.begin() as connection:
                ids = (await connection.execute(sa.select(t.c.id).where(expired).limit(BATCH))).scalars().all()
                if ids:
                    await connection.execute(sa.delete(t).where(t.c.id.in_(ids)))
            deleted += len(ids)
            if len(ids) < BATCH:
                break
    async with engine.connect() as connection:
        kept, oldest = (
            await connection.execute(
                sa.select(sa.func.count(), sa.func.min(t.c.created_at)).where(t.c.site == site.id, t.c.created_at >= before)
            )
        ).one()
    return Purged(site.id, site.retention_days, before, deleted, kept, as_utc(oldest) if oldest else None)


async def purge(engine: AsyncEngine, sites: Iterable[Site], now: datetime | None = None, dry_run: bool = False) -> list[Purged]:
    return [await purge_site(engine, site, now, dry_run) for site in sites]
