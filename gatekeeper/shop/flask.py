"""Flask: the `Gatekeeper` extension wraps the app in WSGIConsentMiddleware and puts the
request's Consent in every template as `gatekeeper`.

    app.config["GATEKEEPER"] = {"site": "ecomarket", "sites_dir": "sites",
                                "keys": os.environ["GATEKEEPER_SECRET_KEYS"], "csp": "report"}
    Gatekeeper(app)

Views call `consent()` (or read `request.environ["gatekeeper"]`); templates
`{% if gatekeeper.allows("analytics") %}`, `{{ gatekeeper.csp_nonce }}`, `{{ gatekeeper.script_tag() }}`.
"""

from __future__ import annotations

from flask import Flask, request

from .consent import Consent
from .wsgi import WSGIConsentMiddleware


def consent() -> Consent:
    """The current request's verified consent."""
    return request.environ["gatekeeper"]


class Gatekeeper:
    def __init__(self, app: Flask | None = None, **options) -> None:
        self.options = options
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask, **options) -> None:
        """Options as the middleware takes them, over `app.config["GATEKEEPER"]`."""
        options = {**app.config.get("GATEKEEPER", {}), **self.options, **options}
        options["sites_dir"] = str(options["sites_dir"])
        app.wsgi_app = WSGIConsentMiddleware(app.wsgi_app, **options)
        app.extensions["gatekeeper"] = self
        app.context_processor(lambda: {"gatekeeper": request.environ.get("gatekeeper")})
