"""A Starlette (or FastAPI) shop behind Gatekeeper (README, "On your own server";
e2e/test_shop.py runs it). With FastAPI the middleware line is the same.

GATEKEEPER_SECRET_KEYS and GATEKEEPER_SITES_DIR are the server's own settings; SHOP_CSP
picks the CSP mode ("report", "enforce" or "off").
"""

import os

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from gatekeeper.shop import ConsentMiddleware

PRODUCT = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Organic olive oil</title>
{gatekeeper_tag}
<!-- Forgotten: Google's own snippet, pasted into the template before Gatekeeper came -->
<script async src="https://www.googletagmanager.com/gtag/js?id=G-FORGOTTEN1"></script>
<script>
  window.dataLayer = window.dataLayer || [];
  function gtag(){{dataLayer.push(arguments);}}
  gtag('js', new Date());
  gtag('config', 'G-FORGOTTEN1');
</script>
<!-- Undeclared: a heatmap the site file does not name -->
<script async src="https://static.hotjar.com/c/hotjar-3141592.js?sv=6"></script>
</head>
<body>
<h1>Organic olive oil</h1>
{measured}
<script nonce="{nonce}">document.body.dataset.shop = "ready"</script>
</body>
</html>
"""


async def product(request: Request) -> HTMLResponse:
    consent = request.scope["gatekeeper"]
    measured = '<p id="measured">Measured on our server, with your consent.</p>' if consent.allows("analytics") else ""
    response = HTMLResponse(PRODUCT.format(gatekeeper_tag=consent.script_tag(), measured=measured, nonce=consent.csp_nonce))
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
