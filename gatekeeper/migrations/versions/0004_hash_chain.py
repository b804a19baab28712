"""A hash chain per site over consent records and banner texts, with its head,
checkpoints, anchors and verification runs; the records that exist are chained here.

Existing entries are chained per site in the order they happened: banner texts by
first_seen, merged with records by id (a text first seen at a record's time comes first).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

from gatekeeper import chain

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

PAGE = 2000

_records = sa.table(
    "consent_records",
    *[sa.column(n) for n in ("id", "site", "consent_id", "action", "text_hash", "language", "source",
                             "ua_browser", "ua_os", "ua_device", "ip", "revision", "seq", "prev_hash", "record_hash")],
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("categories", sa.JSON()),
)
_texts = sa.table(
    "banner_texts",
    *[sa.column(n) for n in ("text_hash", "site", "language", "revision", "seq", "prev_hash", "record_hash")],
    sa.column("first_seen", sa.DateTime(timezone=True)),
)


def _chain_point(name: str, *columns: sa.Column) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("site", sa.String(40), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("record_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        *columns,
    )
    op.create_index(f"ix_{name}_site", name, ["site"])


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _chain_site(bind: sa.Connection, site: str) -> chain.Head:
    head = chain.Head(site, 0, chain.GENESIS)
    texts = bind.execute(
        sa.select(_texts).where(_texts.c.site == site).order_by(_texts.c.first_seen, _texts.c.text_hash)
    ).mappings().all()
    texts = [dict(t, first_seen=_utc(t["first_seen"])) for t in texts]
    after = 0
    while True:
        page = bind.execute(
            sa.select(_records).where(_records.c.site == site, _records.c.id > after).order_by(_records.c.id).limit(PAGE)
        ).mappings().all()
        entries: list[tuple[str, dict]] = []
        for row in page:
            row = dict(row, created_at=_utc(row["created_at"]))
            while texts and texts[0]["first_seen"] <= row["created_at"]:
                entries.append(("text", texts.pop(0)))
            entries.append(("consent", row))
        if not page:
            entries = [("text", t) for t in texts]
        head = _store(bind, head, entries)
        if not page:
            return head
        after = page[-1]["id"]


def _store(bind: sa.Connection, head: chain.Head, entries: list[tuple[str, dict]]) -> chain.Head:
    head, linked = chain.extend(head, entries)
    for (kind, fields), at in zip(entries, linked):
        table, key = (_records, _records.c.id == fields["id"]) if kind == "consent" else (_texts, _texts.c.text_hash == fields["text_hash"])
        bind.execute(sa.update(table).where(key).values(seq=at.seq, prev_hash=at.prev_hash, record_hash=at.record_hash))
    return head


def upgrade() -> None:
    for table in ("consent_records", "banner_texts"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
            batch.add_column(sa.Column("prev_hash", sa.String(64), nullable=True))
            batch.add_column(sa.Column("record_hash", sa.String(64), nullable=True))
    op.create_table(
        "chain_heads",
        sa.Column("site", sa.String(40), primary_key=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("record_hash", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    _chain_point("chain_checkpoints", sa.Column("last_id", sa.BigInteger(), nullable=True),
                 sa.Column("purged", sa.BigInteger(), nullable=False))
    _chain_point("chain_anchors", sa.Column("record_id", sa.BigInteger(), nullable=True))
    _chain_point("chain_verifications", sa.Column("ok", sa.Boolean(), nullable=False),
                 sa.Column("checked", sa.BigInteger(), nullable=False), sa.Column("problem", sa.Text(), nullable=True))

    bind = op.get_bind()
    sites = sorted(set(bind.execute(sa.select(_records.c.site).distinct()).scalars())
                   | set(bind.execute(sa.select(_texts.c.site).distinct()).scalars()))
    now = datetime.now(timezone.utc)
    heads = sa.table("chain_heads", *[sa.column(n) for n in ("site", "seq", "record_hash")],
                     sa.column("updated_at", sa.DateTime(timezone=True)))
    for site in sites:
        head = _chain_site(bind, site)
        bind.execute(sa.insert(heads).values(site=site, seq=head.seq, record_hash=head.record_hash, updated_at=now))

    for table in ("consent_records", "banner_texts"):
        with op.batch_alter_table(table) as batch:
            batch.alter_column("seq", existing_type=sa.BigInteger(), nullable=False)
            batch.alter_column("prev_hash", existing_type=sa.String(64), nullable=False)
            batch.alter_column("record_hash", existing_type=sa.String(64), nullable=False)
    op.create_index("ix_consent_records_site_seq", "consent_records", ["site", "seq"])


def downgrade() -> None:
    op.drop_index("ix_consent_records_site_seq", "consent_records")
    for name in ("chain_verifications", "chain_anchors", "chain_checkpoints", "chain_heads"):
        op.drop_table(name)
    for table in ("consent_records", "banner_texts"):
        with op.batch_alter_table(table) as batch:
            for column in ("record_hash", "prev_hash", "seq"):
                batch.drop_column(column)
