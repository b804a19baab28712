"""The cookie declaration as data: `GET /gk/<site>/cookies.json`, generated from the Site.

The HTML declaration (/gk/<site>/cookies) is for visitors; this one is for tools such as
`gatekeeper audit`, which compare what a browser observes with what the site declares.
Each service also names the tracker vendors (gatekeeper.trackers) its loader brings, so
a tool can tell whether a request belongs to a granted category.
"""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from . import loaders
from .cookies import COOKIE_NAME
from .sites import Service, Site, known_site

# What /gk/<site>/cookies.json answers, field for field: the served document is checked
# against these structs, and /openapi.json describes it from them. Texts are per language.


class _Struct(msgspec.Struct, forbid_unknown_fields=True):
    pass


class DeclaredCookie(_Struct):
    name: str  # a name, or a prefix ending in `*`
    lifetime_days: int  # 0: ends with the browser session
    first_party: bool
    purpose: dict[str, str]


class DeclaredService(_Struct):
    """A service of the site, or (id `own-cookies`) the shop's own necessary cookies."""

    id: str
    name: str
    category: str
    vendor: str
    location: dict[str, str]
    outside_eu: bool
    privacy_url: str
    purpose: dict[str, str]
    trackers: list[str]  # tracker vendor ids (gatekeeper.trackers) its loader contacts
    cookies: list[DeclaredCookie]


class ConsentCookie(_Struct):
    name: str
    lifetime_days: int
    category: str


class SiteDeclaration(_Struct):
    """A site's cookie declaration, as `gatekeeper audit` reads it."""

    site: str
    name: str
    controller: str
    policy_url: str
    revision: int
    consent_days: int
    languages: list[str]
    categories: list[str]
    consent_cookie: ConsentCookie
    services: list[DeclaredService]


def tracker_vendors(service: Service) -> list[str]:
    """The tracker vendor ids a service's loader contacts (gatekeeper.loaders)."""
    return loaders.tracker_vendors(service.loader, service.preset)


OWN_COOKIES_ID = "own-cookies"


def _cookies(site: Site, cookies) -> list[dict]:
    texts = lambda value: {lang: site.text(value, lang) for lang in site.languages}  # noqa: E731
    return [
        {"name": c.name, "lifetime_days": c.lifetime_days, "first_party": c.first_party, "purpose": texts(c.purpose)}
        for c in cookies
    ]


def own_cookies(site: Site) -> dict:
    """The shop's own necessary cookies, declared like a service of the shop itself, so a
    tool reading the declaration checks them like any vendor's (docs/rules.md#rule-13)."""
    return {
        "id": OWN_COOKIES_ID, "name": site.name, "category": "necessary", "vendor": site.controller,
        "location": {}, "outside_eu": False, "privacy_url": site.policy_url, "purpose": {},
        "trackers": [], "cookies": _cookies(site, site.cookies),
    }


def declaration(site: Site) -> dict:
    texts = lambda value: {lang: site.text(value, lang) for lang in site.languages}  # noqa: E731
    return {
        "site": site.id,
        "name": site.name,
        "controller": site.controller,
        "policy_url": site.policy_url,
        "revision": site.revision,
        "consent_days": site.consent_days,
        "languages": list(site.languages),
        "categories": list(site.category_ids),
        "consent_cookie": {"name": COOKIE_NAME, "lifetime_days": site.consent_days, "category": "necessary"},
        "services": [*([own_cookies(site)] if site.cookies else []), *(
            {
                "id": service.id,
                "name": service.name,
                "category": service.category,
                "vendor": service.vendor,
                "location": texts(service.location),
                "outside_eu": service.outside_eu,
                "privacy_url": service.privacy_url,
                "purpose": texts(service.purpose),
                "trackers": tracker_vendors(service),
                "cookies": _cookies(site, service.cookies),
            }
            for service in site.services
        )],
    }


async def declaration_json(request: Request) -> Response:
    site = known_site(request.app.state.sites, request.path_params["site"])
    body = msgspec.json.encode(msgspec.convert(declaration(site), SiteDeclaration))
    # Public data, read by tools from any origin.
    return Response(body, media_type="application/json",
                    headers={"access-control-allow-origin": "*", "cache-control": "no-cache"})


routes: list[BaseRoute] = [Route("/gk/{site}/cookies.json", declaration_json)]
