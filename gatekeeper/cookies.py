"""Every flag of the `gk_consent` cookie in one place: set, clear, expire trackers'.

The cookie is not HttpOnly on purpose: the bundle reads the decision from it without a
round trip. Its signature, not its secrecy, is what protects it.

The header values are built from plain strings, so `gatekeeper.shop` (no Starlette)
expires cookies with the same flags as the server; Starlette types are annotations only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from .hosts import request_hostname, request_scheme
from .sites import Site, pattern_regex

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

# The consent cookie's name, for the server, the bundle (bundle.py hands it to gate.js),
# the declaration page, the audit and the browser tests alike.
COOKIE_NAME = "gk_consent"

# What a shop may store before any choice (docs/rules.md, rule 2): its session, the cart,
# the language. Not even the consent cookie: there is none until a choice. The audit and
# the browser tests both hold shops to this one list.
ESSENTIAL_COOKIES = frozenset({"session", "sessionid", "cart", "lang", "language"})
ESSENTIAL_STORAGE_KEYS = frozenset({"cart", "lang", "language"})


def domain_within(host: str, site: Site) -> str | None:
    """The site's cookie domain, only when `host` lies within it.

    A browser drops a cookie whose Domain does not cover the host, so on a demo or
    staging host the cookie stays host-only instead of silently vanishing.
    """
    domain = site.cookie_domain
    host = host.lower()
    if domain and (host == domain or host.endswith("." + domain)):
        return domain
    return None


def cookie_domain(scope, site: Site) -> str | None:
    """The Domain for a cookie of `site` set in answer to the request of this ASGI `scope`."""
    return domain_within(request_hostname(scope), site)


def _secure(scope) -> bool:
    return request_scheme(scope) == "https"


# RFC 6265 cookie-name characters; a name the browser sent outside them is left alone.
_TOKEN = re.compile(r"^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$")


def set_cookie_header(name: str, value: str, max_age: int, domain: str | None, secure: bool) -> str:
    # Written directly: the stdlib's cookie formatter is slow on the hot path and raises on
    # names it dislikes; our values are base64url and dots, safe without quoting.
    parts = [f"{name}={value}", f"Max-Age={max_age}", "Path=/"]
    if max_age == 0:
        parts.append("expires=Thu, 01 Jan 1970 00:00:00 GMT")
    if domain:
        parts.append(f"Domain={domain}")
    if secure:
        parts.append("Secure")
    parts.append("SameSite=Lax")
    return "; ".join(parts)


def _set_cookie(response: Response, request: Request, name: str, value: str, max_age: int, domain: str | None) -> None:
    response.headers.append("set-cookie", set_cookie_header(name, value, max_age, domain, _secure(request.scope)))


def consent_set_cookie(scope, site: Site, token: str, max_age: int) -> str:
    """The Set-Cookie value that stores `token` as the consent cookie, for the request of
    this ASGI `scope` (the consent POST answers without a Starlette Response)."""
    return set_cookie_header(COOKIE_NAME, token, max_age, cookie_domain(scope, site), _secure(scope))


def header_cookies(header: str) -> tuple[list[str], list[str]]:
    """(every cookie name, every `gk_consent` value) of a Cookie header, leniently: a pair
    without `=` is skipped. More than one value when a cookie was planted beside ours
    (another path, the parent domain); Starlette's `request.cookies` keeps only one."""
    names, values = [], []
    for chunk in header.split(";"):
        name, sep, value = chunk.partition("=")
        name = name.strip()
        if sep and name:
            names.append(name)
            if name == COOKIE_NAME:
                values.append(value.strip())
    return names, values


def one_value(values: list[str]) -> str | None:
    """The one `gk_consent` value, or None when there is none or two disagree (undecided)."""
    distinct = set(values)
    return distinct.pop() if len(distinct) == 1 else None


def consent_values(request: Request) -> list[str]:
    return header_cookies(request.headers.get("cookie", ""))[1]


def consent_cookie(request: Request) -> str | None:
    return consent_cookie_in(request.headers.get("cookie", ""))


def consent_cookie_in(header: str) -> str | None:
    """The one `gk_consent` value of a Cookie header, or None (see one_value)."""
    return one_value(header_cookies(header)[1])


def clear_consent_cookie(response: Response, request: Request, site: Site) -> None:
    """Expire ours on every scope this server or the bundle sets it: host-only and, on a
    host within it, the site's cookie domain (both at Path=/)."""
    expire_cookie(response, request, COOKIE_NAME)
    if (domain := cookie_domain(request.scope, site)) is not None:
        expire_cookie(response, request, COOKIE_NAME, domain)


def expire_cookie(response: Response, request: Request, name: str, domain: str | None = None) -> None:
    if _TOKEN.match(name):
        _set_cookie(response, request, name, '""', 0, domain)


# First-party cookies the vendors' own snippets set, deleted on withdrawal even when a
# shop's own tag (not a configured service) brought them.
WELL_KNOWN_COOKIES = {"analytics": ("_ga", "_ga_*"), "marketing": ("_gcl_*", "_fbp", "_fbc")}


def withdrawal_patterns(site: Site, category: str) -> list[str]:
    """Names and `*` patterns of the first-party cookies deleted when `category` is refused:
    the bundle deletes them in the browser, the DELETE endpoint expires those it is sent."""
    declared = [k.name for s in site.services_in(category) for k in s.cookies if k.first_party]
    return list(dict.fromkeys(declared + list(WELL_KNOWN_COOKIES.get(category, ()))))


def withdrawal_matcher(site: Site, categories: Iterable[str]) -> re.Pattern[str]:
    """One expression matching every cookie name that refusing `categories` deletes."""
    patterns = [p for c in categories for p in withdrawal_patterns(site, c)]
    return re.compile("|".join(pattern_regex(p) for p in patterns) or "(?!)")


def withdrawn_names(
    names: Iterable[str], site: Site, categories: Iterable[str], matcher: re.Pattern[str] | None = None
) -> list[str]:
    """The cookie names among `names` (those a browser sent) that refusing `categories`
    deletes. Patterns like `_ga_*` can only be matched against names actually sent.
    `matcher`: the categories' withdrawal_matcher, when the caller keeps it."""
    matcher = matcher or withdrawal_matcher(site, categories)
    return [n for n in names if n != COOKIE_NAME and _TOKEN.match(n) and matcher.fullmatch(n)]


def expire_withdrawn_cookies(response: Response, request: Request, site: Site, categories) -> list[str]:
    """Expire the cookies this browser sent that withdrawing `categories` deletes.
    Returns the names expired."""
    domain = cookie_domain(request.scope, site)
    expired = withdrawn_names(request.cookies, site, categories)
    for name in expired:
        expire_cookie(response, request, name)
        if domain is not None:
            expire_cookie(response, request, name, domain)
    return expired
