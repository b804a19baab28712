"""A Gatekeeper site's declaration as the audit reads it (GET /gk/<site>/cookies.json):
which tracker vendors and which cookies each category may bring, and for how long.
"""

from __future__ import annotations

from dataclasses import dataclass

from playwright.sync_api import BrowserContext, Error

from .storage import CONSENT_COOKIE, ESSENTIAL_COOKIES


def _matches(pattern: str, name: str) -> bool:
    return name.startswith(pattern[:-1]) if pattern.endswith("*") else name == pattern


@dataclass(frozen=True)
class DeclaredCookie:
    name: str
    lifetime_days: int
    category: str
    service: str


@dataclass(frozen=True)
class Declaration:
    site: str
    url: str
    categories: tuple[str, ...]
    consent_days: int
    trackers: dict[str, frozenset[str]]  # category -> tracker vendor ids its services bring
    cookies: tuple[DeclaredCookie, ...]

    @classmethod
    def from_json(cls, data: dict, url: str) -> Declaration:
        trackers: dict[str, set[str]] = {c: set() for c in data["categories"]}
        cookies = []
        for service in data["services"]:
            trackers.setdefault(service["category"], set()).update(service.get("trackers", ()))
            for cookie in service.get("cookies", ()):
                cookies.append(DeclaredCookie(cookie["name"], cookie["lifetime_days"], service["category"], service["name"]))
        consent = data.get("consent_cookie") or {"name": CONSENT_COOKIE, "lifetime_days": data.get("consent_days", 182)}
        cookies.append(DeclaredCookie(consent["name"], consent["lifetime_days"], "necessary", "Gatekeeper"))
        return cls(
            site=data["site"], url=url, categories=tuple(data["categories"]), consent_days=data.get("consent_days", 182),
            trackers={c: frozenset(v) for c, v in trackers.items()}, cookies=tuple(cookies),
        )

    @classmethod
    def fetch(cls, context: BrowserContext, url: str) -> Declaration | None:
        """The declaration at `url`, or None when the site publishes none."""
        try:
            response = context.request.get(url, timeout=10_000)
            if not response.ok:
                return None
            return cls.from_json(response.json(), url)
        except (Error, ValueError, KeyError, TypeError):
            return None

    @property
    def optional_categories(self) -> tuple[str, ...]:
        return tuple(c for c in self.categories if c != "necessary")

    def vendors_for(self, granted: tuple[str, ...] | list[str]) -> frozenset[str]:
        allowed: set[str] = set(self.trackers.get("necessary", ()))
        for category in granted:
            allowed |= self.trackers.get(category, frozenset())
        return frozenset(allowed)

    def cookie(self, name: str) -> DeclaredCookie | None:
        # Exact names before patterns: `_ga` is not the `_ga_*` of another service.
        exact = [c for c in self.cookies if c.name == name]
        return (exact or [c for c in self.cookies if _matches(c.name, name)] or [None])[0]

    def essential(self, name: str) -> bool:
        declared = self.cookie(name)
        return name in ESSENTIAL_COOKIES or (declared is not None and declared.category == "necessary")
