"""Every flag of the `gk_consent` cookie in one place: set, clear, expire trackers'.

The cookie is not HttpOnly on purpose: the bundle reads the decision from it without a
round trip. Its signature, not its secrecy, is what protects it.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from .sites import Site

COOKIE_NAME = "gk_consent"


def cookie_domain(request: Request, site: Site) -> str | None:
    """The site's cookie domain, only when this request's host lies within it.

    A browser drops a cookie whose Domain does not cover the host, so on a demo or
    staging host the cookie stays host-only instead of silently vanishing.
    """
    domain = site.cookie_domain
    host = (request.url.hostname or "").lower()
    if domain and (host == domain or host.endswith("." + domain)):
        return domain
    return None


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_consent_cookie(response: Response, request: Request, site: Site, token: str, max_age: int) -> None:
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=max_age,
        path="/",
        domain=cookie_domain(request, site),
        secure=_secure(request),
        httponly=False,
        samesite="lax",
    )


def clear_consent_cookie(response: Response, request: Request, site: Site) -> None:
    expire_cookie(response, request, COOKIE_NAME, cookie_domain(request, site))


def expire_cookie(response: Response, request: Request, name: str, domain: str | None = None) -> None:
    response.delete_cookie(name, path="/", domain=domain, secure=_secure(request), httponly=False, samesite="lax")


def declared_first_party_cookies(site: Site, categories: set[str] | frozenset[str]) -> list:
    return [c for s in site.services if s.category in categories for c in s.cookies if c.first_party]


def expire_declared_cookies(response: Response, request: Request, site: Site, categories: set[str]) -> list[str]:
    """Expire the first-party cookies this browser sent that the withdrawn categories declare.

    Patterns like `_ga_*` can only be matched against names the browser actually sent.
    Returns the names expired.
    """
    declared = declared_first_party_cookies(site, categories)
    expired = []
    for name in request.cookies:
        if name != COOKIE_NAME and any(c.matches(name) for c in declared):
            expire_cookie(response, request, name)
            if (domain := cookie_domain(request, site)) is not None:
                expire_cookie(response, request, name, domain)
            expired.append(name)
    return expired
