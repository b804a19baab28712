"""The signed consent token: what `gk_consent` holds, the bundle and any backend verify.

Format: base64url(JSON payload) "." base64url(ECDSA P-256 / SHA-256 signature, r‖s) over
the payload's ASCII. The signature is asymmetric so the browser can check it with the
public keys embedded in the bundle (WebCrypto) before it releases any tag; only the
server, holding the private keys, can make one. ECDSA P-256 rather than Ed25519: every
engine the banner targets (Chromium, Firefox, Safari) has verified it in WebCrypto for
years, Ed25519 only since 2024–2025.

Each configured secret key is a random string from which its P-256 key pair is derived
(HKDF-SHA256), so the keys are set and rotated exactly as before: newest first signs,
every listed key verifies. Anything that does not verify, parse or match the site's
current revision and consent period reads as undecided (None) — never an exception.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import re
import time
from collections.abc import Sequence

import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .sites import Site

FORMAT_VERSION = 2  # 1 was HMAC-signed: such cookies read as undecided (asked once again)
MAX_TOKEN_LENGTH = 2048
_CURVE = ec.SECP256R1()
_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551  # n of P-256
_ECDSA = ec.ECDSA(hashes.SHA256())
# Strict: the bundle's atob() refuses anything else, and so does the server.
_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{86}")


class ConsentToken(msgspec.Struct, frozen=True):
    site: str
    id: str
    granted: tuple[str, ...]
    rev: int
    iat: int
    v: int = FORMAT_VERSION

    def expires_at(self, site: Site) -> int:
        return self.iat + site.consent_days * 86400

    def valid_between(self, site: Site) -> tuple[int, int] | None:
        """When the token holds for `site`, as (from, until) in epoch seconds; None when it
        is another site's or an older revision's."""
        if self.site != site.id or self.rev != site.revision:
            return None
        return self.iat - 300, self.expires_at(site)  # a little clock skew, no tokens from the future

    def is_current(self, site: Site, now: float | None = None) -> bool:
        """Same site, same revision, within the consent period."""
        window = self.valid_between(site)
        now = time.time() if now is None else now
        return window is not None and window[0] <= now < window[1]


_decoder = msgspec.json.Decoder(ConsentToken)


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


def split_keys(keys: str | Sequence[str]) -> list[str]:
    """Keys as GATEKEEPER_SECRET_KEYS lists them (comma-separated, newest first) or as a list."""
    items = keys.split(",") if isinstance(keys, str) else keys
    return [k.strip() for k in items if k and k.strip()]


def private_key(secret: str) -> ec.EllipticCurvePrivateKey:
    """The P-256 key of one configured secret: HKDF-SHA256 to 48 bytes, reduced into [1, n-1]
    (FIPS 186-5 A.2.1, extra random bits), so the same secret gives the same key everywhere."""
    okm = HKDF(algorithm=hashes.SHA256(), length=48, salt=b"gatekeeper", info=b"gatekeeper.consent ecdsa-p256").derive(
        secret.encode("utf-8")
    )
    return ec.derive_private_key(int.from_bytes(okm, "big") % (_ORDER - 1) + 1, _CURVE)


def public_key_text(key: ec.EllipticCurvePublicKey) -> str:
    """base64url of the uncompressed point: WebCrypto's `raw` import format, 87 characters."""
    return _b64encode(key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint))


class TokenVerifier:
    """Verifies with every listed public key: what a shop's backend needs, no secret."""

    def __init__(self, public_keys: Sequence[str]) -> None:
        if not public_keys:
            raise ValueError("at least one public key is required")
        self.public_keys = tuple(public_keys)
        self._keys = [ec.EllipticCurvePublicKey.from_encoded_point(_CURVE, _b64decode(k)) for k in public_keys]

    def verify(self, value: str | None) -> ConsentToken | None:
        """The token if a listed key signed it and the payload is well formed, else None."""
        if not value or len(value) > MAX_TOKEN_LENGTH or not _SHAPE.fullmatch(value):
            return None
        payload, _, signature = value.partition(".")
        try:
            raw = _b64decode(signature)
            der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
            data = payload.encode("ascii")
            if not any(_verifies(key, der, data) for key in self._keys):
                return None
            token = _decoder.decode(_b64decode(payload))
        except (UnicodeError, ValueError, binascii.Error, msgspec.DecodeError):
            return None
        return token if token.v == FORMAT_VERSION else None

    def current(self, value: str | None, site: Site, now: float | None = None) -> ConsentToken | None:
        """The token only if it verifies and still holds for `site` (else undecided)."""
        token = self.verify(value)
        return token if token is not None and token.is_current(site, now) else None


def _public_key_or_none(text: str) -> str | None:
    """`text` itself when it is a public key as public_key_text writes it, else None."""
    if len(text) != 87:
        return None
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(_CURVE, _b64decode(text))
    except (ValueError, binascii.Error):
        return None
    return text


def verifier(keys: str | Sequence[str]) -> TokenVerifier:
    """A verifier from keys as GATEKEEPER_SECRET_KEYS lists them, or from the public keys
    `gatekeeper secret --public` prints (then a shop's servers hold no signing secret)."""
    listed = split_keys(keys)
    if not listed:
        raise ValueError("at least one key is required")
    return TokenVerifier([_public_key_or_none(k) or public_key_text(private_key(k).public_key()) for k in listed])


def _verifies(key: ec.EllipticCurvePublicKey, der: bytes, data: bytes) -> bool:
    try:
        key.verify(der, data, _ECDSA)
    except InvalidSignature:
        return False
    return True


class TokenSigner(TokenVerifier):
    """Signs with the newest secret key, verifies with every listed one (rotation)."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys or not all(keys):
            raise ValueError("at least one non-empty secret key is required")
        self._private = private_key(keys[0])
        super().__init__([public_key_text(private_key(k).public_key()) for k in keys])
        # Event loop -> the tokens asked for in its current turn (each loop only touches its own).
        self._asked: dict[asyncio.AbstractEventLoop, list[tuple[ConsentToken, asyncio.Future]]] = {}

    def sign(self, token: ConsentToken) -> str:
        payload = _b64encode(msgspec.json.encode(token))
        r, s = decode_dss_signature(self._private.sign(payload.encode("ascii"), _ECDSA))
        return f"{payload}.{_b64encode(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"

    async def sign_soon(self, token: ConsentToken) -> str:
        """The same signature as `sign`, made together with every other asked for in this
        turn of the event loop, just after it (one batch of consent POSTs answered by one
        commit asks in one turn). Back to back, OpenSSL's P-256 tables stay in the CPU's
        cache: a signature between other work costs about half again as much."""
        loop = asyncio.get_running_loop()
        asked = self._asked.get(loop)
        if asked is None:
            asked = self._asked[loop] = []
            loop.call_soon(self._sign_asked, loop)
        done = loop.create_future()
        asked.append((token, done))
        return await done

    def _sign_asked(self, loop: asyncio.AbstractEventLoop) -> None:
        for token, done in self._asked.pop(loop):
            if done.done():  # its request was cancelled (the client went away)
                continue
            try:
                done.set_result(self.sign(token))
            except Exception as exc:  # that request's 500, as if it had signed itself
                done.set_exception(exc)
