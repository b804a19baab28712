"""Export of the consent log: one site, everything or from a date, as CSV or JSON lines, streamed.

Rows are read in pages by primary key (keyset pagination, each page its own short
read), so memory stays flat at millions of records and writers are never blocked for
long. The export stops at the newest record that existed when it began.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Callable
from datetime import date, datetime, timezone

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from .consent_log import as_utc
from .db import consent_records as t
from .sites import Site

FORMATS = ("csv", "jsonl")
PAGE = 2000
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}
_COLUMNS = ("consent_id", "created_at", "action", "revision", "language", "source", "text_hash",
            "ua_browser", "ua_os", "ua_device", "ip", "categories")


class ExportError(ValueError):
    """A bad export request; the message says what was expected."""


# Before any record: an export without a first day exports everything.
EVERYTHING = datetime(1970, 1, 1, tzinfo=timezone.utc)


def parse_since(value: str | None) -> datetime:
    """A date (2026-01-31) or ISO time, without a zone in UTC; none or blank: EVERYTHING."""
    if value is None or not value.strip():
        return EVERYTHING
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ExportError(f"bad date {value!r} (expected YYYY-MM-DD)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _filters(site: Site, since: datetime):
    return (t.c.site == site.id, t.c.created_at >= since)


async def count(engine: AsyncEngine, site: Site, since: datetime) -> tuple[int, int]:
    """(number of records to export, the highest id among them)."""
    query = sa.select(sa.func.count(), sa.func.coalesce(sa.func.max(t.c.id), 0)).where(*_filters(site, since))
    async with engine.connect() as connection:
        total, last_id = (await connection.execute(query)).one()
    return total, last_id


async def records(engine: AsyncEngine, site: Site, since: datetime, last_id: int) -> AsyncIterator[list[dict]]:
    """Pages of records, oldest first, up to and including `last_id`."""
    after = 0
    columns = [t.c.id, *(t.c[name] for name in _COLUMNS)]
    while True:
        query = (
            sa.select(*columns)
            .where(*_filters(site, since), t.c.id > after, t.c.id <= last_id)
            .order_by(t.c.id)
            .limit(PAGE)
        )
        async with engine.connect() as connection:
            page = [dict(row) for row in (await connection.execute(query)).mappings()]
        if not page:
            return
        after = page[-1]["id"]
        yield page


def _spreadsheet_safe(value: str) -> str:
    # A cell starting with = + - @ is a formula in a spreadsheet; the log holds parsed
    # user-agent names, so never let one run when the DPO opens the file.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _decided(row: dict) -> dict[str, bool]:
    """A row's decision as a dict, also when the JSON column comes back as text."""
    categories = row["categories"]
    return categories if isinstance(categories, dict) else json.loads(categories)


def csv_writer(site: Site) -> tuple[str, Callable[[list[dict]], str]]:
    """(header line, page -> lines): one true/false column per category of the site."""
    categories = site.category_ids
    header = ["consent_id", "recorded_at", "action", "revision", "language", "source", "text_hash",
              *categories, "ua_browser", "ua_os", "ua_device", "ip", "categories_json"]

    def lines(rows: list[list]) -> str:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        return buffer.getvalue()

    def page_lines(page: list[dict]) -> str:
        out = []
        for r in page:
            decided = _decided(r)
            out.append([
                r["consent_id"], as_utc(r["created_at"]).isoformat(), r["action"], r["revision"], r["language"],
                r["source"], r["text_hash"],
                *(("true" if decided[c] else "false") if c in decided else "" for c in categories),
                _spreadsheet_safe(r["ua_browser"]), _spreadsheet_safe(r["ua_os"]), r["ua_device"], r["ip"] or "",
                json.dumps(decided, separators=(",", ":")),
            ])
        return lines(out)

    return lines([header]), page_lines


def jsonl_writer(site: Site) -> tuple[str, Callable[[list[dict]], str]]:
    def page_lines(page: list[dict]) -> str:
        return "".join(
            json.dumps(
                {"site": site.id, **{k: r[k] for k in _COLUMNS}, "created_at": as_utc(r["created_at"]).isoformat(),
                 "categories": _decided(r)},
                ensure_ascii=False, separators=(",", ":"),
            ) + "\n"
            for r in page
        )

    return "", page_lines


def writer(site: Site, fmt: str) -> tuple[str, Callable[[list[dict]], str]]:
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r} (expected csv or jsonl)")
    return csv_writer(site) if fmt == "csv" else jsonl_writer(site)


async def stream(engine: AsyncEngine, site: Site, since: datetime, fmt: str, *, last_id: int | None = None,
                 progress: Callable[[int], None] | None = None) -> AsyncIterator[str]:
    """The whole export as text chunks, one per page; `progress` gets each page's size."""
    header, page_lines = writer(site, fmt)
    if last_id is None:
        _, last_id = await count(engine, site, since)
    if header:
        yield header
    async for page in records(engine, site, since, last_id):
        yield page_lines(page)
        if progress:
            progress(len(page))


def described(since: datetime) -> str:
    return "all records" if since == EVERYTHING else f"since {since.date().isoformat()}"


def filename(site: Site, since: datetime, fmt: str) -> str:
    span = described(since).replace(" ", "-")
    return f"consent-log-{site.id}-{span}-{date.today().isoformat()}.{fmt}"
