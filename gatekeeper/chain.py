"""The hash chain: how each site's consent records and banner texts are linked.

An entry's canonical encoding is a JSON object with its keys in the order written
below, no whitespace, UTF-8 (exactly what Python's
`json.dumps(doc, ensure_ascii=False, separators=(",", ":"))` writes), times in UTC as
`YYYY-MM-DDTHH:MM:SS.ffffffZ`, categories sorted by id. Then

    record_hash = sha256(prev_hash ‖ canonical)   (prev_hash as its 64 lowercase hex characters)

where prev_hash is the record_hash of the entry at the previous position (`seq`) of the
same site, and GENESIS before the first. The README spells this out for anyone who wants
to recompute a chain without our code; this module is the one place that computes it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime, timezone

import msgspec

GENESIS = "0" * 64

# The decision fields of a consent record, in their canonical order (after kind, site, seq).
RECORD_FIELDS = (
    "consent_id", "created_at", "action", "categories", "revision", "text_hash",
    "language", "source", "ua_browser", "ua_os", "ua_device", "ip",
)
TEXT_FIELDS = ("text_hash", "language", "revision", "first_seen")

_encode = msgspec.json.encode


def utc_text(moment: datetime) -> str:
    if moment.tzinfo is not timezone.utc:  # the server's own times are UTC already (the hot path)
        if moment.tzinfo is None:  # SQLite hands back naive datetimes; every time in the log is UTC
            moment = moment.replace(tzinfo=timezone.utc)
        moment = moment.astimezone(timezone.utc)
    return moment.isoformat(timespec="microseconds")[:26] + "Z"


def canonical_record(site: str, seq: int, fields: Mapping) -> bytes:
    # RECORD_FIELDS written out in their order (tests/test_chain.py recomputes it from the README).
    return _encode({
        "kind": "consent", "site": site, "seq": seq,
        "consent_id": fields["consent_id"], "created_at": utc_text(fields["created_at"]), "action": fields["action"],
        "categories": dict(sorted(fields["categories"].items())), "revision": fields["revision"],
        "text_hash": fields["text_hash"], "language": fields["language"], "source": fields["source"],
        "ua_browser": fields["ua_browser"], "ua_os": fields["ua_os"], "ua_device": fields["ua_device"], "ip": fields["ip"],
    })


def canonical_text(site: str, seq: int, fields: Mapping) -> bytes:
    doc = {"kind": "text", "site": site, "seq": seq}
    for name in TEXT_FIELDS:
        doc[name] = utc_text(fields[name]) if name == "first_seen" else fields[name]
    return _encode(doc)


def link(prev_hash: str, canonical: bytes) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + canonical).hexdigest()


class Head(msgspec.Struct, frozen=True):
    """The newest position of a site's chain."""

    site: str
    seq: int
    record_hash: str


class Linked(msgspec.Struct, frozen=True):
    """Where an appended entry sits in its site's chain."""

    seq: int
    prev_hash: str
    record_hash: str


def extend(head: Head, entries: list[tuple[str, Mapping]]) -> tuple[Head, list[Linked]]:
    """Link `entries` ("consent" or "text", fields) after `head`; returns the new head."""
    seq, prev, linked = head.seq, head.record_hash, []
    for kind, fields in entries:
        seq += 1
        canonical = canonical_record(head.site, seq, fields) if kind == "consent" else canonical_text(head.site, seq, fields)
        record_hash = link(prev, canonical)
        linked.append(Linked(seq, prev, record_hash))
        prev = record_hash
    return Head(head.site, seq, prev), linked
