"""Who may use /admin: hashed credentials, a signed session cookie, CSRF tokens, login throttling.

Passwords are scrypt-hashed once at start-up and the plain text is dropped. The session
is an itsdangerous-signed cookie (HttpOnly, SameSite=Strict, path /admin) carrying the
user and a CSRF token that every form posts back; a bad or old cookie is no session.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Sequence

import itsdangerous
from starlette.requests import Request
from starlette.responses import Response

from .settings import Settings, SettingsError, env_name

SESSION_COOKIE = "gk_admin"
LOGIN_COOKIE = "gk_admin_login"  # CSRF token of the login form, before there is a session
SESSION_SECONDS = 8 * 3600
PATH = "/admin"
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


def _hash(password: str, salt: bytes) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, **_SCRYPT)


class Credentials:
    """User name -> (salt, scrypt hash). Empty means the admin is off."""

    def __init__(self, users: dict[str, str]) -> None:
        self._hashes = {}
        for user, password in users.items():
            salt = secrets.token_bytes(16)
            self._hashes[user] = (salt, _hash(password, salt))
        self._dummy = (secrets.token_bytes(16), b"")

    @classmethod
    def from_settings(cls, settings: Settings) -> Credentials:
        users: dict[str, str] = {}
        if settings.admin_password:
            users["admin"] = settings.admin_password
        for pair in filter(None, (p.strip() for p in settings.admin_users.split(","))):
            user, sep, password = pair.partition(":")
            if not sep or not user.strip() or not password:
                raise SettingsError(f"{env_name('admin_users')}: expected user:password pairs, got {user.strip()!r}…")
            users[user.strip()] = password
        return cls(users)

    @property
    def enabled(self) -> bool:
        return bool(self._hashes)

    def check(self, user: str, password: str) -> bool:
        """Constant work whether or not the user exists, so timing does not reveal names."""
        salt, expected = self._hashes.get(user, self._dummy)
        return hmac.compare_digest(_hash(password[:1024], salt), expected) and user in self._hashes


class LoginThrottle:
    """At most `limit` failed logins per client address and per user name in `window` seconds."""

    def __init__(self, limit: int = 5, window: float = 900.0) -> None:
        self.limit, self.window = limit, window
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures[key]
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def retry_after(self, keys: Sequence[str], now: float | None = None) -> int:
        """Seconds until a login may be tried again; 0 when it may now."""
        now = time.monotonic() if now is None else now
        waits = [
            failures[0] + self.window - now
            for key in keys
            if len(failures := self._recent(key, now)) >= self.limit
        ]
        return int(max(waits)) + 1 if waits else 0

    def failed(self, keys: Sequence[str], now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        for key in keys:
            self._recent(key, now).append(now)
        if len(self._failures) > 10_000:  # an attacker cycling names must not grow memory forever
            for key in [k for k, v in self._failures.items() if not self._recent(k, now)]:
                del self._failures[key]


class Sessions:
    """The signed admin session: {"u": user, "c": csrf token}."""

    def __init__(self, keys: Sequence[str]) -> None:
        # itsdangerous signs with the last key and verifies with all: ours are newest first.
        self._serializer = itsdangerous.URLSafeTimedSerializer(list(reversed(keys)), salt="gatekeeper.admin")

    def read(self, request: Request) -> dict | None:
        value = request.cookies.get(SESSION_COOKIE)
        if not value:
            return None
        try:
            session = self._serializer.loads(value, max_age=SESSION_SECONDS)
        except itsdangerous.BadData:
            return None
        return session if isinstance(session, dict) and {"u", "c"} <= session.keys() else None

    def start(self, response: Response, request: Request, user: str) -> None:
        value = self._serializer.dumps({"u": user, "c": secrets.token_urlsafe(24)})
        _set(response, request, SESSION_COOKIE, value, SESSION_SECONDS)
        response.delete_cookie(LOGIN_COOKIE, path=PATH)

    def end(self, response: Response) -> None:
        response.delete_cookie(SESSION_COOKIE, path=PATH)


def _set(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path=PATH, secure=request.url.scheme == "https", httponly=True, samesite="strict"
    )


def login_token(request: Request) -> str:
    """The login form's CSRF token: the browser's existing one, or a new one."""
    return request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)


def keep_login_token(response: Response, request: Request, token: str) -> None:
    _set(response, request, LOGIN_COOKIE, token, 3600)


def same_origin(request: Request) -> bool:
    """A browser's form post carries Origin; one from another site is refused outright."""
    origin = request.headers.get("origin")
    return origin is None or origin == f"{request.url.scheme}://{request.url.netloc}"


def tokens_match(expected: str | None, given: object) -> bool:
    return bool(expected) and isinstance(given, str) and hmac.compare_digest(expected.encode(), given.encode())
