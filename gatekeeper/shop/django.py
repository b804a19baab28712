"""Django: `ConsentMiddleware` for MIDDLEWARE and the `consent` context processor.

    GATEKEEPER = {"site": "ecomarket", "sites_dir": BASE_DIR / "sites",
                  "keys": os.environ["GATEKEEPER_SECRET_KEYS"], "csp": "report"}
    MIDDLEWARE = ["gatekeeper.shop.django.ConsentMiddleware", ...]
    TEMPLATES[0]["OPTIONS"]["context_processors"] += ["gatekeeper.shop.django.consent"]

Views read `request.gatekeeper` (a gatekeeper.shop.Consent); templates
`{% if gatekeeper.allowed.analytics %}`, `{{ gatekeeper.csp_nonce }}` and `{{ gatekeeper.script_tag }}`.
"""

from __future__ import annotations

from http.cookies import Morsel

from django.conf import settings
from django.core.exceptions import DisallowedHost

from .consent import Consent, Guard

EPOCH = "Thu, 01 Jan 1970 00:00:00 GMT"


def _expire(response, name: str, domain: str | None, secure: bool) -> None:
    # Django keeps one cookie per name, but one name is expired once per domain (host-only,
    # the shop's domain, its parent): each expiry is its own Morsel under its own key.
    morsel = Morsel()
    morsel.set(name, '""', '""')
    morsel.update({"max-age": 0, "expires": EPOCH, "path": "/", "samesite": "Lax", "secure": secure})
    if domain:
        morsel["domain"] = domain
    response.cookies[f"{name} {domain or ''}"] = morsel


class ConsentMiddleware:
    sync_capable = True
    async_capable = False  # Django adapts it under ASGI

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        options = dict(settings.GATEKEEPER)
        options["sites_dir"] = str(options["sites_dir"])
        self.guard = Guard(**options)

    def __call__(self, request):
        consent = self.guard.consent(request.META.get("HTTP_COOKIE", ""), request.META.get("HTTP_SEC_GPC"))
        request.gatekeeper = consent
        response = self.get_response(request)
        if response.get("Content-Type", "").startswith("text/html"):
            for name, value in self.guard.page_headers(consent):
                # A page's own policy stays: two policies in one header are both enforced.
                response.headers[name] = f"{response.headers[name]}, {value}" if name in response.headers else value
        try:
            host = request.get_host()
        except DisallowedHost:
            host = ""
        for name, domain in self.guard.expired(consent, host):
            _expire(response, name, domain, request.is_secure())
        return response


def consent(request) -> dict[str, Consent | None]:
    """Context processor: `gatekeeper` in every template rendered with a request. Its
    `script_tag` loads the bundle of the page's language when LocaleMiddleware chose one
    for this request. Without it Django's active language is only the LANGUAGE_CODE
    setting ("en-us" by default), which need not be the page's: the tag then loads every
    language's banner, which follows the page's `<html lang>`."""
    found = getattr(request, "gatekeeper", None)
    if found is not None and found.language is None:
        found.language = getattr(request, "LANGUAGE_CODE", None)
    return {"gatekeeper": found}
