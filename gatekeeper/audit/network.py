"""What a browser context sends: every request recorded and classified by vendor, and
tracker hosts answered by the local stand-ins (gatekeeper/standins) when asked to.

Shared by `gatekeeper audit`, the pytest plugin and the e2e harness.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, Page, Request, Route

from ..catalog import catalog
from ..trackers import Vendor, vendor_for_url

STANDINS = Path(__file__).resolve().parent.parent / "standins"
CONSENT_API = "/api/v1/consent"


def standin_for(url: str) -> str | None:
    """The stand-in script that answers a tracker script URL (None: answer 204)."""
    parts = urlsplit(url)
    host, path = (parts.hostname or "").lower(), parts.path
    if host.endswith("googletagmanager.com") and path.rstrip("/").endswith("/gtag/js"):
        return "gtag.js"
    if host.endswith("googletagmanager.com") and path == "/gtm.js":
        return "gtm.js"
    if host == "connect.facebook.net" and path.endswith("/fbevents.js"):
        return "fbevents.js"
    if host == "connect.facebook.net" and (path.endswith("/sdk.js") or path.endswith("/sdk/debug.js")):
        return "fb-sdk.js"
    if host.endswith("nosto.com") and path.startswith("/include/"):
        return "nosto.js"
    return None


def preset_standin(vendor_id: str, resource_type: str, templates: dict[str, str]) -> tuple[str, str] | None:
    """(body, content type) standing in for a catalog vendor's script or embedded page:
    it sets the preset's declared cookies and, for a script, calls the preset's hosts."""
    preset = catalog().get(vendor_id)
    if preset is None:
        return None
    kind = {"script": "script", "document": "embed"}.get(resource_type)
    if kind is None or (kind == "embed") != (preset.loader.type == "embed"):
        return None
    first_party = kind == "script"
    config = {
        "id": preset.id,
        "cookies": [[c.name.replace("*", "gk"), c.lifetime_days] for c in preset.cookies if c.first_party == first_party],
        "hosts": [h.host.replace("*.", "").replace(".*", ".com") for h in preset.hosts if h.path is None],
    }
    declared = f"var GK_STANDIN = {json.dumps(config)};\n"
    if kind == "script":
        return declared + templates["preset.js"], "application/javascript"
    return templates["embed.html"].replace("<script>\n", "<script>\n" + declared), "text/html"


def route_trackers(context: BrowserContext) -> None:
    """Answer every tracker request locally: scripts by their stand-in (a vendor's own, or
    the catalog's generic one), embedded pages by the catalog's, the rest 204."""
    scripts = {p.name: p.read_text(encoding="utf-8") for p in STANDINS.iterdir() if p.suffix in (".js", ".html")}

    def handle(route: Route, request: Request) -> None:
        vendor = vendor_for_url(request.url)
        if vendor is None:
            route.continue_()
            return
        name = standin_for(request.url)
        generic = None if name else preset_standin(vendor.id, request.resource_type, scripts)
        if name is not None:
            route.fulfill(status=200, body=scripts[name], content_type="application/javascript")
        elif generic is not None:
            route.fulfill(status=200, body=generic[0], content_type=generic[1])
        else:
            route.fulfill(status=204, body="", headers={"access-control-allow-origin": "*"})

    context.route("**/*", handle)


def site_of(host: str) -> str:
    """A host's site, roughly its registrable domain: www.shop.co.uk -> shop.co.uk."""
    host = (host or "").rstrip(".").lower()
    labels = host.split(".")
    if len(labels) <= 2 or host.replace(".", "").isdigit() or ":" in host:
        return host
    # Second-level registries (co.uk, com.au, …) keep one more label.
    keep = 3 if len(labels[-2]) <= 3 and labels[-2] in {"co", "com", "org", "net", "ac", "gov", "edu"} else 2
    return ".".join(labels[-keep:])


def is_third_party(url: str, page_url: str) -> bool:
    target = urlsplit(url)
    if target.scheme not in ("http", "https", "ws", "wss"):
        return False
    return site_of(target.hostname or "") != site_of(urlsplit(page_url).hostname or "")


@dataclass(frozen=True)
class Seen:
    url: str
    method: str
    resource_type: str
    vendor: Vendor | None
    at: float
    trigger: str = "load"  # what the visitor (or the page clock) was doing when it was sent
    page_time: float | None = None  # seconds of page time since the page was opened

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    def when(self) -> str:
        """How a report says when it was sent: "on scroll, page time 3.2 s"."""
        at = f", page time {self.page_time:.1f} s" if self.page_time is not None else ""
        return f"{self.trigger}{at}"


@dataclass
class TrackerLog:
    """Every request a context makes, classified by vendor, with in-flight bookkeeping."""

    requests: list[Seen] = field(default_factory=list)
    inflight: set = field(default_factory=set)
    _positions: dict = field(default_factory=dict)  # in-flight request -> its place in `requests`
    last_activity: float = field(default_factory=time.monotonic)
    # (trigger, page time) for a request seen now; set by a dwelling visit (dwell.py)
    moment: Callable[[], tuple[str, float | None]] = field(default=lambda: ("load", None))

    def attach(self, context: BrowserContext) -> TrackerLog:
        context.on("request", self._on_request)
        context.on("requestfinished", self._on_done)
        context.on("requestfailed", self._on_failed)
        return self

    def _on_request(self, request: Request) -> None:
        now = time.monotonic()
        trigger, page_time = self.moment()
        self.requests.append(Seen(request.url, request.method, request.resource_type, vendor_for_url(request.url), now,
                                  trigger, page_time))
        self.inflight.add(id(request))
        self._positions[id(request)] = len(self.requests) - 1
        self.last_activity = now

    def _on_done(self, request: Request) -> None:
        self.inflight.discard(id(request))
        self._positions.pop(id(request), None)
        self.last_activity = time.monotonic()

    def _on_failed(self, request: Request) -> None:
        # A request the page's own Content-Security-Policy stopped never left the browser:
        # it stays in the log (positions are marks) as no tracker's, and the audit judges the
        # tag by its securitypolicyviolation event instead (checks.csp_violations).
        position = self._positions.get(id(request))
        if request.failure == "csp" and position is not None:
            seen = self.requests[position]
            self.requests[position] = replace(seen, vendor=None, resource_type=f"{seen.resource_type}, blocked by CSP")
        self._on_done(request)

    def mark(self) -> int:
        return len(self.requests)

    def trackers(self, since: int = 0) -> list[Seen]:
        return [seen for seen in self.requests[since:] if seen.vendor is not None]

    def vendors(self, since: int = 0) -> set[str]:
        return {seen.vendor.id for seen in self.trackers(since)}

    def to(self, vendor_id: str, since: int = 0) -> list[Seen]:
        return [seen for seen in self.trackers(since) if seen.vendor.id == vendor_id]

    def matching(self, fragment: str, since: int = 0) -> list[Seen]:
        return [seen for seen in self.requests[since:] if fragment in seen.url]

    def api_calls(self, since: int = 0) -> list[Seen]:
        return [seen for seen in self.requests[since:] if seen.path.startswith(CONSENT_API)]

    def wait_for(self, page: Page, fragment: str, *, since: int = 0, timeout: float = 5.0) -> Seen:
        """The first request whose URL contains `fragment`, waiting for it (bounded)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.matching(fragment, since)
            if found:
                return found[0]
            if time.monotonic() > deadline:
                raise AssertionError(f"no request containing {fragment!r} within {timeout}s; saw {self.describe(since)}")
            page.wait_for_timeout(25)

    def settle(self, page: Page, *, quiet_ms: int = 300, timeout: float = 5.0) -> None:
        """Wait until no request has been in flight for `quiet_ms` (bounded by `timeout`).
        The quiet counts from this call at the earliest: what the page was just made to do
        may not have sent its first request yet, and an old quiet proves nothing about it."""
        start = time.monotonic()
        deadline = start + timeout
        while time.monotonic() < deadline:
            idle = (time.monotonic() - max(self.last_activity, start)) * 1000
            if not self.inflight and idle >= quiet_ms:
                return
            page.wait_for_timeout(25)

    def describe(self, since: int = 0) -> list[str]:
        return [f"{s.method} {s.url} [{s.resource_type}, {s.vendor.id if s.vendor else '-'}]" for s in self.requests[since:]]
