"""A Django shop behind Gatekeeper, in one file (README, "On your own server";
e2e/test_shop.py runs it). In a project, the GATEKEEPER, MIDDLEWARE and TEMPLATES lines
go into settings.py.

GATEKEEPER_SECRET_KEYS and GATEKEEPER_SITES_DIR are the server's own settings; SHOP_CSP
picks the CSP mode ("report", "enforce" or "off").
"""

import os
import sys

from django.conf import settings
from django.core.management import execute_from_command_line
from django.shortcuts import render
from django.urls import path

settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    GATEKEEPER={
        "site": "ecomarket",
        "sites_dir": os.environ.get("GATEKEEPER_SITES_DIR", "sites"),
        "keys": os.environ["GATEKEEPER_SECRET_KEYS"],
        "csp": os.environ.get("SHOP_CSP", "report"),
    },
    MIDDLEWARE=["gatekeeper.shop.django.ConsentMiddleware"],
    TEMPLATES=[{
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "OPTIONS": {
            "context_processors": ["gatekeeper.shop.django.consent"],
            "loaders": [("django.template.loaders.locmem.Loader", {"product.html": """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Organic olive oil</title>
{{ gatekeeper.script_tag }}
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
{% if gatekeeper.allowed.analytics %}<p id="measured">Measured on our server, with your consent.</p>{% endif %}
<script nonce="{{ gatekeeper.csp_nonce }}">document.body.dataset.shop = "ready"</script>
</body>
</html>
"""})],
        },
    }],
)


def product(request, n: int):
    response = render(request, "product.html")
    if request.gatekeeper.allows("analytics"):
        # Server-side measurement: an HttpOnly id the bundle cannot delete, declared in the
        # site file under analytics, so gatekeeper.shop expires it once analytics is refused.
        response.set_cookie("FPID", f"FPID2.2.{n}", max_age=395 * 86400, httponly=True, samesite="Lax")
    return response


urlpatterns = [path("product/<int:n>", product)]

if __name__ == "__main__":
    address = f"{os.environ.get('SHOP_HOST', '127.0.0.1')}:{os.environ.get('SHOP_PORT', '8002')}"
    execute_from_command_line([sys.argv[0], "runserver", address, "--noreload", "--skip-checks"])
