"""A Flask shop behind Gatekeeper (README, "On your own server"; e2e/test_shop.py runs it).

GATEKEEPER_SECRET_KEYS and GATEKEEPER_SITES_DIR are the server's own settings; SHOP_CSP
picks the CSP mode ("report", "enforce" or "off").
"""

import os

from flask import Flask, render_template_string

from gatekeeper.shop.flask import Gatekeeper, consent

app = Flask(__name__)
app.config["GATEKEEPER"] = {
    "site": "ecomarket",
    "sites_dir": os.environ.get("GATEKEEPER_SITES_DIR", "sites"),
    "keys": os.environ["GATEKEEPER_SECRET_KEYS"],
    "csp": os.environ.get("SHOP_CSP", "report"),
}
Gatekeeper(app)

PRODUCT = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Organic olive oil</title>
{{ gatekeeper.script_tag() }}
<!-- Forgotten: Google's own snippet, pasted into the template before Gatekeeper came -->
<script async src="https://www.googletagmanager.com/gtag/js?id=G-FORGOTTEN1"></script>
<script>
  window.dataLayer = window.dataLayer || [];
  function gtag(){dataLayer.push(arguments);}
  gtag('js', new Date());
  gtag('config', 'G-FORGOTTEN1');
</script>
<!-- Undeclared: a heatmap the site file does not name -->
<script async src="https://static.hotjar.com/c/hotjar-3141592.js?sv=6"></script>
</head>
<body>
<h1>Organic olive oil</h1>
{% if gatekeeper.allows("analytics") %}<p id="measured">Measured on our server, with your consent.</p>{% endif %}
<script nonce="{{ gatekeeper.csp_nonce }}">document.body.dataset.shop = "ready"</script>
</body>
</html>
"""


@app.get("/product/<int:n>")
def product(n: int):
    response = app.make_response(render_template_string(PRODUCT))
    if consent().allows("analytics"):
        # Server-side measurement: an HttpOnly id the bundle cannot delete, declared in the
        # site file under analytics, so gatekeeper.shop expires it once analytics is refused.
        response.set_cookie("FPID", f"FPID2.2.{n}", max_age=395 * 86400, httponly=True, samesite="Lax")
    return response


if __name__ == "__main__":
    app.run(host=os.environ.get("SHOP_HOST", "127.0.0.1"), port=int(os.environ.get("SHOP_PORT", "5000")))
