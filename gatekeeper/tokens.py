"""The signed consent token: what `gk_consent` holds and any backend can verify.

Format: base64url(JSON payload) "." itsdangerous HMAC-SHA256 signature. The payload is
plain JSON so the bundle reads it without a round trip; only a key holder can make one.
Anything that does not verify, parse or match the site's current revision and consent
period reads as undecided (None) — never an exception.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Sequence

import itsdangerous
import msgspec

from .sites import Site

FORMAT_VERSION = 1
MAX_TOKEN_LENGTH = 2048


class ConsentToken(msgspec.Struct, frozen=True):
    site: str
    id: str
    granted: tuple[str, ...]
    rev: int
    iat: int
    v: int = FORMAT_VERSION

    def expires_at(self, site: Site) -> int:
        return self.iat + site.consent_days * 86400

    def is_current(self, site: Site, now: float | None = None) -> bool:
        """Same site, same revision, within the consent period."""
        now = time.time() if now is None else now
        return (
            self.site == site.id
            and self.rev == site.revision
            and self.iat <= now + 300  # a little clock skew, no tokens from the future
            and now < self.expires_at(site)
        )


_decoder = msgspec.json.Decoder(ConsentToken)


def _b64encode(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _b64decode(data: bytes) -> bytes:
    return base64.urlsafe_b64decode(data + b"=" * (-len(data) % 4))


def split_keys(keys: str | Sequence[str]) -> list[str]:
    """Keys as GATEKEEPER_SECRET_KEYS lists them (comma-separated, newest first) or as a list."""
    items = keys.split(",") if isinstance(keys, str) else keys
    return [k.strip() for k in items if k and k.strip()]


class TokenSigner:
    """Signs with the newest key, verifies with every listed key (rotation)."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys or not all(keys):
            raise ValueError("at least one non-empty secret key is required")
        # Our keys are listed newest first; itsdangerous signs with the last one.
        self._signer = itsdangerous.Signer(
            list(reversed(keys)),
            salt="gatekeeper.consent",
            key_derivation="hmac",
            digest_method=hashlib.sha256,
        )

    def sign(self, token: ConsentToken) -> str:
        return self._signer.sign(_b64encode(msgspec.json.encode(token))).decode("ascii")

    def verify(self, value: str | None) -> ConsentToken | None:
        """The token if the signature holds and the payload is well formed, else None."""
        if not value or len(value) > MAX_TOKEN_LENGTH:
            return None
        try:
            payload = self._signer.unsign(value.encode("ascii"))
            token = _decoder.decode(_b64decode(payload))
        except (itsdangerous.BadSignature, UnicodeError, ValueError, msgspec.DecodeError):
            return None
        return token if token.v == FORMAT_VERSION else None

    def current(self, value: str | None, site: Site, now: float | None = None) -> ConsentToken | None:
        """The token only if it verifies and still holds for `site` (else undecided)."""
        token = self.verify(value)
        return token if token is not None and token.is_current(site, now) else None
