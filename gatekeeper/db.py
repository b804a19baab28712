"""The consent log's schema and engine: one SQLAlchemy Core schema for SQLite and PostgreSQL.

Users write plain URLs (sqlite:///file.db, postgresql://…); the async driver is chosen
here. SQLite runs in WAL mode with full fsync, so an acknowledged record survives a
crash of the process or the machine.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from .extras import MissingExtra, require

metadata = sa.MetaData()


def _chained() -> list[sa.Column]:
    """A chain entry's position in its site's hash chain (chain.py)."""
    return [
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("record_hash", sa.String(64), nullable=False),
    ]


consent_records = sa.Table(
    "consent_records",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("consent_id", sa.String(32), nullable=False, index=True),
    sa.Column("site", sa.String(40), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("action", sa.String(10), nullable=False),  # decisions.ACTIONS: grant, refuse, withdraw
    sa.Column("categories", sa.JSON(), nullable=False),  # {"necessary": true, "analytics": false, …}
    sa.Column("revision", sa.Integer(), nullable=False),
    sa.Column("text_hash", sa.String(64), nullable=False),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("ua_browser", sa.String(40), nullable=False),
    sa.Column("ua_os", sa.String(40), nullable=False),
    sa.Column("ua_device", sa.String(10), nullable=False),
    sa.Column("ip", sa.String(45), nullable=True),  # truncated: /24 or /48
    *_chained(),
    sa.Index("ix_consent_records_site_created_at", "site", "created_at"),
    sa.Index("ix_consent_records_site_seq", "site", "seq"),
)

# Every banner text a record may point at, kept so a receipt can show what was shown:
# the exact markup whose sha256 is the records' text_hash (see receipts.py).
banner_texts = sa.Table(
    "banner_texts",
    metadata,
    sa.Column("text_hash", sa.String(64), primary_key=True),
    sa.Column("site", sa.String(40), nullable=False),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("revision", sa.Integer(), nullable=False),
    sa.Column("markup", sa.Text(), nullable=False),
    sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
    *_chained(),  # a text enters its site's chain when first archived
)

# The newest position of each site's chain, updated in the transaction that extends it;
# writers lock this row, so several servers on one PostgreSQL keep one linear chain.
chain_heads = sa.Table(
    "chain_heads",
    metadata,
    sa.Column("site", sa.String(40), primary_key=True),
    sa.Column("seq", sa.BigInteger(), nullable=False),
    sa.Column("record_hash", sa.String(64), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)


def _chain_point(name: str, *columns: sa.Column) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("site", sa.String(40), nullable=False, index=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("record_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        *columns,
    )


# A purge first records where the chain now starts: verification begins there.
chain_checkpoints = _chain_point(
    "chain_checkpoints",
    sa.Column("last_id", sa.BigInteger(), nullable=True),  # the last purged record's id
    sa.Column("purged", sa.BigInteger(), nullable=False),  # records this purge deletes
)
# Heads printed by `gatekeeper anchor` to be published.
chain_anchors = _chain_point("chain_anchors", sa.Column("record_id", sa.BigInteger(), nullable=True))
# Each `gatekeeper verify` run's outcome, shown in the admin (seq/record_hash: the head it reached).
chain_verifications = _chain_point(
    "chain_verifications",
    sa.Column("ok", sa.Boolean(), nullable=False),
    sa.Column("checked", sa.BigInteger(), nullable=False),
    sa.Column("problem", sa.Text(), nullable=True),
)

# The consent monitor (monitor.py): counts of CSP violation reports, never a report itself.
# One row per site, UTC day and what was blocked where; at most monitor.MAX_ROWS_PER_DAY
# rows per site and day, reports beyond that counted in csp_dropped.
csp_violations = sa.Table(
    "csp_violations",
    metadata,
    sa.Column("site", sa.String(40), primary_key=True),
    sa.Column("day", sa.Date(), primary_key=True),
    sa.Column("directive", sa.String(32), primary_key=True),
    sa.Column("blocked", sa.String(200), primary_key=True),  # an origin or a keyword ("inline")
    sa.Column("page", sa.String(200), primary_key=True),  # path only: no query, no fragment
    sa.Column("vendor", sa.String(40), primary_key=True),  # tracker table id or ""
    sa.Column("decided", sa.String(9), primary_key=True),  # decided, undecided, unknown
    sa.Column("disposition", sa.String(7), primary_key=True),  # enforce (blocked) or report
    sa.Column("category", sa.String(40), nullable=False),
    sa.Column("count", sa.Integer(), nullable=False),
)

csp_dropped = sa.Table(
    "csp_dropped",
    metadata,
    sa.Column("site", sa.String(40), primary_key=True),
    sa.Column("day", sa.Date(), primary_key=True),
    sa.Column("count", sa.Integer(), nullable=False),
)

# Admin sessions, server-side so logout, expiry and a changed password end them in every
# process; the browser holds only a random id, stored here as its sha256 (admin_sessions.py).
admin_sessions = sa.Table(
    "admin_sessions",
    metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column("username", sa.String(100), nullable=False),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("credential", sa.String(64), nullable=False),  # which password it was opened with
    sa.Column("created_at", sa.Float(), nullable=False),  # Unix seconds
    sa.Column("seen_at", sa.Float(), nullable=False),
    sa.Index("ix_admin_sessions_username", "username"),
)

# Login attempts per address and per user name in the current window, counted atomically
# by every process before a password is checked; keys are keyed hashes, never the address.
login_attempts = sa.Table(
    "login_attempts",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("window_start", sa.Float(), nullable=False, index=True),
    sa.Column("attempts", sa.Integer(), nullable=False),
)

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg"}


class DatabaseError(Exception):
    """The consent log database cannot be used; the message says why."""


def shown_url(url: str) -> str:
    """The database URL as it may be printed or logged: never its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "(not a URL)"


def async_url(url: str) -> sa.URL:
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError:
        raise DatabaseError("the database URL is not a URL (expected sqlite:///file.db or postgresql://…)") from None
    backend = parsed.drivername.split("+")[0]
    if backend not in _ASYNC_DRIVERS:
        raise DatabaseError(
            f"database URL {shown_url(url)!r}: unsupported database {backend!r} (expected sqlite or postgresql)"
        )
    return parsed.set(drivername=_ASYNC_DRIVERS[backend])


def create_engine(url: str) -> AsyncEngine:
    parsed = async_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(parsed, connect_args={"timeout": 30})

        @sa.event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    try:
        require("postgres", f"database URL {shown_url(url)!r}")
    except MissingExtra as exc:
        raise DatabaseError(str(exc)) from None
    # A database that cannot be reached fails within seconds, not asyncpg's default minute.
    return create_async_engine(parsed, pool_size=10, max_overflow=10, pool_pre_ping=True, connect_args={"timeout": 10})


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    return config


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the newest revision, on the given engine's own connection."""

    def upgrade(connection: sa.Connection) -> None:
        config = _alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    try:
        async with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # Several servers may start at once against one database: one migrates, the
                # others wait here and then find nothing left to do.
                await connection.execute(sa.text("SELECT pg_advisory_xact_lock(7356001)"))
            await connection.run_sync(upgrade)
    except (OSError, sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
        raise DatabaseError(f"cannot reach the consent log database: {exc}") from None


async def ping(connection: AsyncConnection) -> None:
    await connection.execute(sa.text("SELECT 1"))
