"""Receipts: the records of one consent id next to the exact banner text each was made on.

At start-up every site's banner markup (first layer + preferences, per language) is
archived under the sha256 that records carry as `text_hash`, once per distinct text, so
a receipt still shows last year's wording after the banner has changed.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cached_property
from html.parser import HTMLParser

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from .bundle import Bundle
from .chain import Linked
from .consent_log import ConsentLog, ConsentRecord, as_utc
from .db import banner_texts
from .sites import Site

@dataclass(frozen=True)
class BannerText:
    text_hash: str
    site: str
    language: str
    revision: int
    markup: str
    first_seen: datetime
    seq: int  # its position in the site's hash chain
    prev_hash: str
    record_hash: str

    @property
    def verified(self) -> bool:
        return hashlib.sha256(self.markup.encode("utf-8")).hexdigest() == self.text_hash

    @cached_property
    def _parsed(self) -> _Text:
        parser = _Text()
        parser.feed(self.markup)
        return parser

    @property
    def text(self) -> str:
        return "\n".join(self._parsed.parts)

    @property
    def config(self) -> dict | None:
        """The public config the bundle acted on (None for texts archived before it was hashed)."""
        return json.loads(self._parsed.config) if self._parsed.config else None


@dataclass(frozen=True)
class Receipt:
    consent_id: str
    records: list[ConsentRecord]  # oldest first
    positions: list[Linked]  # each record's place in its site's hash chain
    texts: dict[str, BannerText]  # by text_hash; a hash may be missing for texts older than the archive


class _Text(HTMLParser):
    """The words of the markup; the config's <script> is collected apart, as data."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.config = ""
        self._in_script = False

    def handle_starttag(self, tag, attrs) -> None:
        self._in_script = tag == "script"

    def handle_endtag(self, tag) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.config += data
        elif data.strip():
            self.parts.append(" ".join(data.split()))


async def archive_banner_texts(consent_log: ConsentLog, sites: Mapping[str, Site], bundles: Mapping[str, Bundle]) -> int:
    """Store each site's current banner texts, as its bundle hashed them, chaining each the
    first time it is seen; returns how many were new (several servers may start at once:
    the chain head's lock lets exactly one of them archive a text)."""
    now = datetime.now(timezone.utc)
    rows = [
        dict(text_hash=text_hash, site=site_id, language=language, revision=sites[site_id].revision,
             markup=bundle.texts[language], first_seen=now)
        for site_id, bundle in bundles.items()
        for language, text_hash in bundle.text_hashes.items()
    ]
    # Queued together, they share one transaction.
    linked = await asyncio.gather(*(consent_log.archive_text(row) for row in rows))
    return sum(1 for at in linked if at is not None)


async def receipt(engine: AsyncEngine, consent_log: ConsentLog, consent_id: str) -> Receipt | None:
    if not consent_id or len(consent_id) > 32:
        return None
    chained = await consent_log.chained_for(consent_id)
    if not chained:
        return None
    records, positions = [r for r, _ in chained], [at for _, at in chained]
    hashes = sorted({r.text_hash for r in records})
    async with engine.connect() as connection:
        rows = (await connection.execute(sa.select(banner_texts).where(banner_texts.c.text_hash.in_(hashes)))).mappings()
        texts = {row["text_hash"]: BannerText(**{**row, "first_seen": as_utc(row["first_seen"])}) for row in rows}
    return Receipt(consent_id, records, positions, texts)
