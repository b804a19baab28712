"""`WSGIConsentMiddleware` for WSGI apps (Flask, Django's WSGI handler): the request's
Consent in `environ["gatekeeper"]`; on the response the CSP, the preload of the granted
tags and the expired cookies.
"""

from __future__ import annotations

from .consent import Middleware


class WSGIConsentMiddleware(Middleware):
    def __call__(self, environ, start_response):
        consent = self.guard.consent(environ.get("HTTP_COOKIE", ""), environ.get("HTTP_SEC_GPC"))
        environ["gatekeeper"] = consent
        host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
        secure = environ.get("wsgi.url_scheme") == "https"

        def start_with_headers(status, headers, exc_info=None):
            content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
            added = self.guard.headers(consent, host, secure, content_type.startswith("text/html"))
            return start_response(status, [*headers, *added], exc_info)

        return self.app(environ, start_with_headers)
