"""Actions name what happened: grant, refuse, withdraw (no more `update`, no refusal as `grant`).

Before, a first decision was `grant` and a later one `update`, whatever they decided, so a
first refusal of everything read as `grant`. Now a decision granting at least one optional
category is `grant`, one granting none is `refuse`; `withdraw` is unchanged. A record's
categories say which it is, so the old rows are rewritten from them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

records = sa.table(
    "consent_records",
    sa.column("id", sa.Integer),
    sa.column("consent_id", sa.String),
    sa.column("action", sa.String),
    sa.column("categories", sa.JSON),
)
BATCH = 1000


def _grants_something(categories) -> bool:
    if isinstance(categories, str):  # SQLite may hand back the JSON text
        categories = json.loads(categories)
    return any(on is True for name, on in categories.items() if name != "necessary")


def upgrade() -> None:
    connection = op.get_bind()
    # Decisions only; read by primary key in pages so a large log is not held in memory.
    last = 0
    while True:
        rows = connection.execute(
            sa.select(records.c.id, records.c.categories)
            .where(records.c.action.in_(("grant", "update")), records.c.id > last)
            .order_by(records.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        last = rows[-1].id
        for action in ("grant", "refuse"):
            ids = [r.id for r in rows if _grants_something(r.categories) == (action == "grant")]
            if ids:
                connection.execute(sa.update(records).where(records.c.id.in_(ids)).values(action=action))


def downgrade() -> None:
    # The old vocabulary: the first record of a consent id `grant`, every later decision `update`.
    earlier = sa.alias(records, "earlier")
    has_earlier = (
        sa.select(earlier.c.id)
        .where(earlier.c.consent_id == records.c.consent_id, earlier.c.id < records.c.id)
        .exists()
    )
    op.get_bind().execute(
        sa.update(records)
        .where(records.c.action.in_(("grant", "refuse")))
        .values(action=sa.case((has_earlier, "update"), else_="grant"))
    )
