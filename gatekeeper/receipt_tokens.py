"""Signed receipts: a JWT (JWS, EdDSA with Ed25519, RFC 8037) over one consent id's records
and their chain positions, verifiable by anyone against /.well-known/jwks.json.

Keys are kept apart from the cookie's: a receipt must stay verifiable for as long as its
records are kept (years), while cookie keys rotate with `consent_days`. Every configured
key is published under its RFC 7638 thumbprint as `kid`; the newest signs. joserfc
signs; the tests verify with PyJWT, a different library.
"""

from __future__ import annotations

import base64
import secrets
import time
import warnings
from collections.abc import Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc import jwt
from joserfc.errors import SecurityWarning
from joserfc.jwk import OKPKey

from . import chain
from .consent_log import ConsentRecord

ALGORITHM = "EdDSA"  # RFC 8037; RFC 9864's newer "Ed25519" name is not yet understood by most verifiers


class ReceiptKeyError(ValueError):
    """A receipt key that is not a base64url Ed25519 seed; the message says which."""


def new_key() -> str:
    """A fresh Ed25519 private key as GATEKEEPER_RECEIPT_KEYS lists it: its 32-byte seed, base64url."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode("ascii")


def _key(seed: str, position: int) -> OKPKey:
    try:
        raw = base64.urlsafe_b64decode(seed + "=" * (-len(seed) % 4))
        if len(raw) != 32:
            raise ValueError(f"{len(raw)} bytes, expected 32")
        return OKPKey.import_key(Ed25519PrivateKey.from_private_bytes(raw))
    except ValueError as exc:
        raise ReceiptKeyError(f"GATEKEEPER_RECEIPT_KEYS: key {position + 1} is not a base64url Ed25519 seed "
                              f"({exc}); `gatekeeper secret --receipt` prints one") from None


class ReceiptSigner:
    def __init__(self, seeds: Sequence[str]) -> None:
        if not seeds:
            raise ReceiptKeyError("at least one receipt key is required")
        self._keys = [_key(seed, i) for i, seed in enumerate(seeds)]
        self.kids = [key.thumbprint() for key in self._keys]

    def jwks(self) -> dict:
        return {"keys": [key.as_dict(private=False) | {"kid": kid, "alg": ALGORITHM, "use": "sig"}
                         for key, kid in zip(self._keys, self.kids)]}

    def sign(self, issuer: str, consent_id: str, site: str, decisions: list[dict], now: int | None = None) -> str:
        claims = {"iss": issuer, "sub": consent_id, "iat": int(now or time.time()), "site": site, "decisions": decisions}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SecurityWarning)  # joserfc's note on RFC 9864: see ALGORITHM
            return jwt.encode({"alg": ALGORITHM, "kid": self.kids[0], "typ": "JWT"}, claims, self._keys[0],
                              algorithms=[ALGORITHM])


def decisions(records: Sequence[ConsentRecord], positions: Sequence[chain.Linked]) -> list[dict]:
    """The receipt's claims about each record, oldest first, with its place in the chain."""
    return [
        {"action": r.action, "at": chain.utc_text(r.created_at), "categories": dict(sorted(r.categories.items())),
         "revision": r.revision, "text_hash": r.text_hash, "language": r.language, "source": r.source,
         "seq": at.seq, "prev_hash": at.prev_hash, "record_hash": at.record_hash}
        for r, at in zip(records, positions)
    ]
