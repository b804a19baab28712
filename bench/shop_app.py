"""The shop page `python -m bench shop` serves: a Starlette product page of realistic size,
bare (`page`) or behind gatekeeper.shop's ConsentMiddleware in report mode (`guarded`)."""

import os

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse
from starlette.routing import Route

from gatekeeper.shop import ConsentMiddleware

# About the size of a shop's product page without its images (~12 KB).
BODY = "<p>Cold-pressed, first harvest, from a family grove near Kalamata.</p>\n" * 160


async def product(request: Request) -> HTMLResponse:
    consent = request.scope.get("gatekeeper")
    tag = consent.script_tag() if consent else '<script src="/gk/ecomarket.js" async></script>'
    measured = "<p>measured</p>" if consent is not None and consent.allows("analytics") else ""
    return HTMLResponse(f"<!doctype html><html lang=en><head><title>Olive oil</title>{tag}</head><body>{BODY}{measured}</body></html>")


async def healthz(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


page = Starlette(routes=[Route("/product/{n:int}", product), Route("/healthz", healthz)])
guarded = ConsentMiddleware(
    Starlette(routes=[Route("/product/{n:int}", product), Route("/healthz", healthz)]),
    site="ecomarket", sites_dir=os.environ["GATEKEEPER_SITES_DIR"], keys=os.environ["GATEKEEPER_SECRET_KEYS"],
)
