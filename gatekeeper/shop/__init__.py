"""Gatekeeper on the shop's own server: verify the visitor's `gk_consent` cookie exactly
as Gatekeeper does, and enforce it with a consent-aware Content-Security-Policy.

Needs only cryptography and msgspec (no Starlette, SQLAlchemy or Playwright):

    from gatekeeper.shop import ConsentMiddleware        # ASGI: Starlette, FastAPI
    from gatekeeper.shop import WSGIConsentMiddleware    # WSGI: Flask, Django
    app = ConsentMiddleware(app, site="ecomarket", sites_dir="sites", keys=os.environ["GATEKEEPER_SECRET_KEYS"])

Each request then carries a Consent (`scope["gatekeeper"]` / `environ["gatekeeper"]`)
with `allows(category)`, `decision`, `gpc` and `csp_nonce`. Django and Flask have their
own integrations in gatekeeper.shop.django and gatekeeper.shop.flask, FastAPI its
dependency in gatekeeper.shop.fastapi.
"""

from .asgi import ConsentMiddleware
from .consent import Consent, Guard
from .wsgi import WSGIConsentMiddleware

__all__ = ["Consent", "ConsentMiddleware", "Guard", "WSGIConsentMiddleware"]
