"""The consent monitor's counts of CSP violation reports (db.csp_violations, csp_dropped).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "csp_violations",
        sa.Column("site", sa.String(40), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("directive", sa.String(32), primary_key=True),
        sa.Column("blocked", sa.String(200), primary_key=True),
        sa.Column("page", sa.String(200), primary_key=True),
        sa.Column("vendor", sa.String(40), primary_key=True),
        sa.Column("decided", sa.String(9), primary_key=True),
        sa.Column("disposition", sa.String(7), primary_key=True),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
    )
    op.create_table(
        "csp_dropped",
        sa.Column("site", sa.String(40), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("csp_dropped")
    op.drop_table("csp_violations")
