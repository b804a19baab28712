"""The append-only consent log.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consent_records",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("consent_id", sa.String(32), nullable=False),
        sa.Column("site", sa.String(40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(10), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("text_hash", sa.String(64), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("ua_browser", sa.String(40), nullable=False),
        sa.Column("ua_os", sa.String(40), nullable=False),
        sa.Column("ua_device", sa.String(10), nullable=False),
        sa.Column("ip", sa.String(45), nullable=True),
    )
    op.create_index("ix_consent_records_consent_id", "consent_records", ["consent_id"])
    op.create_index("ix_consent_records_site_created_at", "consent_records", ["site", "created_at"])


def downgrade() -> None:
    op.drop_table("consent_records")
