"""A FastAPI shop behind Gatekeeper (README, "On your own server"; e2e/test_shop.py runs it).
Its page is templates/product.html, which the Flask and Starlette shops render too.

GATEKEEPER_SECRET_KEYS and GATEKEEPER_SITES_DIR are the server's own settings; SHOP_CSP
picks the CSP mode ("report", "enforce" or "off").
"""

import os
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from gatekeeper.shop.fastapi import ConsentMiddleware, RequestConsent

app = FastAPI()
app.add_middleware(
    ConsentMiddleware,
    site="ecomarket",
    sites_dir=os.environ.get("GATEKEEPER_SITES_DIR", "sites"),
    keys=os.environ["GATEKEEPER_SECRET_KEYS"],
    csp=os.environ.get("SHOP_CSP", "report"),
)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


@app.get("/product/{n}", response_class=HTMLResponse)
async def product(request: Request, n: int, consent: RequestConsent):
    response = templates.TemplateResponse(request, "product.html", {"gatekeeper": consent})
    if consent.allows("analytics"):
        # Server-side measurement: an HttpOnly id the bundle cannot delete, declared in the
        # site file under analytics, so gatekeeper.shop expires it once analytics is refused.
        response.set_cookie("FPID", f"FPID2.2.{n}", max_age=395 * 86400, httponly=True, samesite="lax")
    return response


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host=os.environ.get("SHOP_HOST", "127.0.0.1"), port=int(os.environ.get("SHOP_PORT", "8003")))
