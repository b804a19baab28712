"""A Flask shop behind Gatekeeper (README, "On your own server"; e2e/test_shop.py runs it).
Its page is templates/product.html, which the Starlette and FastAPI shops render too.

GATEKEEPER_SECRET_KEYS and GATEKEEPER_SITES_DIR are the server's own settings; SHOP_CSP
picks the CSP mode ("report", "enforce" or "off").
"""

import os

from flask import Flask, render_template

from gatekeeper.shop.flask import Gatekeeper, consent

app = Flask(__name__)
app.config["GATEKEEPER"] = {
    "site": "ecomarket",
    "sites_dir": os.environ.get("GATEKEEPER_SITES_DIR", "sites"),
    "keys": os.environ["GATEKEEPER_SECRET_KEYS"],
    "csp": os.environ.get("SHOP_CSP", "report"),
}
Gatekeeper(app)  # templates get `gatekeeper`, the request's Consent


@app.get("/product/<int:n>")
def product(n: int):
    response = app.make_response(render_template("product.html"))
    if consent().allows("analytics"):
        # Server-side measurement: an HttpOnly id the bundle cannot delete, declared in the
        # site file under analytics, so gatekeeper.shop expires it once analytics is refused.
        response.set_cookie("FPID", f"FPID2.2.{n}", max_age=395 * 86400, httponly=True, samesite="Lax")
    return response


if __name__ == "__main__":
    app.run(host=os.environ.get("SHOP_HOST", "127.0.0.1"), port=int(os.environ.get("SHOP_PORT", "5000")))
