"""/openapi.json: every public endpoint of the running app (OpenAPI 3.1).

Paths come from the app's own routes, so a new endpoint is listed without anyone writing
it here. The consent API's request and response schemas are generated from the msgspec
structs it decodes and answers with (decisions.py, answers.py), and its error answers
from the error classes it raises (errors.py), each with its status and `error` code.
"""

from __future__ import annotations

import re
from importlib.metadata import PackageNotFoundError, version
from typing import Any, NamedTuple

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.convertors import IntegerConvertor
from starlette.routing import Route

from . import answers, csp_reports, errors
from .declaration import SiteDeclaration
from .csp import REPORT_PATH
from .decisions import ConsentRequest, WithdrawalRequest
from .extras import DISTRIBUTION

# Behind credentials, or deliberately broken pages for trying the audit: not public.
HIDDEN_PREFIXES = ("/admin", "/qa/")
REF = "#/components/schemas/{name}"
JSON_BODY_ERRORS = (
    errors.UnsupportedMediaType, errors.BodyTooLarge, errors.InvalidJSON, errors.InvalidField, errors.UnknownSite,
    errors.OriginNotAllowed,
)


class Operation(NamedTuple):
    summary: str
    body: Any = None  # a msgspec struct: the JSON request body, or {media type: struct}
    answers: dict[int, Any] = {}  # status -> struct (or union of structs) of a JSON answer
    errors: tuple[type[errors.GatekeeperError], ...] = ()
    query: tuple[str, ...] = ()  # required query parameters: a site id
    optional: dict[str, tuple[str, ...]] = {}  # optional query parameters: their values
    media: dict[int, str] = {}  # status -> media type(s), space-separated, of a non-JSON answer


OPERATIONS: dict[tuple[str, str], Operation] = {
    ("POST", "/api/v1/consent"): Operation(
        "Record a decision; the answer comes after the commit and sets the gk_consent cookie.",
        body=ConsentRequest,
        answers={201: answers.Recorded, 200: answers.BotNotRecorded},
        errors=(*JSON_BODY_ERRORS, errors.UnknownCategory, errors.MissingCategory, errors.StaleRevision,
                errors.NotRecorded),
    ),
    ("GET", "/api/v1/consent"): Operation(
        "The verified current decision of this browser (its gk_consent cookie).",
        answers={200: answers.Undecided | answers.Decided},
        errors=(errors.UnknownSite,),
        query=("site",),
    ),
    ("DELETE", "/api/v1/consent"): Operation(
        "Withdraw consent: recorded, cookie cleared, declared first-party cookies expired.",
        body=WithdrawalRequest,
        answers={200: answers.Withdrawn},
        errors=(*JSON_BODY_ERRORS, errors.NotRecorded),
    ),
    ("OPTIONS", "/api/v1/consent"): Operation(
        "CORS preflight for the shop's origins.", errors=(errors.OriginNotAllowed,), media={204: ""}
    ),
    ("POST", REPORT_PATH): Operation(
        "Count the CSP violations a visitor's browser reports (report-uri or report-to format).",
        body=csp_reports.BODIES,
        media={204: ""},
        errors=(errors.UnsupportedMediaType, errors.UnknownSite, errors.RateLimited, errors.BodyTooLarge,
                errors.InvalidJSON, errors.NotRecorded),
        query=("site",),
        optional={"decided": ("1", "0")},  # whether the visitor had decided (gatekeeper.shop sets it)
    ),
    ("OPTIONS", REPORT_PATH): Operation("CORS preflight of the Reporting API, from any origin.", media={204: ""}),
    ("GET", "/api/v1/consent/{consent_id}"): Operation(
        "The receipt of one consent id: its records and the texts they were made on.",
        answers={200: answers.Receipt},
        errors=(errors.NotFound,),
    ),
    ("GET", "/api/v1/receipt"): Operation(
        "The receipt of this browser's decision (its gk_consent cookie), as a file to download.",
        answers={200: answers.Receipt},
        errors=(errors.UnknownSite, errors.NotFound),
        query=("site",),
    ),
    ("GET", "/.well-known/jwks.json"): Operation(
        "The public keys (Ed25519) that verify signed receipts.", answers={200: answers.Jwks}
    ),
    ("GET", "/healthz"): Operation(
        "200 while the consent log answers; 503 tells a load balancer to send decisions elsewhere.",
        answers={200: answers.Health, 503: answers.Unavailable},
    ),
    ("GET", "/gk/{site}.js"): Operation(
        "The site's bundle (revalidated on every page view; 304 when current).",
        media={200: "text/javascript", 304: "", 404: "text/javascript"},
    ),
    ("GET", "/gk/{site}.{digest}.js"): Operation(
        "The site's bundle at a content-hashed URL, served immutable.",
        media={200: "text/javascript", 304: "", 404: "text/javascript"},
    ),
    ("GET", "/gk/{site}/prefs/{lang}.{digest}.js"): Operation(
        "The banner's later layer (preferences, withdrawal) in one language, fetched on first use; immutable.",
        media={200: "text/javascript", 304: "", 404: "text/plain"},
    ),
    ("GET", "/gk/{site}/cookies.json"): Operation(
        "The site's cookie declaration as data, for tools such as `gatekeeper audit`.",
        answers={200: SiteDeclaration},
        # Unknown site: the HTML error page; a path no route takes: the router's plain text.
        media={404: "text/html text/plain"},
    ),
    ("GET", "/metrics"): Operation("Counters and histograms in Prometheus' text format.", media={200: "text/plain"}),
    ("GET", "/openapi.json"): Operation("This document.", media={200: "application/json"}),
}


def _schemas() -> tuple[dict[Any, dict], dict[str, dict]]:
    types = [answers.ErrorBody]
    for operation in OPERATIONS.values():
        bodies = operation.body.values() if isinstance(operation.body, dict) else (operation.body,)
        types += [t for t in (*bodies, *operation.answers.values()) if t is not None]
    types = list(dict.fromkeys(types))
    schemas, components = msgspec.json.schema_components(types, ref_template=REF)
    return dict(zip(types, schemas)), components


def _json(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def _error_answers(raised: tuple[type[errors.GatekeeperError], ...], error_ref: dict) -> dict[str, dict]:
    by_status: dict[int, list[str]] = {}
    for kind in raised:
        by_status.setdefault(kind.status, []).append(kind.code)
    return {
        str(status): {
            "description": "Refused, nothing recorded: " + ", ".join(f"`{c}`" for c in codes),
            "content": _json({"allOf": [error_ref, {"properties": {"error": {"enum": codes}}}]}),
        }
        for status, codes in sorted(by_status.items())
    }


def _templated(path: str) -> str:
    """Starlette's /demo/{site}/product/{n:int} as OpenAPI's /demo/{site}/product/{n}."""
    return re.sub(r"\{(\w+):\w+\}", r"{\1}", path)


def _operation(route: Route, method: str, schemas: dict[Any, dict], error_ref: dict, site_ids: list[str]) -> dict:
    path = _templated(route.path)
    known = OPERATIONS.get((method, path))
    summary = known.summary if known else ((route.endpoint.__doc__ or route.name).strip().splitlines()[0])
    # Unique per method and path: two routes may share an endpoint function's name.
    operation_id = method.lower() + "_" + (re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_") or "root")
    operation: dict[str, Any] = {"summary": summary, "operationId": operation_id}
    parameters = [
        {"name": name, "in": "path", "required": True,
         "schema": {"type": "integer"} if isinstance(convertor, IntegerConvertor)
         else {"type": "string", "enum": site_ids} if name == "site" else {"type": "string"}}
        for name, convertor in route.param_convertors.items()
    ]
    parameters += [
        {"name": name, "in": "query", "required": True, "schema": {"type": "string", "enum": site_ids}}
        for name in (known.query if known else ())
    ]
    parameters += [
        {"name": name, "in": "query", "required": False, "schema": {"type": "string", "enum": list(values)}}
        for name, values in (known.optional.items() if known else ())
    ]
    if parameters:
        operation["parameters"] = parameters
    if known and known.body is not None:
        bodies = known.body if isinstance(known.body, dict) else {"application/json": known.body}
        content = {media: {"schema": schemas[kind]} for media, kind in bodies.items()}
        operation["requestBody"] = {"required": True, "content": content}
    responses: dict[str, dict] = {}
    if known:
        for status, kind in known.answers.items():
            described = kind.__doc__ if isinstance(kind, type) else None
            responses[str(status)] = {"description": (described or "OK").strip().splitlines()[0],
                                      "content": _json(schemas[kind])}
        for status, media in known.media.items():
            responses[str(status)] = {"description": "OK" if status < 300 else "See the summary"}
            if media:
                responses[str(status)]["content"] = {kind: {} for kind in media.split()}
        responses.update(_error_answers(known.errors, error_ref))
    operation["responses"] = responses or {"200": {"description": "OK"}}
    return operation


def document(app) -> dict:
    """The OpenAPI document of `app`'s public routes."""
    schemas, components = _schemas()
    error_ref = schemas[answers.ErrorBody]
    # This server's sites: another id is answered 404 unknown_site.
    site_ids = sorted(app.state.sites)
    for request_body in (ConsentRequest, WithdrawalRequest):
        components[request_body.__name__]["properties"]["site"]["enum"] = site_ids
    paths: dict[str, dict] = {}
    for route in app.routes:
        if not isinstance(route, Route) or route.path.startswith(HIDDEN_PREFIXES):
            continue
        for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
            paths.setdefault(_templated(route.path), {})[method.lower()] = _operation(
                route, method, schemas, error_ref, site_ids
            )
    try:
        released = version(DISTRIBUTION)
    except PackageNotFoundError:
        released = "0"
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Gatekeeper",
            "version": released,
            "description": "Consent banner bundles, the consent API and its receipts. Errors are JSON "
            '`{"error": code, "message": …}` with a stable code, and never write a record.',
        },
        "paths": paths,
        "components": {"schemas": components},
    }


async def openapi_json(request: Request) -> Response:
    """This document."""
    state = request.app.state
    if getattr(state, "openapi", None) is None:
        state.openapi = msgspec.json.encode(document(request.app))
    return Response(state.openapi, media_type="application/json")


routes = [Route("/openapi.json", openapi_json, methods=["GET"])]
