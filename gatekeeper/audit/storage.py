"""What a visit left in the browser: every cookie of the context (HttpOnly and
third-party ones too) and the page's local and session storage keys, classified by vendor.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from playwright.sync_api import BrowserContext, Error, Page

from ..cookies import COOKIE_NAME as CONSENT_COOKIE
from ..cookies import ESSENTIAL_COOKIES
from ..trackers import Vendor, vendor_for_cookie


@dataclass(frozen=True)
class ObservedCookie:
    name: str
    domain: str
    path: str
    http_only: bool
    secure: bool
    expires: float  # Unix time; -1 for a session cookie
    vendor: Vendor | None

    @property
    def lifetime_days(self) -> float | None:
        """Days left from now; None for a session cookie."""
        if self.expires is None or self.expires < 0:
            return None
        return round((self.expires - time.time()) / 86400, 1)

    def to_json(self, **extra) -> dict:
        return {
            "name": self.name, "domain": self.domain, "path": self.path, "http_only": self.http_only,
            "secure": self.secure, "expires": self.expires, "lifetime_days": self.lifetime_days,
            "vendor": self.vendor.id if self.vendor else None, "tracker": self.vendor is not None, **extra,
        }


def observe_cookies(context: BrowserContext) -> list[ObservedCookie]:
    return [
        ObservedCookie(
            c["name"], c.get("domain", ""), c.get("path", "/"), bool(c.get("httpOnly")), bool(c.get("secure")),
            c.get("expires", -1), vendor_for_cookie(c["name"]),
        )
        for c in context.cookies()
    ]


def storage_keys(page: Page) -> dict[str, list[str]]:
    """local and session storage keys of the page (empty when the page forbids access)."""
    try:
        return page.evaluate(
            """() => {
                const keys = store => { try { return Object.keys(store) } catch (e) { return [] } };
                return { local: keys(window.localStorage), session: keys(window.sessionStorage) };
            }"""
        )
    except Error:
        return {"local": [], "session": []}
