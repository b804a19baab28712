"""Which host names this server answers for (GATEKEEPER_ALLOWED_HOSTS), and so which
origins are its own: a request's Host header is never trusted for that, since DNS
rebinding makes any name point here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
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
    return _own_origin(origin, tuple(patterns), scheme)


@lru_cache(maxsize=1024)
def _own_origin(origin: str, patterns: tuple[str, ...], scheme: str) -> bool:
    """is_own_origin's verdict, remembered: a server sees a handful of origins, one per request."""
    origin_scheme, host = _split_origin(origin)
    return origin_scheme == scheme and host_matches(host, patterns)


@lru_cache(maxsize=1024)
def _split_origin(origin: str) -> tuple[str, str]:
    """(scheme, host name) of an Origin header: a handful of distinct values, one per request."""
    parts = urlsplit(origin)
    return parts.scheme, parts.hostname or ""


def request_scheme(scope) -> str:
    """The request's scheme as the ASGI scope has it (after a trusted proxy's headers),
    what Starlette's `request.url.scheme` says, without building the URL."""
    return scope.get("scheme", "http")


def request_hostname(scope) -> str:
    """The request's host name (no port), what Starlette's `request.url.hostname` says,
    without building the URL on every request."""
    for name, value in scope["headers"]:
        if name == b"host":
            return _hostname(value.decode("latin-1"))
    server = scope.get("server")
    return _hostname(server[0]) if server else ""


@lru_cache(maxsize=1024)
def _hostname(host: str) -> str:
    return urlsplit(f"//{host}").hostname or ""
