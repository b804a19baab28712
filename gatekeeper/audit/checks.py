"""The checks themselves: given what a visit observed and what was chosen, which rules
broke. Pure functions, shared by the audit scenarios and the pytest plugin's assertions.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..trackers import BY_ID, vendor_for_cookie, vendor_for_url
from .declared import Declaration, DeclaredCookie
from .findings import Finding
from .network import Seen
from .storage import CONSENT_COOKIE, ESSENTIAL_COOKIES, ObservedCookie

LIFETIME_SLACK_DAYS = 1  # clocks and rounding; a week's excess is still a finding


def _where(page: str, scenario: str) -> dict:
    return {"page": page, "scenario": scenario}


def _choice(granted: tuple[str, ...] | None) -> str:
    """How a finding names the choice: None is accept-all, () a refusal."""
    return "everything" if granted is None else ", ".join(granted) or "nothing"


def trackers_before_choice(requests: Iterable[Seen], elements: Iterable[str], *, page: str, scenario: str) -> list[Finding]:
    """Rule 1: zero requests to tracker hosts and no tracker elements before a choice."""
    found = [
        Finding(1, seen.vendor.name, seen.url, message="request to a tracker before any choice", vendor_id=seen.vendor.id,
                when=seen.when(), **_where(page, scenario))
        for seen in requests if seen.vendor is not None
    ]
    for url in elements:
        vendor = vendor_for_url(url)
        found.append(Finding(1, vendor.name, url, message="tracker element in the page before any choice",
                             vendor_id=vendor.id, **_where(page, scenario)))
    return found


def no_banner(found: Iterable[Finding], missing: str, *, page: str, scenario: str) -> list[Finding]:
    """Rules 1 and 4: trackers loading or storing before a choice on a page that offers none.
    (A page without trackers needs no banner: no finding.)"""
    leaks = sorted({f.vendor for f in found if f.rule in (1, 2)})
    if not leaks:
        return []
    return [Finding(4, "consent banner", page, message=f"no way to refuse: {', '.join(leaks)} before any choice, "
                    f"and {missing}", **_where(page, scenario))]


GOOGLE_TAGS = frozenset({"ga4", "google_ads", "gtm"})


def consent_mode_before_choice(requests: Iterable[Seen], defaults: list[dict], *, page: str, scenario: str) -> list[Finding]:
    """Rule 18: Google's tag loaded before a choice under a Consent Mode default is Google's
    "advanced" mode (pings without consent); basic mode loads nothing until the choice."""
    google = [seen for seen in requests if seen.vendor is not None and seen.vendor.id in GOOGLE_TAGS]
    if not google or not defaults:
        return []
    default = {key: value for entry in defaults for key, value in entry.items()}
    states = ", ".join(f"{key} {value}" for key, value in sorted(default.items()) if key.endswith(("_storage", "_data", "_personalization")))
    return [Finding(18, google[0].vendor.name, google[0].url, message=f"Google's tag loaded before any choice under "
                    f"Consent Mode (default: {states}): advanced mode, not basic", vendor_id=google[0].vendor.id,
                    when=google[0].when(), measured={"consent_default": default, "google_requests": len(google)},
                    **_where(page, scenario))]


def storage_before_choice(
    cookies: Iterable[ObservedCookie], storage: dict[str, list[str]], declaration: Declaration | None,
    *, page: str, scenario: str,
) -> list[Finding]:
    """Rule 2: nothing but essential storage before a choice, not even a consent cookie."""
    found = []
    for cookie in cookies:
        where = f"{cookie.domain}{cookie.path}"
        if cookie.name == CONSENT_COOKIE:
            found.append(Finding(2, "Gatekeeper", page, message=f"consent cookie {cookie.name} set before any choice",
                                 vendor_id="gatekeeper", **_where(page, scenario)))
        elif cookie.vendor is not None:
            found.append(Finding(2, cookie.vendor.name, page, message=f"tracker cookie {cookie.name} ({where}) before any choice",
                                 vendor_id=cookie.vendor.id, **_where(page, scenario)))
        elif declaration is not None and not declaration.essential(cookie.name):
            declared = declaration.cookie(cookie.name)
            kind = f"{declared.category} cookie" if declared else "undeclared cookie"
            found.append(Finding(2, declared.service if declared else cookie.domain, page,
                                 message=f"{kind} {cookie.name} ({where}) before any choice", **_where(page, scenario)))
    for area, keys in storage.items():
        for key in keys:
            vendor = vendor_for_cookie(key)
            if vendor is not None:
                found.append(Finding(2, vendor.name, page, message=f"tracker key {key} in {area} storage before any choice",
                                     vendor_id=vendor.id, **_where(page, scenario)))
    return found


def allowed_vendors(granted: tuple[str, ...] | None, declaration: Declaration | None) -> frozenset[str] | None:
    """Tracker vendor ids a choice allows; None means anything (accept-all on a non-Gatekeeper site)."""
    if declaration is not None:
        return declaration.vendors_for(granted if granted is not None else declaration.optional_categories)
    if granted is None:
        return None
    return frozenset(v.id for v in BY_ID.values() if v.category in granted)


def csp_violations(
    violations: Iterable[dict], granted: tuple[str, ...] | None, declaration: Declaration | None,
    *, page: str, scenario: str, rule: int = 8,
) -> list[Finding]:
    """A tracker tag the page's own Content-Security-Policy blocked or reported while its
    category was not granted: a tag outside the consent tool, even when nothing loaded."""
    allowed = allowed_vendors(granted, declaration)
    found = []
    for violation in violations:
        vendor = vendor_for_url(violation["url"])
        if vendor is None or allowed is None or vendor.id in allowed:
            continue
        verb = "blocked" if violation["disposition"] == "enforce" else "reported"
        found.append(Finding(rule, vendor.name, violation["url"], vendor_id=vendor.id, **_where(page, scenario),
                             message=f"{vendor.category} tag tried to run with {_choice(granted)} granted "
                                     f"({verb} by the page's Content-Security-Policy, {violation['directive']})"))
    return found


def requests_outside_choice(
    requests: Iterable[Seen], granted: tuple[str, ...] | None, declaration: Declaration | None,
    *, page: str, scenario: str, rule: int = 8,
) -> list[Finding]:
    """Rules 8 and 9: every tracker contacted belongs to a granted category."""
    allowed = allowed_vendors(granted, declaration)
    if allowed is None:
        return []
    choice = _choice(granted)
    return [
        Finding(rule, seen.vendor.name, seen.url,
                message=f"{seen.vendor.category} tracker contacted with {choice} granted", vendor_id=seen.vendor.id,
                when=seen.when(), **_where(page, scenario))
        for seen in requests if seen.vendor is not None and seen.vendor.id not in allowed
    ]


def cookies_outside_choice(
    cookies: Iterable[ObservedCookie], granted: tuple[str, ...] | None, declaration: Declaration | None,
    *, page: str, scenario: str, rule: int = 8, rule_13: bool = True,
) -> list[Finding]:
    """Rules 8 and 9: cookies only of granted categories. With `rule_13`, each cookie within
    the choice is also held against the declaration (one finding per cookie at most)."""
    found = []
    choice = _choice(granted)
    categories = set(granted if granted is not None else (declaration.optional_categories if declaration else ()))
    where = dict(url=page, **_where(page, scenario))
    for cookie in cookies:
        if cookie.name in ESSENTIAL_COOKIES:
            continue
        declared = declaration.cookie(cookie.name) if declaration else None
        vendor = cookie.vendor
        if declared is not None and declared.category != "necessary" and declared.category not in categories:
            found.append(Finding(rule, declared.service, message=f"{declared.category} cookie {cookie.name} set with {choice} granted",
                                 vendor_id=vendor.id if vendor else None, **where))
        elif (declared is None and vendor is not None and (granted is not None or declaration is not None)
              and vendor.category not in categories):
            found.append(Finding(rule, vendor.name, message=f"{vendor.category} tracker cookie {cookie.name} set with {choice} granted",
                                 vendor_id=vendor.id, **where))
        elif rule_13 and declaration is not None and (finding := _outside_declaration(cookie, declared, where)):
            found.append(finding)
    return found


def cookies_outside_declaration(
    cookies: Iterable[ObservedCookie], declaration: Declaration, *, page: str, scenario: str,
) -> list[Finding]:
    """Rule 13: every cookie but the essential ones declared, none outliving its declaration."""
    where = dict(url=page, **_where(page, scenario))
    found = (_outside_declaration(c, declaration.cookie(c.name), where) for c in cookies if c.name not in ESSENTIAL_COOKIES)
    return [finding for finding in found if finding is not None]


def _outside_declaration(cookie: ObservedCookie, declared: DeclaredCookie | None, where: dict) -> Finding | None:
    vendor = cookie.vendor
    if declared is None:
        return Finding(13, vendor.name if vendor else cookie.domain,
                       message=f"cookie {cookie.name} ({cookie.domain}{cookie.path}) is not in the declaration",
                       vendor_id=vendor.id if vendor else None, **where)
    if cookie.lifetime_days is not None and cookie.lifetime_days > declared.lifetime_days + LIFETIME_SLACK_DAYS:
        return Finding(13, declared.service, message=f"cookie {cookie.name} lives {cookie.lifetime_days:.0f} days, "
                       f"declared {declared.lifetime_days}", vendor_id=vendor.id if vendor else None, **where)
    return None
