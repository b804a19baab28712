"""Serving the bundle: `/gk/<site>.js` revalidates, `/gk/<site>.<digest>.js` is immutable;
either with `?lang=<lang>` holds only that language's banner.

Bodies are precompressed at start-up (bundle.py); here we only pick the coding the client
accepts and answer 304 when its copy is current. An unknown site still gets JavaScript,
a comment saying why, so a shop's page never runs a broken script.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from . import metrics
from .bundle import LAYER_FIT, Asset
from .cookies import clear_consent_cookie, consent_values

JS = "text/javascript; charset=utf-8"
REVALIDATE = "no-cache"
IMMUTABLE = "public, max-age=31536000, immutable"


def negotiate(accept_encoding: str) -> str | None:
    """'br', 'gzip' or None (identity) from an Accept-Encoding header."""
    accepted = {}
    for item in accept_encoding.lower().split(","):
        coding, _, params = item.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        accepted[coding.strip()] = q
    for coding in ("br", "gzip"):
        if accepted.get(coding, accepted.get("*", 0.0)) > 0:
            return coding
    return None


def _not_modified(request: Request, asset: Asset) -> bool:
    # Any coding of the same content is current: the client holds the same bytes decoded.
    tags = {tag.strip().removeprefix("W/") for tag in request.headers.get("if-none-match", "").split(",")}
    return "*" in tags or any(asset.encoded(coding)[1] in tags for coding in ("br", "gzip", None))


def serve(request: Request, asset: Asset, media_type: str, cache_control: str) -> Response:
    coding = negotiate(request.headers.get("accept-encoding", ""))
    body, etag = asset.encoded(coding)
    headers = {"ETag": etag, "Cache-Control": cache_control, "Vary": "Accept-Encoding"}
    if _not_modified(request, asset):
        return Response(status_code=304, headers=headers)
    if coding:
        headers["Content-Encoding"] = coding
    return Response(body, headers=headers, media_type=media_type)


def unknown_site() -> Response:
    # Says which URL is wrong without repeating it: nothing of the request is echoed.
    return Response(
        "/* Gatekeeper: no site of this name here; check the id in the script's src */\n",
        status_code=404,
        media_type=JS,
        headers={"Cache-Control": REVALIDATE},
    )


def _script(request: Request, cache_control: str) -> Response:
    site_id = request.path_params["site"]
    bundle = request.app.state.bundles.get(site_id)
    if bundle is None:
        return unknown_site()
    response = serve(request, bundle.in_language(request.query_params.get("lang")), JS, cache_control)
    metrics.bundle_requests.labels(site_id, "not_modified" if response.status_code == 304 else "full").inc()
    # The bundle verifies the signature itself and ignores a forged cookie; one this request
    # carries (or a second one beside ours) is also cleared here, so it does not linger.
    values = consent_values(request)
    if len(set(values)) > 1 or any(request.app.state.signer.verify(v) is None for v in values):
        clear_consent_cookie(response, request, request.app.state.sites[site_id])
    return response


async def script(request: Request) -> Response:
    return _script(request, REVALIDATE)


async def hashed_script(request: Request) -> Response:
    bundle = request.app.state.bundles.get(request.path_params["site"])
    # An old digest (after a deploy) gets the current bundle, but not for a year.
    current = bundle is not None and request.path_params["digest"] == bundle.in_language(request.query_params.get("lang")).digest
    return _script(request, IMMUTABLE if current else REVALIDATE)


async def later_layer(request: Request) -> Response:
    # The layer the asking bundle was built with, for a year; after a deploy that changed
    # only its wording or services, today's layer, revalidated (an old bundle cached under
    # the hashed URL keeps its settings control and preferences); a layer that would not
    # fit the asking bundle's code or categories, never (404: the banner says so).
    lang, version = request.path_params["lang"], request.path_params["digest"]
    bundle = request.app.state.bundles.get(request.path_params["site"])
    current = bundle.layer_versions.get(lang) if bundle else None
    if current is None or version[:LAYER_FIT] != current[:LAYER_FIT]:
        return Response("Not found", status_code=404, media_type="text/plain")
    return serve(request, bundle.prefs[lang], JS, IMMUTABLE if version == current else REVALIDATE)


routes: list[BaseRoute] = [
    Route("/gk/{site}.{digest}.js", hashed_script, methods=["GET", "HEAD"]),
    Route("/gk/{site}.js", script, methods=["GET", "HEAD"]),
    Route("/gk/{site}/prefs/{lang}.{digest}.js", later_layer, methods=["GET", "HEAD"]),
]
