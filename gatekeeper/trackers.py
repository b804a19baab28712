"""The tracker table: which hosts and cookies belong to which vendor.

One place for the browser tests, the audit command and anything else that has to
recognise a tracker request or a tracker cookie (COMPLIANCE.md, "Tracker hosts").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

CATEGORIES = ("analytics", "marketing", "social", "personalisation")

# googletagmanager.com/gtag/js serves GA4 and Google Ads alike; the id prefix says which.
_GTAG_ID_PREFIXES = {"G-": "ga4", "UA-": "ga4", "AW-": "google_ads", "DC-": "google_ads"}


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


def _hosts(*patterns: str, path: str | None = None) -> tuple[UrlRule, ...]:
    compiled_path = re.compile(path) if path else None
    return tuple(UrlRule(re.compile(p, re.IGNORECASE), compiled_path) for p in patterns)


def _cookies(*globs: str) -> tuple[re.Pattern[str], ...]:
    """Cookie names as globs: `_ga_*` matches `_ga_ABC123`; everything else is literal."""
    return tuple(re.compile(".*".join(map(re.escape, g.split("*")))) for g in globs)


# Order matters: the first vendor whose rules match wins, so narrow rules (a path on a
# shared host) come before the broad host rule they carve out of.
VENDORS: tuple[Vendor, ...] = (
    Vendor(
        id="ga4",
        name="Google Analytics 4",
        category="analytics",
        urls=_hosts(
            r"(^|\.)google-analytics\.com$",
            r"(^|\.)analytics\.google\.com$",
            r"^stats\.g\.doubleclick\.net$",
        ),
        cookies=_cookies("_ga", "_ga_*", "_gid", "_gat", "_gat_*", "__utm*"),
    ),
    Vendor(
        id="google_ads",
        name="Google Ads / DoubleClick",
        category="marketing",
        urls=(
            *_hosts(
                r"(^|\.)(googleadservices|doubleclick|googlesyndication)\.(com|net)$",
                r"(^|\.)adservice\.google\.[a-z.]+$",
            ),
            *_hosts(r"^(www\.)?google\.[a-z]{2,3}(\.[a-z]{2})?$", path=r"/(pagead|ads)/"),
        ),
        cookies=_cookies("_gcl_*", "IDE", "DSID", "test_cookie", "__gads", "__gpi", "__gsas"),
    ),
    Vendor(
        id="gtm",
        name="Google Tag Manager",
        category="analytics",
        urls=_hosts(r"(^|\.)googletagmanager\.(com|net)$"),
    ),
    Vendor(
        id="meta_pixel",
        name="Meta pixel",
        category="marketing",
        urls=(
            *_hosts(r"^connect\.facebook\.net$", path=r"/[^/]+/fbevents\.js"),
            *_hosts(r"^connect\.facebook\.net$", path=r"/signals/"),
            *_hosts(r"(^|\.)facebook\.com$", path=r"/tr/?($|\?)"),
        ),
        cookies=_cookies("_fbp", "_fbc"),
    ),
    Vendor(
        id="facebook",
        name="Facebook (Meta) SDK",
        category="social",
        urls=_hosts(r"(^|\.)facebook\.(com|net)$", r"(^|\.)fbcdn\.net$", r"(^|\.)fb\.com$"),
        cookies=_cookies("fblo_*", "fbsr_*", "fbm_*", "fr", "datr", "sb", "c_user", "xs"),
    ),
    Vendor(
        id="microsoft_ads",
        name="Microsoft Advertising (Bing)",
        category="marketing",
        urls=_hosts(r"(^|\.)bing\.com$", r"(^|\.)bat\.bing\.net$"),
        cookies=_cookies("_uetsid", "_uetvid", "_uetmsclkid", "MUID", "MR", "SRM_B"),
    ),
    Vendor(
        id="microsoft_clarity",
        name="Microsoft Clarity",
        category="analytics",
        urls=_hosts(r"(^|\.)clarity\.ms$"),
        cookies=_cookies("_clck", "_clsk", "CLID", "ANONCHK", "SM"),
    ),
    Vendor(
        id="tiktok",
        name="TikTok pixel",
        category="marketing",
        urls=_hosts(r"(^|\.)tiktok\.com$", r"(^|\.)tiktokcdn\.com$", r"(^|\.)tiktokw\.us$"),
        cookies=_cookies("_ttp", "_tt_enable_cookie", "ttcsid", "ttcsid_*", "tt_appInfo", "tt_sessionId"),
    ),
    Vendor(
        id="linkedin",
        name="LinkedIn Insight",
        category="marketing",
        urls=_hosts(r"(^|\.)linkedin\.com$", r"(^|\.)licdn\.com$"),
        cookies=_cookies(
            "li_sugr", "li_fat_id", "bcookie", "bscookie", "lidc", "UserMatchHistory",
            "AnalyticsSyncHistory", "ln_or",
        ),
    ),
    Vendor(
        id="hotjar",
        name="Hotjar",
        category="analytics",
        urls=_hosts(r"(^|\.)hotjar\.(com|io)$", r"(^|\.)hotjar-analytics\.com$"),
        cookies=_cookies("_hj*"),
    ),
    Vendor(
        id="pinterest",
        name="Pinterest tag",
        category="marketing",
        urls=_hosts(r"(^|\.)pinterest\.[a-z.]+$", r"(^|\.)pinimg\.com$"),
        cookies=_cookies("_pin_unauth", "_pinterest_*", "_epik", "_derived_epik", "_pinterest_ct_*"),
    ),
    Vendor(
        id="nosto",
        name="Nosto",
        category="personalisation",
        urls=_hosts(r"(^|\.)nosto\.com$"),
        cookies=_cookies("2c.cId", "2c.*", "nostojs"),
    ),
)

BY_ID: dict[str, Vendor] = {vendor.id: vendor for vendor in VENDORS}


def _host_and_path(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".").lower()
    path = parts.path or "/"
    return host, f"{path}?{parts.query}" if parts.query else path


def _gtag_vendor(url: str) -> Vendor | None:
    parts = urlsplit(url)
    if not parts.path.rstrip("/").endswith("/gtag/js"):
        return None
    for tag_id in parse_qs(parts.query).get("id", []):
        for prefix, vendor_id in _GTAG_ID_PREFIXES.items():
            if tag_id.upper().startswith(prefix):
                return BY_ID[vendor_id]
    return None


def vendor_for_url(url: str) -> Vendor | None:
    """The vendor a request URL belongs to, or None for a non-tracker URL."""
    for vendor in VENDORS:
        if vendor.matches_url(url):
            if vendor.id == "gtm":
                return _gtag_vendor(url) or vendor
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


def is_tracker_cookie(name: str) -> bool:
    return vendor_for_cookie(name) is not None
