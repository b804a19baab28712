"""A site's consent-aware Content-Security-Policy, built from its declaration alone.

- The enforced policy allows `'self'`, the page's nonce, Gatekeeper's origin, the hosts
  of every declared service and the shop's own hosts (`[csp]` in the site file): a vendor
  the site file does not declare cannot load, so the declaration is true by construction.
- The same policy narrowed to the categories a visitor granted is sent report-only (or
  enforced, in "enforce" mode): a forgotten hard-coded tag of a category the visitor did
  not grant is reported by the visitor's own browser to Gatekeeper's monitor.

No web framework here: `gatekeeper csp`, the server and `gatekeeper.shop` all use it.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from .catalog import csp_sources
from .csp_table import DIRECTIVES
from . import loaders
from .sites import Service, Site

# Where a service's tag loads from and sends to; they go into these four directives.
HOST_DIRECTIVES = ("script-src", "connect-src", "img-src", "frame-src")
REPORT_PATH = "/api/v1/csp-report"
NONCE = "{nonce}"  # filled per response; host sources cannot contain braces

def preset_of(service: Service) -> str | None:
    """The catalog preset a service's tag is, if any: a service written with a built-in
    `loader =` instead of `preset =` is that preset's tag."""
    return service.preset or loaders.preset_of(service.loader)


def service_hosts(service: Service) -> tuple[str, ...]:
    """The CSP host sources a service's tag needs, the one place the policy learns them:
    its preset's hosts in the catalog, or for a plain script the origin of its URL."""
    preset = preset_of(service)
    if preset:
        return csp_sources(preset)
    src = loaders.src(service.loader)
    if src:
        parts = urlsplit(src)
        return (f"{parts.scheme}://{parts.netloc}",)
    return ()


def report_uri(site: Site, base: str | None = None) -> str:
    """Where the browsers of `site`'s visitors send violation reports: Gatekeeper's
    /api/v1/csp-report (on the shop's own origin unless `[csp] gatekeeper` says where)."""
    if base:
        return base
    return f"{site.csp.gatekeeper or ''}{REPORT_PATH}"


def _with_query(uri: str, **params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"{uri}{'&' if '?' in uri else '?'}{query}"


class Policy:
    """The policies of one site; header values are cached per set of categories, so a
    request pays for one string format (its nonce)."""

    def __init__(self, site: Site, report_to: str | None = None) -> None:
        self.site = site
        self.optional = site.optional_categories
        self.report_to = report_uri(site, report_to)
        self._templates: dict[tuple[frozenset[str], bool | None], str] = {}

    def sources(self, directive: str, categories: Iterable[str]) -> list[str]:
        """The host sources `directive` allows when `categories` are granted."""
        wanted = {"necessary", *categories}
        sources = list(self.site.csp.sources(directive))
        if directive in ("script-src", "connect-src") and self.site.csp.gatekeeper:
            sources.insert(0, self.site.csp.gatekeeper)
        if directive in HOST_DIRECTIVES:
            for service in self.site.services:
                # As the gate releases it: any one of its categories (a container's several).
                if any(c in wanted for c in service.loads_with):
                    sources.extend(service_hosts(service))
        return list(dict.fromkeys(sources))

    def template(self, categories: Iterable[str], decided: bool | None = None) -> str:
        """The policy for `categories` with NONCE left to fill; `decided` (None: not known,
        as for a static server's policy) goes into the report URI's query."""
        key = (frozenset(categories), decided)
        cached = self._templates.get(key)
        if cached is None:
            cached = self._templates[key] = self._build(*key)
        return cached

    def _build(self, categories: frozenset[str], decided: bool | None) -> str:
        parts = []
        for directive in DIRECTIVES:
            if directive not in HOST_DIRECTIVES and not self.site.csp.sources(directive):
                continue  # style-src, font-src: only where the shop names its own hosts
            nonce = [f"'nonce-{NONCE}'"] if directive in ("script-src", "style-src") else []
            parts.append(" ".join([directive, "'self'", *nonce, *self.sources(directive, categories)]))
        parts += ["object-src 'none'", "base-uri 'self'"]
        # report-uri, not report-to: every browser sends it at once, while a report-to
        # (which Chromium then prefers) queues reports in the Reporting API, and headless
        # Chromium delivered none of them within 90 s here. The monitor reads both formats.
        parts.append(f"report-uri {self.report_uri(decided)}")
        return "; ".join(parts)

    def report_uri(self, decided: bool | None = None) -> str:
        """The report URI naming the site and whether the visitor had decided."""
        params = {"site": self.site.id} if decided is None else {"site": self.site.id, "decided": str(int(decided))}
        return _with_query(self.report_to, **params)

    def header(self, categories: Iterable[str], nonce: str, decided: bool | None = None) -> str:
        return self.template(categories, decided).replace(NONCE, nonce)

    def declared(self, nonce: str, decided: bool | None = None) -> str:
        """The enforced policy: the hosts of every declared category."""
        return self.header(self.optional, nonce, decided)
