"""Walking a site's hash chain: is every entry still there, unchanged, in its place?

The walk streams records in storage order (by id, in pages: constant memory) merged
with the site's banner texts (few) by position, recomputes each entry's hash and checks
that it follows the previous one. It starts at genesis, at the newest purge checkpoint,
or at the first record since a date, and ends at the chain head (which writers move in
the same transaction as they append). The first entry that does not fit is named with
what happened to it:

- changed: its fields (or stored hashes) no longer give its record_hash;
- removed: positions are missing (in the middle, or at the end: the head is further on);
- inserted: a row claims a position that another entry holds, or one beyond the head;
- reordered: an entry is stored before an entry that precedes it in the chain.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from . import chain
from .db import banner_texts, chain_checkpoints, chain_heads, consent_records

PAGE = 2000
_RECORD_COLUMNS = [consent_records.c[n] for n in ("id", "site", "seq", "prev_hash", "record_hash", *chain.RECORD_FIELDS)]


@dataclass(frozen=True)
class Problem:
    kind: str  # changed, removed, inserted, reordered
    seq: int | None  # the chain position concerned
    record_id: int | None  # consent_records.id of the entry named (None for a banner text)
    detail: str

    def __str__(self) -> str:
        where = f"record id {self.record_id}" if self.record_id is not None else "an entry"
        return f"{self.kind}: {where} at position {self.seq}: {self.detail}"


@dataclass(frozen=True)
class Anchor:
    site: str
    seq: int
    record_hash: str


@dataclass(frozen=True)
class Outcome:
    site: str
    start: str  # where the walk began: genesis, a checkpoint, a date
    checked: int  # entries whose hash was recomputed
    reached: chain.Head  # the last position found intact
    problem: Problem | None
    anchor_note: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


async def head_of(connection: AsyncConnection, site: str) -> chain.Head:
    row = (await connection.execute(
        sa.select(chain_heads.c.seq, chain_heads.c.record_hash).where(chain_heads.c.site == site))).first()
    return chain.Head(site, row.seq, row.record_hash) if row else chain.Head(site, 0, chain.GENESIS)


class _Entry:
    __slots__ = ("kind", "seq", "prev_hash", "record_hash", "fields", "record_id")

    def __init__(self, kind: str, fields: dict) -> None:
        self.kind, self.fields = kind, fields
        self.seq, self.prev_hash, self.record_hash = fields["seq"], fields["prev_hash"], fields["record_hash"]
        self.record_id = fields.get("id") if kind == "consent" else None

    def hashes_right(self) -> bool:
        if self.kind == "text":
            canonical = chain.canonical_text(self.fields["site"], self.seq, self.fields)
            if hashlib.sha256(self.fields["markup"].encode("utf-8")).hexdigest() != self.fields["text_hash"]:
                return False
        else:
            canonical = chain.canonical_record(self.fields["site"], self.seq, self.fields)
        return chain.link(self.prev_hash, canonical) == self.record_hash

    def name(self) -> str:
        return f"record id {self.record_id}" if self.kind == "consent" else f"banner text {self.fields['text_hash'][:12]}…"


class _Walk:
    def __init__(self, connection: AsyncConnection, site: str, head: chain.Head, pos: int, prev: str, anchor: Anchor | None):
        self.c, self.site, self.head = connection, site, head
        self.pos, self.prev, self.checked = pos, prev, 0
        self.anchor, self.anchor_seen = anchor, False
        self.last_name = "the start"

    async def _head(self) -> chain.Head:
        return await head_of(self.c, self.site)

    async def _at(self, seq: int) -> list[_Entry]:
        """Every entry claiming position `seq` (normally one)."""
        records = await self.c.execute(sa.select(*_RECORD_COLUMNS).where(consent_records.c.site == self.site, consent_records.c.seq == seq))
        texts = await self.c.execute(sa.select(banner_texts).where(banner_texts.c.site == self.site, banner_texts.c.seq == seq))
        return [_Entry("consent", dict(r)) for r in records.mappings()] + [_Entry("text", dict(t)) for t in texts.mappings()]

    def _problem(self, kind: str, entry: _Entry | None, detail: str, seq: int | None = None) -> Problem:
        return Problem(kind, entry.seq if seq is None and entry else seq, entry.record_id if entry else None, detail)

    async def check(self, e: _Entry) -> Problem | None:
        right = e.hashes_right()
        expected = self.pos + 1
        if e.seq == expected and e.prev_hash == self.prev and right:
            if e.seq > self.head.seq:
                self.head = await self._head()
                if e.seq > self.head.seq:
                    return self._problem("inserted", e, f"{e.name()} lies beyond the chain head (position {self.head.seq})")
            self.pos, self.prev, self.checked, self.last_name = e.seq, e.record_hash, self.checked + 1, e.name()
            if self.anchor and e.seq == self.anchor.seq:
                self.anchor_seen = True
                if e.record_hash != self.anchor.record_hash:
                    return self._problem("changed", e, f"{e.name()} is not the anchored entry (its hash differs "
                                         f"from the anchor's): the chain up to here was rewritten")
            return None
        claimants = await self._at(e.seq) if e.seq <= self.pos or not right else []
        if not right:
            if e.seq <= self.pos or len(claimants) > 1:
                return self._problem("inserted", e, f"{e.name()} claims position {e.seq}, which another entry holds, "
                                     "and does not hash to its record_hash")
            return self._problem("changed", e, f"{e.name()} no longer hashes to its record_hash")
        if e.seq == expected:
            return self._problem("changed", e, f"{e.name()} does not follow {self.last_name} (its prev_hash differs)")
        if e.seq > expected:
            if await self._at(expected):
                return self._problem("reordered", e, f"{e.name()} is stored before the entry at position {expected}")
            missing = f"position {expected}" if e.seq == expected + 1 else f"positions {expected}–{e.seq - 1}"
            return self._problem("removed", e, f"{missing} missing, between {self.last_name} and {e.name()}", expected)
        if len(claimants) > 1:
            return await self._inserted(e, claimants)
        return self._problem("reordered", e, f"{e.name()} is stored after the entry at position {self.pos}")

    async def _inserted(self, e: _Entry, claimants: list[_Entry]) -> Problem:
        """Two entries claim one position: the genuine one is the one the chain goes on from."""
        following = await self._at(e.seq + 1)
        onward = {f.prev_hash for f in following} or {(await self._head()).record_hash}
        forged = next((c for c in claimants if c.record_hash not in onward), e)
        return self._problem("inserted", forged, f"{forged.name()} claims position {forged.seq}, which the chain "
                             "goes on from another entry")

    async def finish(self) -> Problem | None:
        self.head = await self._head()
        if self.head.seq > self.pos:
            missing = f"position {self.head.seq}" if self.head.seq == self.pos + 1 else f"positions {self.pos + 1}–{self.head.seq}"
            return Problem("removed", self.pos + 1, None, f"{missing} missing at the end, after {self.last_name} "
                           f"(the chain head is at position {self.head.seq})")
        if self.head.seq == self.pos and self.head.record_hash != self.prev:
            return Problem("changed", self.pos, None, f"the chain head's hash differs from {self.last_name}'s")
        if self.anchor and not self.anchor_seen and self.anchor.seq > self.pos:
            return Problem("removed", self.anchor.seq, None, f"the anchored position {self.anchor.seq} is no longer in the "
                           f"log (it ends at position {self.pos})")
        return None


async def _records(connection: AsyncConnection, site: str, after_seq: int, after_id: int) -> list[dict]:
    query = (
        sa.select(*_RECORD_COLUMNS)
        .where(consent_records.c.site == site, consent_records.c.id > after_id, consent_records.c.seq > after_seq)
        .order_by(consent_records.c.id)
        .limit(PAGE)
    )
    return [dict(r) for r in (await connection.execute(query)).mappings()]


async def _start(connection: AsyncConnection, site: str, since: datetime | None) -> tuple[int, str, str]:
    """(position before the first entry walked, its hash, a description of the start)."""
    cp = (await connection.execute(
        sa.select(chain_checkpoints).where(chain_checkpoints.c.site == site).order_by(chain_checkpoints.c.seq.desc()).limit(1)
    )).mappings().first()
    pos, prev, start = (cp["seq"], cp["record_hash"], f"the purge checkpoint at position {cp['seq']}") if cp else (0, chain.GENESIS, "genesis")
    if since is not None:
        first = (await connection.execute(
            sa.select(consent_records.c.seq, consent_records.c.prev_hash)
            .where(consent_records.c.site == site, consent_records.c.created_at >= since, consent_records.c.seq > pos)
            .order_by(consent_records.c.seq).limit(1)
        )).first()
        if first is not None:
            pos, prev, start = first.seq - 1, first.prev_hash, f"the first record since {since:%Y-%m-%d} (position {first.seq})"
    return pos, prev, start


async def verify_site(
    engine: AsyncEngine, site: str, since: datetime | None = None, anchor: Anchor | None = None,
    progress: Callable[[int], None] | None = None, on_total: Callable[[int], None] | None = None,
) -> Outcome:
    async with engine.connect() as connection:
        pos, prev, start = await _start(connection, site, since)
        walk = _Walk(connection, site, chain.Head(site, 0, chain.GENESIS), pos, prev, anchor)
        walk.head = await walk._head()
        if on_total:
            on_total(max(0, walk.head.seq - pos))
        anchor_note = None
        if anchor and anchor.seq <= pos:
            anchor_note = f"the anchored position {anchor.seq} precedes {start}: it can no longer be checked"
            walk.anchor = None
        texts = [_Entry("text", dict(t)) for t in (await connection.execute(
            sa.select(banner_texts).where(banner_texts.c.site == site, banner_texts.c.seq > pos).order_by(banner_texts.c.seq)
        )).mappings()]
        problem = None
        async for entry in _merged(connection, site, pos, texts, walk):
            problem = await walk.check(entry)
            if progress:
                progress(1)
            if problem:
                break
        if problem is None:
            problem = await walk.finish()
    return Outcome(site, start, walk.checked, chain.Head(site, walk.pos, walk.prev), problem, anchor_note)


async def _merged(connection: AsyncConnection, site: str, start: int, texts: list[_Entry], walk: _Walk) -> AsyncIterator[_Entry]:
    """Records by id, with each banner text placed where the walk expects its position."""
    after_id = 0
    while True:
        page = await _records(connection, site, start, after_id)
        if not page:
            # Writers may have appended since the last page: read on until the head is reached.
            head = await walk._head()
            while texts and texts[0].seq <= head.seq:
                yield texts.pop(0)
            page = await _records(connection, site, start, after_id) if head.seq > walk.pos else []
            if not page:
                for text in texts:  # beyond the head: the walk names them
                    yield text
                return
        for row in page:
            entry = _Entry("consent", row)
            while texts and texts[0].seq <= max(walk.pos + 1, 0) and texts[0].seq < entry.seq:
                yield texts.pop(0)
            yield entry
        after_id = page[-1]["id"]
