"""One visitor in one fresh browser context: a page, every request it causes (routed to
the stand-ins when asked), and the few things a visitor does — open, scroll, choose, browse.
"""

from __future__ import annotations

import re
from urllib.parse import urldefrag, urlsplit

from playwright.sync_api import Browser, BrowserContext, Error, Page, Response

from . import banner as banners
from .banner import Banner
from .dwell import PageClock, dwell
from .elements import TrackerElement, held_elements, tracker_elements
from .network import TrackerLog, route_trackers
from .storage import ObservedCookie, observe_cookies, storage_keys

VIEWPORT = {"width": 1280, "height": 800}
# Content-Security-Policy violations of each document: on a page whose own policy blocks
# or reports trackers (gatekeeper.shop), a tag that tried to run never shows as a request.
CSP_LISTENER = """window.__gkViolations = [];
document.addEventListener('securitypolicyviolation', (e) => window.__gkViolations.push(
  {url: e.blockedURI, directive: e.effectiveDirective, disposition: e.disposition}), true)"""
SKIP_LINKS = re.compile(r"(^/gk/|^/api/|logout|logoff|afmelden|\.(pdf|jpe?g|png|gif|svg|webp|zip|xml|json|js|css|ics)$)", re.I)


class Unreachable(Exception):
    """The page could not be loaded."""


class Visit:
    def __init__(
        self, context: BrowserContext, *, log: TrackerLog | None = None, page: Page | None = None,
        offline_trackers: bool = False, owns_context: bool = False,
    ):
        self.context = context
        self.owns_context = owns_context
        if offline_trackers:
            route_trackers(context)
        self.log = log if log is not None else TrackerLog().attach(context)
        context.add_init_script(CSP_LISTENER)
        self.page: Page = page if page is not None else context.new_page()
        self.clock = PageClock(self.log)
        self.dwell_seconds: float | None = None  # set when the context's clock is installed

    @classmethod
    def fresh(cls, browser: Browser, *, offline_trackers: bool = False, timeout_ms: int = 10_000,
              dwell: float | None = None) -> Visit:
        """A new context; with `dwell`, the page clock is installed and each visit dwells that long (page time)."""
        context = browser.new_context(viewport=VIEWPORT, ignore_https_errors=True)
        context.set_default_timeout(timeout_ms)
        if dwell is not None:
            context.clock.install()
        visit = cls(context, offline_trackers=offline_trackers, owns_context=True)
        visit.dwell_seconds = dwell
        return visit

    def close(self) -> None:
        if self.owns_context:
            self.context.close()

    def __enter__(self) -> Visit:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def open(self, url: str, *, timeout_ms: int = 20_000) -> Response | None:
        self.clock.open()
        try:
            response = self.page.goto(url, wait_until="load", timeout=timeout_ms)
        except Error as exc:
            reason = str(exc).splitlines()[0].removeprefix("Page.goto: ")
            raise Unreachable(f"could not load {url}: {reason}") from None
        if response is not None and response.status >= 400:
            raise Unreachable(f"could not load {url}: the server answered {response.status}")
        return response

    def settle(self, *, quiet_ms: int = 500, timeout: float = 6.0) -> None:
        """Wait for network quiet plus a margin, so late tags have had their chance."""
        self.log.settle(self.page, quiet_ms=quiet_ms, timeout=timeout)

    def choose(self, banner: Banner, granted: tuple[str, ...] | None) -> int:
        """Decide through `banner` (see banner.choose) and settle; returns the log's mark
        from just before the choice, where what the choice caused begins."""
        mark = self.log.mark()
        self.clock.trigger = "after reject" if granted == () else "after accept"
        banners.choose(self.page, banner, granted)
        self.settle()
        return mark

    def dwell(self) -> None:
        """Stay like a visitor (scroll, pointer, page time; see dwell.py), then settle.
        Without an installed clock (dwell=None) only scrolls."""
        if self.dwell_seconds is None:
            self.scroll()
        else:
            dwell(self.page, self.context, self.clock, self.dwell_seconds)
            self.settle(quiet_ms=300, timeout=3.0)

    def scroll(self) -> None:
        try:
            self.page.mouse.wheel(0, 1200)
            self.page.wait_for_timeout(100)
            self.page.evaluate("() => window.scrollTo(0, 0)")
        except Error:
            pass

    def reload(self) -> None:
        self.clock.open()
        try:
            self.page.reload(wait_until="load", timeout=20_000)
        except Error as exc:
            raise Unreachable(f"could not reload {self.page.url}: {str(exc).splitlines()[0]}") from None

    def links(self, limit: int | None = None) -> list[str]:
        """Same-site links of the current page, in page order, without fragments."""
        try:
            hrefs = self.page.evaluate("() => Array.from(document.querySelectorAll('a[href]'), a => a.href)")
        except Error:
            return []
        here = urlsplit(self.page.url)
        found: list[str] = []
        for href in hrefs:
            url, _ = urldefrag(href)
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or parts.netloc != here.netloc or SKIP_LINKS.search(parts.path):
                continue
            if url != self.page.url and url not in found:
                found.append(url)
        return found[:limit] if limit is not None else found

    def browse(self, count: int = 2) -> list[str]:
        """Follow up to `count` same-site links that load, settling on each; returns where it went."""
        visited = []
        for url in self.links():
            if len(visited) == count:
                break
            try:
                self.open(url)
            except Unreachable:
                continue  # a broken link is the shop's problem, not the audit's
            self.settle()
            visited.append(url)
        return visited

    def csp_violations(self) -> list[dict]:
        """The current document's `securitypolicyviolation` events, each once."""
        try:
            seen = self.page.evaluate("() => window.__gkViolations || []")
        except Error:
            return []
        return list({(v["url"], v["directive"], v["disposition"]): v for v in seen}.values())

    def cookies(self) -> list[ObservedCookie]:
        return observe_cookies(self.context)

    def storage(self) -> dict[str, list[str]]:
        return storage_keys(self.page)

    def tracker_elements(self) -> list[str]:
        return tracker_elements(self.page)

    def consent_defaults(self) -> list[dict]:
        """The Google Consent Mode `default` commands in the page's dataLayer."""
        try:
            return self.page.evaluate("""() => Array.from(window.dataLayer || [])
                .filter(e => e && e[0] === 'consent' && e[1] === 'default' && e[2] && typeof e[2] === 'object')
                .map(e => JSON.parse(JSON.stringify(e[2])))""")
        except Error:
            return []

    def held_elements(self) -> list[TrackerElement]:
        return held_elements(self.page)

    def screenshot(self) -> bytes | None:
        try:
            return self.page.screenshot(type="jpeg", quality=70, timeout=10_000)
        except Error:
            return None
