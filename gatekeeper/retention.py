"""Retention: each site keeps its consent records `retention_days` (from its policy), no longer.

A purge first records a checkpoint (site, the last purged position and id, its
record_hash, how many, when), so `gatekeeper verify` starts there and a purge reads as a
purge, not as tampering. It deletes the oldest stretch of the hash chain whose records
are all past retention. Deletes go in small batches, each its own transaction, so a purge
of millions of rows never holds the write lock long enough to delay a visitor's decision.
Banner texts are never purged: older policy versions stay provable.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from .consent_log import as_utc
from .db import banner_texts, chain_checkpoints
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


async def _purge_point(connection, site: Site, before: datetime) -> dict | None:
    """The end of the chain's oldest stretch whose records are all past retention (the
    chain can only lose a prefix: verification starts after it), or None."""
    expired = (await connection.execute(
        sa.select(sa.func.max(t.c.seq)).where(t.c.site == site.id, t.c.created_at < before))).scalar()
    if expired is None:
        return None
    first_kept = (await connection.execute(
        sa.select(sa.func.min(t.c.seq)).where(t.c.site == site.id, t.c.created_at >= before))).scalar()
    upto = expired if first_kept is None else min(expired, first_kept - 1)
    done = (await connection.execute(
        sa.select(sa.func.max(chain_checkpoints.c.seq)).where(chain_checkpoints.c.site == site.id))).scalar() or 0
    if upto <= done:
        return None
    at = (await connection.execute(
        sa.select(t.c.id, t.c.record_hash).where(t.c.site == site.id, t.c.seq == upto))).first()
    if at is None:  # a banner text holds that position
        at = (await connection.execute(sa.select(sa.null().label("id"), banner_texts.c.record_hash)
                                       .where(banner_texts.c.site == site.id, banner_texts.c.seq == upto))).first()
    count = (await connection.execute(
        sa.select(sa.func.count()).where(t.c.site == site.id, t.c.seq <= upto))).scalar_one()
    return dict(site=site.id, seq=upto, record_hash=at.record_hash, last_id=at.id, purged=count)


async def purge_site(engine: AsyncEngine, site: Site, now: datetime | None = None, dry_run: bool = False) -> Purged:
    """Records a checkpoint (where the chain now starts), then deletes the records before it."""
    now = now or datetime.now(timezone.utc)
    before = cutoff(site, now)
    deleted = 0
    async with engine.begin() as connection:
        point = await _purge_point(connection, site, before)
        if point and not dry_run:
            await connection.execute(sa.insert(chain_checkpoints).values(**point, created_at=now))
    if point and dry_run:
        deleted = point["purged"]
    elif point:
        while True:
            async with engine.begin() as connection:
                ids = (await connection.execute(
                    sa.select(t.c.id).where(t.c.site == site.id, t.c.seq <= point["seq"]).limit(BATCH))).scalars().all()
                if ids:
                    await connection.execute(sa.delete(t).where(t.c.id.in_(ids)))
            deleted += len(ids)
            if len(ids) < BATCH:
                break
    async with engine.connect() as connection:
        kept, oldest = (
            await connection.execute(sa.select(sa.func.count(), sa.func.min(t.c.created_at)).where(t.c.site == site.id))
        ).one()
    return Purged(site.id, site.retention_days, before, deleted, kept, as_utc(oldest) if oldest else None)


async def purge(engine: AsyncEngine, sites: Iterable[Site], now: datetime | None = None, dry_run: bool = False) -> list[Purged]:
    return [await purge_site(engine, site, now, dry_run) for site in sites]
