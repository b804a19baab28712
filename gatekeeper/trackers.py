"""The tracker table: which hosts and cookies belong to which vendor, derived from the
preset catalog (gatekeeper/presets/), so no vendor is written twice.

One place for the browser tests, the audit command, the CSP host lists and anything else
that has to recognise a tracker request or a tracker cookie (docs/rules.md: a "tracker").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .catalog import Host, Preset, catalog

CATEGORIES = ("analytics", "marketing", "social", "personalisation", "functional")


@dataclass(frozen=True, slots=True)
class UrlRule:
    """A host pattern, optionally narrowed to paths (e.g. www.google.<tld>/pagead/)."""

    host: re.Pattern[str]
    path: re.Pattern[str] | None = None

    def matches(self, host: str, path: str) -> bool:
        if not self.host.search(host):
            return False
        return self.path is None or bool(self.path.match(path))


@dataclass(frozen=True, slots=True)
class Vendor:
    id: str
    name: str
    category: str
    urls: tuple[UrlRule, ...]
    cookies: tuple[re.Pattern[str], ...] = field(default=())

    def matches_url(self, url: str) -> bool:
        host, path = _host_and_path(url)
        return any(rule.matches(host, path) for rule in self.urls)

    def matches_cookie(self, name: str) -> bool:
        return any(pattern.fullmatch(name) for pattern in self.cookies)


def host_pattern(host: str) -> re.Pattern[str]:
    """A preset's host as a regex: `*.x.com` is x.com and its subdomains, `www.google.*`
    any top-level domain (one or two labels, google.co.uk too)."""
    prefix, rest = ("(^|\\.)", host[2:]) if host.startswith("*.") else ("^", host)
    tld = rest.endswith(".*")
    body = re.escape(rest[:-2] if tld else rest)
    return re.compile(prefix + body + (r"\.[a-z]{2,3}(\.[a-z]{2})?$" if tld else "$"), re.IGNORECASE)


def _rule(host: Host) -> UrlRule:
    return UrlRule(host_pattern(host.host), re.compile(host.path, re.IGNORECASE) if host.path else None)


def _cookies(*globs: str) -> tuple[re.Pattern[str], ...]:
    """Cookie names as globs: `_ga_*` matches `_ga_ABC123`; everything else is literal."""
    return tuple(re.compile(".*".join(map(re.escape, g.split("*")))) for g in globs)


def vendor_of(preset: Preset) -> Vendor:
    return Vendor(
        id=preset.id,
        name=preset.name,
        category=preset.category,
        urls=tuple(_rule(h) for h in preset.hosts),
        cookies=_cookies(*(c.name for c in preset.cookies), *preset.recognise),
    )


def _specificity(rule: UrlRule) -> int:
    """Narrow rules are tried first: a path on a shared host, then an exact host, then a
    whole domain (meta_pixel's /tr on facebook.com before the SDK's *.facebook.com)."""
    return 0 if rule.path is not None else 1 if rule.host.pattern.startswith("^") else 2


VENDORS: tuple[Vendor, ...] = tuple(vendor_of(p) for p in catalog().values())
BY_ID: dict[str, Vendor] = {vendor.id: vendor for vendor in VENDORS}
_RULES: tuple[tuple[UrlRule, Vendor], ...] = tuple(
    sorted(((rule, v) for v in VENDORS for rule in v.urls), key=lambda pair: _specificity(pair[0]))
)


def _host_and_path(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".").lower()
    path = parts.path or "/"
    return host, f"{path}?{parts.query}" if parts.query else path


def vendor_for_url(url: str) -> Vendor | None:
    """The vendor a request URL belongs to, or None for a non-tracker URL."""
    host, path = _host_and_path(url)
    for rule, vendor in _RULES:
        if rule.matches(host, path):
            return vendor
    return None


def is_tracker_url(url: str) -> bool:
    return vendor_for_url(url) is not None


def vendor_for_cookie(name: str) -> Vendor | None:
    """The vendor that sets a cookie of this name, or None if no known tracker does."""
    for vendor in VENDORS:
        if vendor.matches_cookie(name):
            return vendor
    return None

