"""Which host names this server answers for (GATEKEEPER_ALLOWED_HOSTS), and so which
origins are its own: a request's Host header is never trusted for that, since DNS
rebinding makes any name point here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

from .settings import Settings
from .sites import Site

LOCAL = ("localhost", "127.0.0.1")


def allowed_hosts(settings: Settings, sites: Mapping[str, Site]) -> list[str]:
    """The configured host patterns, or by default the local names and the sites' own."""
    configured = [h.strip().lower() for h in settings.allowed_hosts.split(",") if h.strip()]
    if configured:
        return configured
    hosts = list(LOCAL)
    for site in sites.values():
        if site.cookie_domain:
            hosts += [site.cookie_domain, f"*.{site.cookie_domain}"]
        hosts += [urlsplit(origin).hostname or "" for origin in site.origins]
    return list(dict.fromkeys(h for h in hosts if h))


def host_matches(host: str, patterns: Iterable[str]) -> bool:
    """`host` named by one of `patterns` ("*.example.com" covers its subdomains only)."""
    host = host.lower().rstrip(".")
    return any(
        host == p or (p.startswith("*.") and host.endswith(p[1:])) for p in patterns if p != "*"
    )


def is_own_origin(origin: str | None, patterns: Iterable[str], scheme: str) -> bool:
    """An origin with this request's scheme (as a trusted proxy reports it) on a host this
    server is configured to answer for (a bare `*` names none: then only the sites' own
    origins may act)."""
    if not origin:
        return False
    parts = urlsplit(origin)
    return parts.scheme == scheme and host_matches(parts.hostname or "", patterns)
