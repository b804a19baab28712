"""The consent API: record a decision, read it back, withdraw it, show a receipt.

Thin views: decisions.py says what is valid, consent_log.py writes it, cookies.py sets
the cookie. A response that says "recorded" is sent only after the commit.
"""

from __future__ import annotations

import secrets
import time
from datetime import datetime, timezone

import msgspec
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import answers, errors, metrics
from .consent_log import ConsentRecord
from .cookies import clear_consent_cookie, consent_cookie, expire_withdrawn_cookies, set_consent_cookie
from .decisions import (
    MAX_BODY_BYTES,
    ConsentRequest,
    Decision,
    WithdrawalRequest,
    decide,
    decode,
    honour_gpc,
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


def _own_origin(request: Request, origin: str | None) -> bool:
    """An origin on a host this server is configured to answer for (hosts.py), never one
    taken from the request's own Host header."""
    return is_own_origin(origin, request.app.state.allowed_hosts, request_scheme(request.scope))


def _may_act_for(request: Request, site: Site, origin: str | None) -> bool:
    """One of the site's origins, or this server's own."""
    return origin is not None and (origin in site.origins or _own_origin(request, origin))


def _check_origin(request: Request, site: Site) -> str:
    """The request's Origin, if it may act for `site`."""
    origin = request.headers.get("origin")
    if origin is None:
        raise errors.OriginNotAllowed("an Origin header is required")
    if not _may_act_for(request, site, origin):
        raise errors.OriginNotAllowed(f"origin {origin!r} may not record decisions for site {site.id!r}")
    return origin


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused (413) as soon as it is known to exceed `limit` bytes."""
    declared = request.headers.get("content-length")
    # isdecimal, not isdigit: "²" is a digit that int() refuses.
    if declared is not None and (not declared.isdecimal() or int(declared) > limit):
        raise errors.BodyTooLarge(f"the body may be at most {limit} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise errors.BodyTooLarge(f"the body may be at most {limit} bytes")
    return body


async def _body(request: Request) -> bytes:
    """The JSON body, refused before it is read when it is not JSON or too large."""
    if media_type(request) != "application/json":
        raise errors.UnsupportedMediaType("the body must be JSON (Content-Type: application/json)")
    return await read_body(request, MAX_BODY_BYTES)


def _cors(response: Response, origin: str) -> Response:
    """For a response that has none of these headers yet (every answer here is new)."""
    response.raw_headers += [
        (b"access-control-allow-origin", origin.encode("latin-1")),
        (b"access-control-allow-credentials", b"true"),
        (b"vary", b"Origin"),
    ]
    return response


def _state(decision: Decision) -> answers.DecisionState:
    return answers.DecisionState(categories=decision.categories, revision=decision.revision)


def _current_token(request: Request, site: Site) -> ConsentToken | None:
    return request.app.state.signer.current(consent_cookie(request), site)


def _record(request: Request, site: Site, consent_id: str, action: str, decision: Decision, language: str, source: str):
    agent = coarse_agent(request.headers.get("user-agent", ""))
    if agent.is_bot:
        return None
    return ConsentRecord(
        consent_id=consent_id,
        site=site.id,
        created_at=datetime.now(timezone.utc),
        action=action,
        categories=decision.categories,
        revision=decision.revision,
        text_hash=request.app.state.bundles[site.id].text_hashes[language],
        language=language,
        source=source,
        ua_browser=agent.browser,
        ua_os=agent.os,
        ua_device=agent.device,
        ip=truncate_ip(request.client.host if request.client else None),
    )


async def _append(request: Request, record: ConsentRecord) -> None:
    try:
        await request.app.state.consent_log.append(record)
    except Exception:
        raise errors.NotRecorded("the decision could not be recorded; nothing was stored, please try again") from None
    metrics.decision_recorded(record.site, record.action, record.source)


async def post_consent(request: Request) -> Response:
    body = await _body(request)
    consent = decode(body, ConsentRequest)
    site = known_site(request.app.state.sites, consent.site)
    origin = _check_origin(request, site)
    decision, source = honour_gpc(decide(site, consent), consent.source, request.headers.get("sec-gpc") == "1")
    previous = _current_token(request, site)
    consent_id = previous.id if previous else secrets.token_urlsafe(16)
    language = language_for(site, consent.language)
    record = _record(request, site, consent_id, decision.action, decision, language, source)
    if record is None:
        # Bots get an answer their page can work with, but no record and no cookie.
        return _cors(JSON(answers.BotNotRecorded(), status_code=200), origin)
    await _append(request, record)

    token = ConsentToken(site=site.id, id=consent_id, granted=decision.granted, rev=site.revision, iat=int(time.time()))
    signed = request.app.state.signer.sign(token)
    max_age = site.consent_days * 86400
    response = JSON(
        answers.Recorded(
            consent_id=consent_id,
            action=record.action,
            decision=_state(decision),
            recorded_at=record.created_at.isoformat(),
            token=signed,
            max_age=max_age,
        ),
        status_code=201,
    )
    set_consent_cookie(response, request, site, signed, max_age)
    return _cors(response, origin)


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
    if _may_act_for(request, site, origin):
        _cors(response, origin)
    response.headers["Cache-Control"] = "no-store"
    return response


async def delete_consent(request: Request) -> Response:
    withdrawal = decode(await _body(request), WithdrawalRequest)
    site = known_site(request.app.state.sites, withdrawal.site)
    origin = _check_origin(request, site)
    previous = _current_token(request, site)
    consent_id = previous.id if previous else secrets.token_urlsafe(16)
    language = language_for(site, withdrawal.language)
    decision = refusal(site)
    record = _record(request, site, consent_id, "withdraw", decision, language, withdrawal.source)
    if record is not None:
        await _append(request, record)
    response = JSON(
        answers.Withdrawn(
            status="recorded" if record else "not_recorded", consent_id=consent_id, decision=_state(decision)
        )
    )
    clear_consent_cookie(response, request, site)
    expire_withdrawn_cookies(response, request, site, set(site.optional_categories))
    return _cors(response, origin)


async def preflight(request: Request) -> Response:
    """CORS preflight: the body (and so the site) is unknown yet, so any site's origin passes."""
    origin = request.headers.get("origin", "")
    allowed = _own_origin(request, origin) or any(origin in s.origins for s in request.app.state.sites.values())
    if not allowed:
        raise errors.OriginNotAllowed(f"origin {origin!r} is not an origin of any site")
    response = Response(status_code=204)
    response.headers["Access-Control-Allow-Methods"] = "GET, POST, DELETE"
    response.headers["Access-Control-Allow-Headers"] = "Content-Type"
    response.headers["Access-Control-Max-Age"] = "600"
    return _cors(response, origin)


routes = [
    Route("/api/v1/consent", post_consent, methods=["POST"]),
    Route("/api/v1/consent", get_consent, methods=["GET"]),
    Route("/api/v1/consent", delete_consent, methods=["DELETE"]),
    Route("/api/v1/consent", preflight, methods=["OPTIONS"]),
]
