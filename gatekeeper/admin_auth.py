"""Who may use /admin: hashed credentials, the admin cookies' flags, CSRF tokens.

Passwords are scrypt-hashed once at start-up and the plain text is dropped. Sessions and
the login limit live in the database (admin_sessions.py); the session cookie (HttpOnly,
SameSite=Strict, path /admin) carries only a random id, and every form posts back the
session's CSRF token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.requests import Request
from starlette.responses import Response

from .settings import Settings, SettingsError, env_name

SESSION_COOKIE = "gk_admin"
LOGIN_COOKIE = "gk_admin_login"  # CSRF token of the login form, before there is a session
PATH = "/admin"
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


def _hash(password: str, salt: bytes) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, **_SCRYPT)


class Credentials:
    """User name -> (salt, scrypt hash). Empty means the admin is off."""

    def __init__(self, users: dict[str, str], pepper: bytes = b"") -> None:
        self._hashes = {}
        self._credentials = {}
        for user, password in users.items():
            salt = secrets.token_bytes(16)
            self._hashes[user] = (salt, _hash(password, salt))
            # The same in every process with the same keys; another password, another value,
            # so restarting with a changed password ends that user's sessions.
            self._credentials[user] = hmac.new(pepper, f"{user}\0{password}".encode(), hashlib.sha256).hexdigest()
        self._dummy = (secrets.token_bytes(16), b"")

    def credential(self, user: str) -> str | None:
        """A keyed fingerprint of `user`'s current password (None: no such user any more)."""
        return self._credentials.get(user)

    @classmethod
    def from_settings(cls, settings: Settings, pepper: bytes = b"") -> Credentials:
        users: dict[str, str] = {}
        if settings.admin_password:
            users["admin"] = settings.admin_password
        for pair in filter(None, (p.strip() for p in settings.admin_users.split(","))):
            user, sep, password = pair.partition(":")
            if not sep or not user.strip() or not password:
                raise SettingsError(f"{env_name('admin_users')}: expected user:password pairs, got {user.strip()!r}…")
            users[user.strip()] = password
        return cls(users, pepper)

    @property
    def enabled(self) -> bool:
        return bool(self._hashes)

    def check(self, user: str, password: str) -> bool:
        """Constant work whether or not the user exists, so timing does not reveal names."""
        salt, expected = self._hashes.get(user, self._dummy)
        return hmac.compare_digest(_hash(password[:1024], salt), expected) and user in self._hashes


def set_admin_cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path=PATH, secure=request.url.scheme == "https", httponly=True, samesite="strict"
    )


def login_token(request: Request) -> str:
    """The login form's CSRF token: the browser's existing one, or a new one."""
    return request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)


def keep_login_token(response: Response, request: Request, token: str) -> None:
    set_admin_cookie(response, request, LOGIN_COOKIE, token, 3600)


def same_origin(request: Request) -> bool:
    """A browser's form post carries Origin; one from another site is refused outright."""
    origin = request.headers.get("origin")
    return origin is None or origin == f"{request.url.scheme}://{request.url.netloc}"


def tokens_match(expected: str | None, given: object) -> bool:
    return bool(expected) and isinstance(given, str) and hmac.compare_digest(expected.encode(), given.encode())
