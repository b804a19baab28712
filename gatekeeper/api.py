"""The consent API: read a decision back, withdraw it, preflight; and what recording one
shares with the hot path's plain ASGI endpoint for POST (consent_post.py).

Thin views: decisions.py says what is valid, consent_log.py writes it, cookies.py sets
the cookie. A response that says "recorded" is sent only after the commit.
"""

from __future__ import annotations

import base64
import os
from collections import deque
from collections.abc import AsyncIterator
from datetime import datetime, timezone

import msgspec
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import answers, errors, metrics
from .consent_log import ConsentRecord
from .cookies import clear_consent_cookie, consent_cookie, expire_withdrawn_cookies
from .decisions import (
    MAX_BODY_BYTES,
    Decision,
    WithdrawalRequest,
    decode,
    language_for,
    refusal,
)
from .hosts import is_own_origin, request_scheme
from .sites import Site, known_site
from .tokens import ConsentToken
from .visitors import coarse_agent, truncate_ip


class JSON(JSONResponse):
    """API answers encoded by msgspec: the consent POST is the hot path."""

    def render(self, content) -> bytes:
        return msgspec.json.encode(content)


def _own_origin(scope, origin: str | None) -> bool:
    """An origin on a host this server is configured to answer for (hosts.py), never one
    taken from the request's own Host header."""
    return is_own_origin(origin, scope["app"].state.allowed_hosts, request_scheme(scope))


def may_act_for(scope, site: Site, origin: str | None) -> bool:
    """One of the site's origins, or this server's own."""
    return origin is not None and (origin in site.origins or _own_origin(scope, origin))


def check_origin(scope, site: Site, origin: str | None) -> str:
    """The request's Origin, if it may act for `site`."""
    if origin is None:
        raise errors.OriginNotAllowed("an Origin header is required")
    if not may_act_for(scope, site, origin):
        raise errors.OriginNotAllowed(f"origin {origin!r} may not record decisions for site {site.id!r}")
    return origin


def _check_origin(request: Request, site: Site) -> str:
    return check_origin(request.scope, site, request.headers.get("origin"))


def media_type(request: Request) -> str:
    return bare_media_type(request.headers.get("content-type", ""))


def bare_media_type(content_type: str) -> str:
    return content_type.split(";")[0].strip().lower()


def require_json(media: str) -> None:
    if media != "application/json":
        raise errors.UnsupportedMediaType("the body must be JSON (Content-Type: application/json)")


def check_declared_length(declared: str | None, limit: int) -> None:
    """413 when a Content-Length header says the body exceeds `limit` bytes (or is no number)."""
    # isdecimal, not isdigit: "²" is a digit that int() refuses.
    if declared is not None and (not declared.isdecimal() or int(declared) > limit):
        raise too_large(limit)


def too_large(limit: int) -> errors.BodyTooLarge:
    return errors.BodyTooLarge(f"the body may be at most {limit} bytes")


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused (413) as soon as it is known to exceed `limit` bytes."""
    check_declared_length(request.headers.get("content-length"), limit)
    return await read_limited(request.stream(), limit)


def within_limit(body: bytes, limit: int) -> bytes:
    """`body`, refused (413) when it exceeds `limit` bytes."""
    if len(body) > limit:
        raise too_large(limit)
    return body


async def read_limited(chunks: AsyncIterator[bytes], limit: int) -> bytes:
    """The body from its `chunks`, refused (413) as soon as what was read exceeds `limit`
    bytes (its declared length is checked before: check_declared_length)."""
    body = b""
    async for chunk in chunks:
        body = within_limit(body + chunk, limit)
    return body


async def _body(request: Request) -> bytes:
    """The JSON body, refused before it is read when it is not JSON or too large."""
    require_json(media_type(request))
    return await read_body(request, MAX_BODY_BYTES)


def cors_headers(origin: str) -> list[tuple[bytes, bytes]]:
    """What lets the page at `origin` read the answer, cookie included."""
    return [
        (b"access-control-allow-origin", origin.encode("latin-1")),
        (b"access-control-allow-credentials", b"true"),
        (b"vary", b"Origin"),
    ]


def _cors(response: Response, origin: str) -> Response:
    """For a response that has none of these headers yet (every answer here is new)."""
    response.raw_headers += cors_headers(origin)
    return response


class _ConsentIds:
    """New consent ids: 16 bytes from os.urandom each, base64url (as secrets.token_urlsafe(16)),
    read 256 at a time: a system call per POST cost several µs and let go of the GIL. Each
    id is handed out once (deque.popleft is atomic); a forked child drops the parent's."""

    def __init__(self) -> None:
        self._ready: deque[str] = deque()
        os.register_at_fork(after_in_child=self._ready.clear)

    def __call__(self) -> str:
        try:
            return self._ready.popleft()
        except IndexError:
            block = os.urandom(16 * 256)
            self._ready.extend(base64.urlsafe_b64encode(block[i : i + 16]).rstrip(b"=").decode("ascii")
                               for i in range(0, len(block), 16))
            return self._ready.popleft()


new_consent_id = _ConsentIds()


def decision_state(decision: Decision) -> answers.DecisionState:
    return answers.DecisionState(categories=decision.categories, revision=decision.revision)


def _current_token(request: Request, site: Site) -> ConsentToken | None:
    return request.app.state.signer.current(consent_cookie(request), site)


def record_for(state, site: Site, consent_id: str, action: str, decision: Decision, language: str, source: str,
               user_agent: str, client_host: str | None) -> ConsentRecord | None:
    """The record of a decision, or None for a bot (answered, never recorded)."""
    agent = coarse_agent(user_agent)
    if agent.is_bot:
        return None
    return ConsentRecord(
        consent_id=consent_id,
        site=site.id,
        created_at=datetime.now(timezone.utc),
        action=action,
        categories=decision.categories,
        revision=decision.revision,
        text_hash=state.bundles[site.id].text_hashes[language],
        language=language,
        source=source,
        ua_browser=agent.browser,
        ua_os=agent.os,
        ua_device=agent.device,
        ip=truncate_ip(client_host),
    )


def _record(request: Request, site: Site, consent_id: str, action: str, decision: Decision, language: str, source: str):
    return record_for(request.app.state, site, consent_id, action, decision, language, source,
                      request.headers.get("user-agent", ""), request.client.host if request.client else None)


async def append(state, record: ConsentRecord) -> None:
    """Returns once `record` is committed; NotRecorded (503) when it is not."""
    try:
        await state.consent_log.append(record)
    except Exception:
        raise errors.NotRecorded("the decision could not be recorded; nothing was stored, please try again") from None
    metrics.decision_recorded(record.site, record.action, record.source)


async def get_consent(request: Request) -> Response:
    site = known_site(request.app.state.sites, request.query_params.get("site"))
    token = _current_token(request, site)
    if token is None:
        response = JSON(answers.Undecided(site=site.id))
    else:
        categories = {"necessary": True} | {c: c in token.granted for c in site.optional_categories}
        response = JSON(
            answers.Decided(
                site=site.id,
                consent_id=token.id,
                decision=answers.DecisionState(categories=categories, revision=token.rev),
                issued_at=datetime.fromtimestamp(token.iat, timezone.utc).isoformat(),
                expires_at=datetime.fromtimestamp(token.expires_at(site), timezone.utc).isoformat(),
            )
        )
    origin = request.headers.get("origin")
    if may_act_for(request.scope, site, origin):
        _cors(response, origin)
    response.headers["Cache-Control"] = "no-store"
    return response


async def delete_consent(request: Request) -> Response:
    withdrawal = decode(await _body(request), WithdrawalRequest)
    site = known_site(request.app.state.sites, withdrawal.site)
    origin = _check_origin(request, site)
    previous = _current_token(request, site)
    consent_id = previous.id if previous else new_consent_id()
    language = language_for(site, withdrawal.language)
    decision = refusal(site)
    record = _record(request, site, consent_id, "withdraw", decision, language, withdrawal.source)
    if record is not None:
        await append(request.app.state, record)
    response = JSON(
        answers.Withdrawn(
            status="recorded" if record else "not_recorded", consent_id=consent_id, decision=decision_state(decision)
        )
    )
    clear_consent_cookie(response, request, site)
    expire_withdrawn_cookies(response, request, site, set(site.optional_categories))
    return _cors(response, origin)


async def preflight(request: Request) -> Response:
    """CORS preflight: the body (and so the site) is unknown yet, so any site's origin passes."""
    origin = request.headers.get("origin", "")
    allowed = _own_origin(request.scope, origin) or any(origin in s.origins for s in request.app.state.sites.values())
    if not allowed:
        raise errors.OriginNotAllowed(f"origin {origin!r} is not an origin of any site")
    response = Response(status_code=204)
    response.headers["Access-Control-Allow-Methods"] = "GET, POST, DELETE"
    response.headers["Access-Control-Allow-Headers"] = "Content-Type"
    response.headers["Access-Control-Max-Age"] = "600"
    return _cors(response, origin)


routes = [
    Route("/api/v1/consent", get_consent, methods=["GET"]),
    Route("/api/v1/consent", delete_consent, methods=["DELETE"]),
    Route("/api/v1/consent", preflight, methods=["OPTIONS"]),
]
