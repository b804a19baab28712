"""The consent monitor: `POST /api/v1/csp-report` counts the CSP violations real visitors'
browsers report — tags that tried to run without consent, vendors the site file does not
declare — for the admin panel and `gatekeeper monitor`.

Only counts are kept (site, UTC day, directive, blocked origin, page path, vendor and
category, whether the visitor had decided): no address, no query string, no user agent.
Bounded: 64 KB a body, a rate per client network, at most MAX_ROWS_PER_DAY rows per site
and day (reports beyond it are counted as dropped). Never a 500: bad input is a 4xx.
"""

from __future__ import annotations

import time
from datetime import date, datetime, timezone

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import csp_reports, errors
from .api import media_type, read_body
from .csp import REPORT_PATH
from .csp_reports import Violation
from .db import csp_dropped, csp_violations
from .visitors import truncate_ip

MAX_BODY_BYTES = 64 * 1024
MAX_ROWS_PER_DAY = 1000
DECIDED = {"1": "decided", "0": "undecided"}  # the report URI's `decided`, set by gatekeeper.shop


class RateLimit:
    """A token bucket per key (a client's /24 or /48 network), in this process's memory:
    `burst` reports at once, then `per_minute`. Bounded: the oldest keys go first."""

    def __init__(self, per_minute: float = 120, burst: float = 120, max_keys: int = 10_000) -> None:
        self.rate, self.burst, self.max_keys = per_minute / 60, burst, max_keys
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        tokens, last = self._buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if len(self._buckets) >= self.max_keys:
            del self._buckets[next(iter(self._buckets))]
        self._buckets[key] = (tokens - 1, now) if tokens >= 1 else (tokens, now)
        return tokens >= 1


def _insert(engine: AsyncEngine, table: sa.Table):
    return (postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert)(table)


async def record(engine: AsyncEngine, site: str, violations: list[Violation], decided: str, day: date) -> int:
    """Count `violations` for `site` on `day`; returns how many were dropped by the cap."""
    t = csp_violations
    dropped = 0
    async with engine.begin() as connection:
        for v in violations:
            key = {"site": site, "day": day, "directive": v.directive, "blocked": v.blocked, "page": v.page,
                   "vendor": v.vendor, "decided": decided, "disposition": v.disposition}
            where = sa.and_(*(t.c[name] == value for name, value in key.items()))
            if (await connection.execute(sa.update(t).where(where).values(count=t.c.count + 1))).rowcount:
                continue
            rows = await connection.scalar(sa.select(sa.func.count()).select_from(t).where(t.c.site == site, t.c.day == day))
            if rows >= MAX_ROWS_PER_DAY:
                dropped += 1
                continue
            insert = _insert(engine, t).values(**key, category=v.category, count=1)
            await connection.execute(insert.on_conflict_do_update(index_elements=list(key), set_={"count": t.c.count + 1}))
        if dropped:
            insert = _insert(engine, csp_dropped).values(site=site, day=day, count=dropped)
            await connection.execute(
                insert.on_conflict_do_update(index_elements=["site", "day"], set_={"count": csp_dropped.c.count + dropped})
            )
    return dropped


async def summary(engine: AsyncEngine, site: str, since: date) -> tuple[list[dict], int]:
    """The violations of `site` from `since` on, most frequent first, and the dropped count."""
    t = csp_violations
    columns = [t.c.vendor, t.c.category, t.c.blocked, t.c.directive, t.c.page, t.c.decided, t.c.disposition]
    query = (
        sa.select(*columns, sa.func.sum(t.c.count).label("count"), sa.func.min(t.c.day).label("first_day"),
                  sa.func.max(t.c.day).label("last_day"))
        .where(t.c.site == site, t.c.day >= since)
        .group_by(*columns)
        .order_by(sa.desc("count"), t.c.vendor, t.c.blocked, t.c.page)
    )
    dropped_query = sa.select(sa.func.coalesce(sa.func.sum(csp_dropped.c.count), 0)).where(
        csp_dropped.c.site == site, csp_dropped.c.day >= since
    )
    async with engine.connect() as connection:
        rows = [dict(row._mapping) for row in await connection.execute(query)]
        dropped = await connection.scalar(dropped_query)
    for row in rows:
        row["count"] = int(row["count"])
        for name in ("first_day", "last_day"):  # SQLite returns the aggregate of a date as text
            if isinstance(row[name], str):
                row[name] = date.fromisoformat(row[name])
    return rows, int(dropped)


def _cors(response: Response) -> Response:
    # Reports come from any shop page; nothing in the answer is private and no cookie is read.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


async def csp_report(request: Request) -> Response:
    kind = media_type(request)
    if kind not in csp_reports.MEDIA_TYPES:
        raise errors.UnsupportedMediaType(f"expected one of {', '.join(csp_reports.MEDIA_TYPES)}")
    site_id = request.query_params.get("site", "")
    if site_id not in request.app.state.sites:
        raise errors.UnknownSite(f"unknown site {site_id[:40]!r}")
    address = truncate_ip(request.client.host if request.client else None) or "unknown"
    if not request.app.state.csp_rate.allow(address):
        raise errors.RateLimited("too many reports from this network; try again in a minute")
    body = await read_body(request, MAX_BODY_BYTES)
    try:
        violations = csp_reports.parse(body, kind)
    except csp_reports.ReportError as exc:
        raise errors.InvalidJSON(f"not a violation report: {exc}") from None
    if violations:
        decided = DECIDED.get(request.query_params.get("decided", ""), "unknown")
        try:
            await record(request.app.state.engine, site_id, violations, decided, datetime.now(timezone.utc).date())
        except (OSError, sa.exc.SQLAlchemyError):
            raise errors.NotRecorded("the report could not be counted; nothing was stored") from None
    return _cors(Response(status_code=204))


async def preflight(request: Request) -> Response:
    """The Reporting API asks before posting reports+json across origins."""
    response = Response(status_code=204)
    response.headers["Access-Control-Allow-Methods"] = "POST"
    response.headers["Access-Control-Allow-Headers"] = "Content-Type"
    response.headers["Access-Control-Max-Age"] = "86400"
    return _cors(response)


routes = [
    Route(REPORT_PATH, csp_report, methods=["POST"]),
    Route(REPORT_PATH, preflight, methods=["OPTIONS"]),
]
