"""A Starlette shop behind Gatekeeper (README, "On your own server"; e2e/test_shop.py runs it).
Its page is templates/product.html, which the Flask and FastAPI shops render too.

GATEKEEPER_SECRET_KEYS and GATEKEEPER_SITES_DIR are the server's own settings; SHOP_CSP
picks the CSP mode ("report", "enforce" or "off").
"""

import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from gatekeeper.shop import ConsentMiddleware

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


async def product(request: Request):
    consent = request.scope["gatekeeper"]
    response = templates.TemplateResponse(request, "product.html", {"gatekeeper": consent})
    if consent.allows("analytics"):
        # Server-side measurement: an HttpOnly id the bundle cannot delete, declared in the
        # site file under analytics, so gatekeeper.shop expires it once analytics is refused.
        n = request.path_params["n"]
        response.set_cookie("FPID", f"FPID2.2.{n}", max_age=395 * 86400, httponly=True, samesite="lax")
    return response


app = Starlette(routes=[Route("/product/{n:int}", product)])
app.add_middleware(
    ConsentMiddleware,
    site="ecomarket",
    sites_dir=os.environ.get("GATEKEEPER_SITES_DIR", "sites"),
    keys=os.environ["GATEKEEPER_SECRET_KEYS"],
    csp=os.environ.get("SHOP_CSP", "report"),
)

if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host=os.environ.get("SHOP_HOST", "127.0.0.1"), port=int(os.environ.get("SHOP_PORT", "8001")))
