"""Points on a site's chain worth keeping: anchors to publish, and verification runs.

An anchor is the chain head as one JSON line — site, position, the id of the record
there, its record_hash, the UTC time — printed to be published somewhere the shop cannot
rewrite (a git commit, a public page, an e-mail to the DPO) and stored too. Later
`gatekeeper verify --anchor LINE` proves the log still holds that exact entry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from . import chain
from .consent_log import as_utc
from .db import chain_anchors, chain_verifications, consent_records
from .verify import Anchor, Outcome, head_of


class AnchorError(ValueError):
    """An anchor line that cannot be read; the message says why."""


async def anchor(engine: AsyncEngine, site: str, now: datetime | None = None) -> dict:
    """The site's chain head as an anchor, stored; the dict is the line to publish."""
    now = now or datetime.now(timezone.utc)
    async with engine.begin() as connection:
        head = await head_of(connection, site)
        record_id = (await connection.execute(
            sa.select(consent_records.c.id).where(consent_records.c.site == site, consent_records.c.seq == head.seq)
        )).scalar()
        await connection.execute(sa.insert(chain_anchors).values(
            site=site, seq=head.seq, record_hash=head.record_hash, record_id=record_id, created_at=now))
    return {"site": site, "seq": head.seq, "id": record_id, "record_hash": head.record_hash, "at": chain.utc_text(now)}


def parse_anchor(line: str) -> Anchor:
    try:
        doc = json.loads(line)
        found = Anchor(str(doc["site"]), int(doc["seq"]), str(doc["record_hash"]))
    except (ValueError, TypeError, KeyError) as exc:
        raise AnchorError(f"not an anchor line from `gatekeeper anchor` ({exc.__class__.__name__}: {exc})") from None
    if len(found.record_hash) != 64 or found.seq < 0:
        raise AnchorError("not an anchor line: record_hash must be 64 hex characters and seq a position")
    return found


async def record_outcome(engine: AsyncEngine, outcome: Outcome, now: datetime | None = None) -> None:
    async with engine.begin() as connection:
        await connection.execute(sa.insert(chain_verifications).values(
            site=outcome.site, seq=outcome.reached.seq, record_hash=outcome.reached.record_hash,
            created_at=now or datetime.now(timezone.utc), ok=outcome.ok, checked=outcome.checked,
            problem=str(outcome.problem) if outcome.problem else None,
        ))


@dataclass(frozen=True)
class ChainStatus:
    head: chain.Head
    verified_at: datetime | None = None
    verified_ok: bool | None = None
    problem: str | None = None


async def statuses(engine: AsyncEngine, sites: list[str]) -> dict[str, ChainStatus]:
    """Per site: the chain head and the last verification run (for the admin)."""
    found = {}
    async with engine.connect() as connection:
        for site in sites:
            head = await head_of(connection, site)
            last = (await connection.execute(
                sa.select(chain_verifications).where(chain_verifications.c.site == site)
                .order_by(chain_verifications.c.id.desc()).limit(1)
            )).mappings().first()
            found[site] = ChainStatus(head, as_utc(last["created_at"]), last["ok"], last["problem"]) if last else ChainStatus(head)
    return found
