"""The consent API's answers as msgspec structs: api.py encodes them as its responses, and
/openapi.json takes their schemas from them (openapi.py), so the two cannot drift apart.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from .decisions import Action, Source

# Times are sent as ISO 8601 strings in UTC (datetime.isoformat()).
DateTime = Annotated[str, msgspec.Meta(extra_json_schema={"format": "date-time"})]
TextHash = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$", description="sha256 of what the visitor was shown")]


class Answer(msgspec.Struct, kw_only=True):
    pass


class DecisionState(Answer, kw_only=True):
    """Every category of the site explicitly true or false, under one revision."""

    categories: dict[str, bool]
    revision: int


class Recorded(Answer, kw_only=True):
    """The decision is committed to the consent log; the cookie is set."""

    status: Literal["recorded"] = "recorded"
    consent_id: str
    action: Action
    decision: DecisionState
    recorded_at: DateTime
    token: Annotated[str, msgspec.Meta(description="the signed consent token, also the gk_consent cookie's value")]
    max_age: Annotated[int, msgspec.Meta(description="seconds the decision holds")]


class BotNotRecorded(Answer, kw_only=True):
    """A bot's request: answered, but neither recorded nor given a cookie."""

    status: Literal["not_recorded"] = "not_recorded"
    reason: Literal["bot"] = "bot"


class Withdrawn(Answer, kw_only=True):
    """Consent withdrawn: recorded (not for bots), cookie cleared, declared first-party cookies expired."""

    status: Literal["recorded", "not_recorded"]
    consent_id: str
    action: Literal["withdraw"] = "withdraw"
    decision: DecisionState


class Undecided(Answer, kw_only=True, tag_field="state", tag="undecided"):
    """No valid decision: no cookie, a bad signature, another revision, or expired."""

    site: str


class Decided(Answer, kw_only=True, tag_field="state", tag="decided"):
    """The verified decision this browser's cookie holds."""

    site: str
    consent_id: str
    decision: DecisionState
    issued_at: DateTime
    expires_at: DateTime


class ChainPosition(Answer, kw_only=True):
    """An entry's place in its site's hash chain (README "Proof")."""

    seq: int
    prev_hash: Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]
    record_hash: Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]


class ReceiptRecord(Answer, kw_only=True):
    action: Action
    recorded_at: DateTime
    categories: dict[str, bool]
    revision: int
    language: str
    source: Source
    text_hash: TextHash
    chain: ChainPosition


class ShownText(Answer, kw_only=True):
    """What one text hash stands for: the words, the exact markup and the public config."""

    language: str
    revision: int
    first_seen: DateTime
    verified: Annotated[bool, msgspec.Meta(description="the markup's sha256 matches the hash")]
    text: str
    markup: str
    config: dict[str, Any]
    chain: ChainPosition


class Receipt(Answer, kw_only=True):
    """Every record of one consent id, newest first, and the texts they were made on."""

    consent_id: str
    site: str
    records: list[ReceiptRecord]
    texts: dict[str, ShownText]
    receipt: Annotated[str, msgspec.Meta(description="the same decisions as a JWT signed with EdDSA (Ed25519)")]
    jwks_uri: Annotated[str, msgspec.Meta(description="where the keys that verify `receipt` are published")]


class Jwks(Answer, kw_only=True):
    """The public keys that verify receipts (RFC 7517), each with its kid."""

    keys: list[dict[str, str]]


class ErrorBody(Answer, kw_only=True, omit_defaults=True):
    """An error answer; `error` is a stable code, `message` says what to change."""

    error: str
    message: str
    field: str | None = None
    category: str | None = None
    revision: int | None = None


class Health(Answer, kw_only=True):
    status: Literal["ok"] = "ok"
    sites: list[str]


class Unavailable(Answer, kw_only=True):
    status: Literal["unavailable"] = "unavailable"
    error: Literal["database_unreachable"] = "database_unreachable"
