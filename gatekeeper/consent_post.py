"""POST /api/v1/consent, the hot path, as a plain ASGI endpoint.

It reads the ASGI scope and sends its answer itself: no Starlette Request or Response
object, no route table walked, no exception layer on the way in and out. Everything else
is what every API view does, in the same order: 415 for a body that is not JSON, 413
for one too large (declared or read), 400/422 for one that is not a valid decision, 404
for an unknown site, 403 for an Origin that may not act for it, 409 for a stale
revision; bots are answered but not recorded; Sec-GPC is honoured; the record carries
the coarse agent and the truncated address; "recorded" is sent only after the commit.
Refusals answer through the same error handlers as every other view.

`ConsentPost` sits innermost among the app's middlewares, so the shared ones (proxy
headers, request log, security headers, limits, allowed hosts) still see this request;
the route in `routes` serves /openapi.json and any caller that reaches the router.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import msgspec
from starlette.requests import ClientDisconnect, Request
from starlette.routing import Route

from . import answers, errors
from .api import (
    append, bare_media_type, check_declared_length, check_origin, cors_headers, decision_state, new_consent_id,
    read_limited, record_for, require_json, within_limit,
)
from .cookies import consent_cookie_in, consent_set_cookie
from .decisions import MAX_BODY_BYTES, ConsentRequest, decide, decode, honour_gpc, language_for
from .error_handlers import handle_disconnect, handle_gatekeeper_error
from .sites import known_site
from .tokens import ConsentToken

PATH = "/api/v1/consent"
_encode = msgspec.json.encode
_JSON = (b"content-type", b"application/json")
_WANTED = {b"content-type", b"content-length", b"origin", b"user-agent", b"sec-gpc", b"cookie"}


def _headers(scope) -> dict[bytes, bytes]:
    """The headers this endpoint reads, the first of each name (as Starlette's `get`)."""
    found: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        if name in _WANTED and name not in found:
            found[name] = value
    return found


async def _chunks(receive, message: dict) -> AsyncIterator[bytes]:
    """The body's pieces as they arrive, from the first `message` on, as Starlette's `Request.stream`."""
    while True:
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        yield message.get("body", b"")
        if not message.get("more_body", False):
            return
        message = await receive()


async def _body(receive, headers: dict[bytes, bytes]) -> bytes:
    """The JSON body, refused before it is read when it is not JSON or declared too large."""
    require_json(bare_media_type(headers.get(b"content-type", b"").decode("latin-1")))
    declared = headers.get(b"content-length")
    check_declared_length(declared.decode("latin-1") if declared is not None else None, MAX_BODY_BYTES)
    message = await receive()
    if message["type"] == "http.request" and not message.get("more_body", False):
        # All in one message, as a small body mostly comes: no async generator to drive.
        return within_limit(message.get("body", b""), MAX_BODY_BYTES)
    return await read_limited(_chunks(receive, message), MAX_BODY_BYTES)


async def _record_decision(scope, receive) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
    """(status, JSON body, headers besides content-type and length) of a decision."""
    state = scope["app"].state
    headers = _headers(scope)
    consent = decode(await _body(receive, headers), ConsentRequest)
    site = known_site(state.sites, consent.site)
    origin = check_origin(scope, site, headers[b"origin"].decode("latin-1") if b"origin" in headers else None)
    decision, source = honour_gpc(decide(site, consent), consent.source, headers.get(b"sec-gpc") == b"1")
    signer = state.signer
    cookie = headers.get(b"cookie")
    previous = signer.current(consent_cookie_in(cookie.decode("latin-1")), site) if cookie else None
    consent_id = previous.id if previous else new_consent_id()
    language = language_for(site, consent.language)
    client = scope.get("client")
    record = record_for(state, site, consent_id, decision.action, decision, language, source,
                        headers.get(b"user-agent", b"").decode("latin-1"), client[0] if client else None)
    if record is None:
        # Bots get an answer their page can work with, but no record and no cookie.
        return 200, _encode(answers.BotNotRecorded()), cors_headers(origin)
    await append(state, record)

    signed = await signer.sign_soon(
        ConsentToken(site=site.id, id=consent_id, granted=decision.granted, rev=site.revision, iat=int(time.time())))
    max_age = site.consent_days * 86400
    body = _encode(answers.Recorded(
        consent_id=consent_id, action=record.action,
        decision=decision_state(decision),
        recorded_at=record.created_at.isoformat(), token=signed, max_age=max_age,
    ))
    cookie_header = consent_set_cookie(scope, site, signed, max_age).encode("latin-1")
    return 201, body, [(b"set-cookie", cookie_header), *cors_headers(origin)]


async def post_consent(scope, receive, send) -> None:
    """Record a decision; the answer comes after the commit and sets the gk_consent cookie."""
    try:
        status, body, headers = await _record_decision(scope, receive)
    except errors.GatekeeperError as exc:
        return await (await handle_gatekeeper_error(Request(scope), exc))(scope, receive, send)
    except ClientDisconnect as exc:
        return await (await handle_disconnect(Request(scope), exc))(scope, receive, send)
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-length", str(len(body)).encode()), _JSON, *headers]})
    await send({"type": "http.response.body", "body": body})


class _Endpoint:
    """The route's endpoint: an ASGI app (a class instance), so Starlette passes it the raw scope."""

    __doc__ = post_consent.__doc__

    async def __call__(self, scope, receive, send) -> None:
        await post_consent(scope, receive, send)


class ConsentPost:
    """ASGI middleware: answers POST /api/v1/consent at once, passes everything else on."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == PATH and not scope.get("root_path"):
            return await post_consent(scope, receive, send)
        await self.app(scope, receive, send)


routes = [Route(PATH, _Endpoint(), methods=["POST"])]
