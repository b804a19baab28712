"""What the admin charts show, counted in the database: decisions per day, acceptance rates.

One grouped query per site and window; the categories column is JSON, so the few
distinct decisions are grouped by their text and split into categories here. Days are
UTC days. A withdrawal counts as a decision per day but not towards acceptance.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from .consent_log import as_utc
from .db import consent_records as t
from .sites import Site

DEVICE_CLASSES = ("desktop", "mobile", "tablet", "other")


@dataclass
class Rate:
    granted: int = 0
    total: int = 0

    @property
    def percent(self) -> float:
        return 100.0 * self.granted / self.total if self.total else 0.0


@dataclass
class SiteStats:
    site: str
    since: date
    until: date  # inclusive
    per_day: dict[date, Counter] = field(default_factory=dict)  # day -> {"grant": n, "refuse": n, "withdraw": n}
    categories: dict[str, Rate] = field(default_factory=dict)
    devices: dict[str, dict[str, Rate]] = field(default_factory=dict)  # device class -> category -> rate

    @property
    def decisions(self) -> int:
        return sum(sum(c.values()) for c in self.per_day.values())


def _day(connection_dialect: str):
    if connection_dialect == "postgresql":
        return sa.func.date(sa.func.timezone("UTC", t.c.created_at))
    return sa.func.date(t.c.created_at)  # SQLite keeps UTC times as text


async def site_stats(engine: AsyncEngine, site: Site, days: int = 30, today: date | None = None) -> SiteStats:
    today = today or datetime.now(timezone.utc).date()
    since = today - timedelta(days=days - 1)
    start = datetime.combine(since, datetime.min.time(), timezone.utc)
    day = _day(engine.dialect.name).label("day")
    query = (
        sa.select(day, t.c.action, t.c.ua_device, sa.cast(t.c.categories, sa.Text).label("categories"), sa.func.count())
        .where(t.c.site == site.id, t.c.created_at >= start)
        .group_by(day, t.c.action, t.c.ua_device, sa.cast(t.c.categories, sa.Text))
    )
    async with engine.connect() as connection:
        rows = (await connection.execute(query)).all()

    stats = SiteStats(site=site.id, since=since, until=today)
    stats.per_day = {since + timedelta(days=i): Counter() for i in range(days)}
    stats.categories = {c: Rate() for c in site.optional_categories}
    stats.devices = defaultdict(lambda: {c: Rate() for c in site.optional_categories})
    for day_value, action, device, categories, count in rows:
        when = day_value if isinstance(day_value, date) else date.fromisoformat(str(day_value))
        stats.per_day.setdefault(when, Counter())[action] += count
        if action == "withdraw":
            continue
        decided = json.loads(categories)
        device = device if device in DEVICE_CLASSES else "other"
        for category in site.optional_categories:
            granted = count if decided.get(category) is True else 0
            for rate in (stats.categories[category], stats.devices[device][category]):
                rate.granted += granted
                rate.total += count
    stats.devices = {d: stats.devices[d] for d in DEVICE_CLASSES if d in stats.devices}
    return stats


@dataclass(frozen=True)
class LogSummary:
    site: str
    records: int
    oldest: datetime | None
    newest: datetime | None


async def summaries(engine: AsyncEngine, site_ids: list[str]) -> dict[str, LogSummary]:
    """Per site: how many records, the oldest kept and the newest."""
    query = (
        sa.select(t.c.site, sa.func.count(), sa.func.min(t.c.created_at), sa.func.max(t.c.created_at))
        .where(t.c.site.in_(site_ids))
        .group_by(t.c.site)
    )
    async with engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    found = {
        site: LogSummary(site, count, as_utc(oldest) if oldest else None, as_utc(newest) if newest else None)
        for site, count, oldest, newest in rows
    }
    return {site: found.get(site, LogSummary(site, 0, None, None)) for site in site_ids}
