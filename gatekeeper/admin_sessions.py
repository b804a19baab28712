"""Admin sessions and the login limit, held in the consent database so every process and
every machine sharing it agrees: a logout, an expiry or a changed password ends a session
everywhere, and parallel guesses are counted before any password is checked.

The session cookie carries only a random id (256 bits); the table keeps its sha256, the
user, the CSRF token and which password the session was opened with.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response

from .admin_auth import LOGIN_COOKIE, PATH, SESSION_COOKIE, set_admin_cookie
from .db import admin_sessions, login_attempts

SESSION_SECONDS = 8 * 3600  # at most, from login
IDLE_SECONDS = 30 * 60  # without a request
_TOUCH_SECONDS = 60  # seen_at is written at most this often, not on every page

# The login limit (README "Admin"): counted per window, before the password is checked.
WINDOW_SECONDS = 15 * 60
ADDRESS_LIMIT = 5  # attempts per address; a successful login clears its address
USER_LIMIT = 50  # attempts per user name from all addresses; beyond it, only clean addresses


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


class SessionStore:
    def __init__(self, engine: AsyncEngine, credential_of: Callable[[str], str | None], clock=time.time) -> None:
        self._engine, self._credential_of, self._clock = engine, credential_of, clock

    async def read(self, request: Request) -> dict | None:
        """{"u": user, "c": csrf} of a live session, else None (and a dead one is deleted)."""
        value = request.cookies.get(SESSION_COOKIE)
        if not value or len(value) > 100:
            return None
        key, now = _digest(value), self._clock()
        async with self._engine.begin() as connection:
            row = (await connection.execute(sa.select(admin_sessions).where(admin_sessions.c.id_hash == key))).first()
            if row is None:
                return None
            credential = self._credential_of(row.username)
            alive = (
                now < row.created_at + SESSION_SECONDS
                and now < row.seen_at + IDLE_SECONDS
                and credential is not None
                and hmac.compare_digest(credential, row.credential)
            )
            if not alive:
                await connection.execute(sa.delete(admin_sessions).where(admin_sessions.c.id_hash == key))
                return None
            if now - row.seen_at > _TOUCH_SECONDS:
                await connection.execute(
                    sa.update(admin_sessions).where(admin_sessions.c.id_hash == key).values(seen_at=now)
                )
        return {"u": row.username, "c": row.csrf}

    async def start(self, response: Response, request: Request, user: str) -> None:
        value, now = secrets.token_urlsafe(32), self._clock()
        async with self._engine.begin() as connection:
            # Sessions long dead are swept here, the one write an admin makes anyway.
            await connection.execute(
                sa.delete(admin_sessions).where(
                    (admin_sessions.c.created_at < now - SESSION_SECONDS) | (admin_sessions.c.seen_at < now - IDLE_SECONDS)
                )
            )
            await connection.execute(
                sa.insert(admin_sessions).values(
                    id_hash=_digest(value), username=user, csrf=secrets.token_urlsafe(24),
                    credential=self._credential_of(user), created_at=now, seen_at=now,
                )
            )
        set_admin_cookie(response, request, SESSION_COOKIE, value, SESSION_SECONDS)
        response.delete_cookie(LOGIN_COOKIE, path=PATH)

    async def end(self, response: Response, request: Request) -> None:
        value = request.cookies.get(SESSION_COOKIE)
        if value:
            async with self._engine.begin() as connection:
                await connection.execute(sa.delete(admin_sessions).where(admin_sessions.c.id_hash == _digest(value)))
        response.delete_cookie(SESSION_COOKIE, path=PATH)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # seconds, when not allowed


class LoginLimit:
    """Counts every login attempt in the database, atomically and before the password check.

    An address may try ADDRESS_LIMIT times per window. A user name may be tried USER_LIMIT
    times per window from all addresses together; beyond that only an address that has not
    tried in this window gets its one attempt, so guessing from many addresses stays slow
    while the right password from a clean address still logs in.
    """

    def __init__(self, engine: AsyncEngine, pepper: bytes, clock=time.time) -> None:
        self._engine, self._pepper, self._clock = engine, pepper, clock

    def _key(self, kind: str, value: str) -> str:
        # Keyed, so the table holds neither addresses nor typed user names (or passwords).
        return hmac.new(self._pepper, f"{kind}:{value}".encode("utf-8"), hashlib.sha256).hexdigest()

    async def attempt(self, address: str, user: str) -> Verdict:
        """Count this attempt; allowed means the password may now be checked."""
        now = self._clock()
        async with self._engine.begin() as connection:
            await connection.execute(sa.delete(login_attempts).where(login_attempts.c.window_start < now - WINDOW_SECONDS))
            by_address, since = await self._count(connection, self._key("address", address), now)
            if by_address > ADDRESS_LIMIT:
                return Verdict(False, int(since + WINDOW_SECONDS - now) + 1)
            # Only attempts an address was allowed count for the user: one address's burst
            # adds at most ADDRESS_LIMIT to a user name's count.
            by_user, since = await self._count(connection, self._key("user", user), now)
            if by_user > USER_LIMIT and by_address > 1:
                return Verdict(False, int(since + WINDOW_SECONDS - now) + 1)
        return Verdict(True)

    async def succeeded(self, address: str) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(sa.delete(login_attempts).where(login_attempts.c.key == self._key("address", address)))

    async def _count(self, connection, key: str, now: float) -> tuple[int, float]:
        """One more attempt for `key` in the current window (a stale window restarts): one
        INSERT … ON CONFLICT DO UPDATE … RETURNING, atomic on SQLite and PostgreSQL alike."""
        insert = (postgresql if connection.dialect.name == "postgresql" else sqlite).insert(login_attempts)
        stale = login_attempts.c.window_start < now - WINDOW_SECONDS
        statement = (
            insert.values(key=key, window_start=now, attempts=1)
            .on_conflict_do_update(
                index_elements=[login_attempts.c.key],
                set_={
                    "attempts": sa.case((stale, 1), else_=login_attempts.c.attempts + 1),
                    "window_start": sa.case((stale, now), else_=login_attempts.c.window_start),
                },
            )
            .returning(login_attempts.c.attempts, login_attempts.c.window_start)
        )
        row = (await connection.execute(statement)).one()
        return row.attempts, row.window_start
