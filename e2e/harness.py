"""The browser-test harness: the real server as a subprocess, tracker hosts routed to
local stand-ins, every request recorded, and the few page actions the tests share.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, Page, Request, Route

import gatekeeper
from gatekeeper.trackers import Vendor, vendor_for_url

REPO = Path(__file__).resolve().parents[1]
STANDINS = Path(gatekeeper.__file__).resolve().parent / "standins"
CONSENT_API = "/api/v1/consent"
COOKIE = "gk_consent"
BANNER = "gatekeeper-banner"
DIALOG = f"{BANNER} [role=dialog]"

# What may be stored before a choice (COMPLIANCE 2): session, cart, language — no consent.
ESSENTIAL_COOKIES = frozenset({"session", "cart", "lang", "language"})
ESSENTIAL_STORAGE_KEYS = frozenset({"cart", "lang", "language"})


# --- the server -------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    url: str
    db_path: Path
    log_path: Path
    process: subprocess.Popen | None = None

    @classmethod
    def start(cls, workdir: Path, *, timeout: float = 20.0) -> Server:
        port = free_port()
        db_path = workdir / "consent.db"
        log_path = workdir / "server.log"
        command = cls.command(port, db_path)
        env = {k: v for k, v in os.environ.items() if not k.startswith("GATEKEEPER_")}
        env.update(GATEKEEPER_SECRET_KEYS=secrets.token_hex(32), PYTHONUNBUFFERED="1")
        server = cls(url=f"http://127.0.0.1:{port}", db_path=db_path, log_path=log_path)
        with log_path.open("wb") as log:
            server.process = subprocess.Popen(
                command, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        server._wait_healthy(timeout)
        return server

    @staticmethod
    def command(port: int, db_path: Path) -> list[str]:
        return [
            sys.executable, "-m", "gatekeeper", "serve",
            "--host", "127.0.0.1", "--port", str(port),
            "--database-url", f"sqlite:///{db_path}",
            "--sites-dir", str(REPO / "sites"),
        ]

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server not healthy within {timeout:.0f}s:\n{self.log()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def log(self, start: int = 0) -> str:
        try:
            with self.log_path.open("rb") as log:
                log.seek(start)
                return log.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return "(no server log)"

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def page_url(self, site: str, path: str = "", **query: str) -> str:
        url = f"{self.url}/demo/{site}{path}"
        return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")

    def last_rowid(self) -> int:
        with sqlite3.connect(self.db_path) as db:
            return db.execute("SELECT coalesce(max(rowid), 0) FROM consent_records").fetchone()[0]

    def records(self, *, after: int = 0, consent_id: str | None = None) -> list[dict]:
        """Consent log rows written after rowid `after`, categories parsed from JSON."""
        sql = "SELECT rowid AS _rowid, * FROM consent_records WHERE rowid > ?"
        args: list = [after]
        if consent_id is not None:
            sql += " AND consent_id = ?"
            args.append(consent_id)
        with sqlite3.connect(self.db_path) as db:
            db.row_factory = sqlite3.Row
            rows = [dict(row) for row in db.execute(sql + " ORDER BY rowid", args)]
        for row in rows:
            if isinstance(row.get("categories"), str):
                row["categories"] = json.loads(row["categories"])
        return rows


# --- tracker hosts routed to stand-ins ----------------------------------------------------

def standin_for(url: str) -> str | None:
    """The stand-in script that answers a tracker script URL (None: answer 204)."""
    parts = urlsplit(url)
    host, path = (parts.hostname or "").lower(), parts.path
    if host.endswith("googletagmanager.com") and path.rstrip("/").endswith("/gtag/js"):
        return "gtag.js"
    if host == "connect.facebook.net" and path.endswith("/fbevents.js"):
        return "fbevents.js"
    if host == "connect.facebook.net" and (path.endswith("/sdk.js") or path.endswith("/sdk/debug.js")):
        return "fb-sdk.js"
    if host.endswith("nosto.com") and path.startswith("/include/"):
        return "nosto.js"
    return None


def route_trackers(context: BrowserContext) -> None:
    scripts = {p.name: p.read_text(encoding="utf-8") for p in STANDINS.glob("*.js")}

    def handle(route: Route, request: Request) -> None:
        if vendor_for_url(request.url) is None:
            route.continue_()
            return
        name = standin_for(request.url)
        if name is None:
            route.fulfill(status=204, body="", headers={"access-control-allow-origin": "*"})
        else:
            route.fulfill(status=200, body=scripts[name], content_type="application/javascript")

    context.route("**/*", handle)


@dataclass(frozen=True)
class Seen:
    url: str
    method: str
    resource_type: str
    vendor: Vendor | None
    at: float

    @property
    def path(self) -> str:
        return urlsplit(self.url).path


@dataclass
class TrackerLog:
    """Every request a context makes, classified by vendor, with in-flight bookkeeping."""

    requests: list[Seen] = field(default_factory=list)
    inflight: set = field(default_factory=set)
    last_activity: float = field(default_factory=time.monotonic)

    def attach(self, context: BrowserContext) -> TrackerLog:
        context.on("request", self._on_request)
        context.on("requestfinished", self._on_done)
        context.on("requestfailed", self._on_done)
        return self

    def _on_request(self, request: Request) -> None:
        now = time.monotonic()
        self.requests.append(Seen(request.url, request.method, request.resource_type, vendor_for_url(request.url), now))
        self.inflight.add(id(request))
        self.last_activity = now

    def _on_done(self, request: Request) -> None:
        self.inflight.discard(id(request))
        self.last_activity = time.monotonic()

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
        """Wait until no request has been in flight for `quiet_ms` (bounded by `timeout`)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            idle = (time.monotonic() - self.last_activity) * 1000
            if not self.inflight and idle >= quiet_ms:
                return
            page.wait_for_timeout(25)

    def describe(self, since: int = 0) -> list[str]:
        return [f"{s.method} {s.url} [{s.resource_type}, {s.vendor.id if s.vendor else '-'}]" for s in self.requests[since:]]


# --- storage --------------------------------------------------------------------------

def cookies(context: BrowserContext) -> dict[str, dict]:
    """All cookies of the context by name, HttpOnly and third-party ones included."""
    return {cookie["name"]: cookie for cookie in context.cookies()}


def storage_keys(page: Page) -> dict[str, list[str]]:
    return page.evaluate(
        """() => ({
            local: Object.keys(window.localStorage),
            session: Object.keys(window.sessionStorage),
        })"""
    )


def decode_token(value: str) -> tuple[dict, str]:
    """(payload, signature) of a gk_consent value: base64url(JSON) "." signature."""
    payload, _, signature = value.rpartition(".")
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    return json.loads(raw), signature


def encode_payload(payload: dict) -> str:
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


# --- the page -------------------------------------------------------------------------

def open_demo(page: Page, server: Server, site: str, path: str = "", **query: str) -> None:
    page.goto(server.page_url(site, path, **query), wait_until="load", timeout=10_000)


def wait_for_banner(page: Page, timeout: float = 5_000) -> None:
    page.locator(DIALOG).first.wait_for(state="visible", timeout=timeout)


def banner_visible(page: Page) -> bool:
    return page.locator(f"{DIALOG}:visible").count() > 0


def decision(page: Page) -> dict | None:
    return page.evaluate("() => window.gatekeeper ? window.gatekeeper.decision : undefined")


def is_consent_post(response) -> bool:
    return urlsplit(response.url).path == CONSENT_API and response.request.method == "POST"


def choose(page: Page, action: str, categories: tuple[str, ...] = ()) -> dict:
    """Make a decision through the banner and return the API's answer.

    action: "accept" or "reject" (first layer), or "save" (preferences with `categories`
    ticked).
    """
    with page.expect_response(is_consent_post, timeout=5_000) as answer:
        if action in ("accept", "reject"):
            page.locator(f"{BANNER} button[data-gk={action}]").click(timeout=5_000)
        elif action == "save":
            open_preferences(page)
            for category in categories:
                page.locator(f'{BANNER} input[type=checkbox][data-category="{category}"]').check(timeout=5_000)
            page.locator(f"{BANNER} button[data-gk=save]").click(timeout=5_000)
        else:
            raise ValueError(action)
    response = answer.value
    assert response.status == 201, f"consent POST answered {response.status}: {response.text()}"
    return response.json()


def open_preferences(page: Page) -> None:
    if page.locator(f"{BANNER} button[data-gk=save]").is_visible():
        return
    page.locator(f"{BANNER} button[data-gk=prefs]").click(timeout=5_000)
    page.locator(f"{BANNER} button[data-gk=save]").wait_for(state="visible", timeout=5_000)


def data_layer(page: Page) -> list:
    """window.dataLayer as JSON: gtag() `arguments` entries become lists."""
    return page.evaluate(
        """() => (window.dataLayer || []).map(e =>
            e && typeof e === 'object' && typeof e.length === 'number' && typeof e[0] === 'string'
              ? Array.prototype.slice.call(e) : e)"""
    )


def own_tags(page: Page) -> dict[str, str]:
    """Which of the shop's own text/plain tags ran (dataset.ownAnalytics = "loaded")."""
    return page.evaluate("() => Object.assign({}, document.documentElement.dataset)")


def tracker_elements(page: Page) -> list[str]:
    """script/img/iframe/link[rel=preconnect|dns-prefetch|preload] in the DOM pointing at T."""
    urls = page.evaluate(
        """() => {
            const found = [];
            const visit = root => {
                root.querySelectorAll('script[src], img[src], iframe[src], link[href]').forEach(el => {
                    if (el.tagName === 'LINK' && !/\\b(preconnect|dns-prefetch|preload|prefetch|modulepreload)\\b/i.test(el.rel)) return;
                    found.push(el.src || el.href);
                });
                root.querySelectorAll('*').forEach(el => { if (el.shadowRoot) visit(el.shadowRoot); });
            };
            visit(document);
            return found;
        }"""
    )
    return [url for url in urls if vendor_for_url(url if "//" in url else f"https:{url}") is not None]


def same_site_links(page: Page, site: str, limit: int = 2) -> list[str]:
    hrefs = page.evaluate(
        """prefix => Array.from(document.querySelectorAll('a[href]'))
            .map(a => new URL(a.getAttribute('href'), location.href))
            .filter(u => u.origin === location.origin && u.pathname.startsWith(prefix + '/'))
            .map(u => u.pathname + u.search)""",
        f"/demo/{site}",
    )
    return list(dict.fromkeys(hrefs))[:limit]


# --- what the demo sites promise (sites/*.toml, the demo pages) -------------------------

@dataclass(frozen=True)
class DemoSite:
    id: str
    languages: tuple[str, ...]
    categories: tuple[str, ...]  # the optional ones; `necessary` is always there
    ga4: str | None = None
    google_ads: str | None = None

    @property
    def all_categories(self) -> tuple[str, ...]:
        return ("necessary", *self.categories)


SITES = {
    "ecomarket": DemoSite(
        "ecomarket", ("nl", "fr", "en"), ("analytics", "marketing", "social", "personalisation"),
        ga4="G-ECOM12345", google_ads="AW-987654321",
    ),
    "locomail": DemoSite("locomail", ("nl", "en"), ("analytics",), ga4="G-LOCO67890"),
}

REJECT_LABELS = {"nl": "Alles weigeren", "fr": "Tout refuser", "en": "Reject all"}
ACCEPT_LABELS = {"nl": "Alles accepteren", "fr": "Tout accepter", "en": "Accept all"}

# The tracker vendors each category may bring; Google Tag Manager (a gtag.js without a
# recognisable id) comes with either Google category.
VENDORS_BY_CATEGORY = {
    "analytics": {"ga4", "gtm"},
    "marketing": {"google_ads", "gtm"},
    "social": {"facebook"},
    "personalisation": {"nosto"},
}
GOOGLE_VENDORS = frozenset({"ga4", "google_ads", "gtm"})
