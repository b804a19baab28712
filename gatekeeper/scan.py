"""What a shop's pages really load, observed in real Chromium for `gatekeeper scan`.

The audit's own parts drive the browser (same Chromium discovery and launch, the same
visitor, banner finder and stand-ins): one visitor opens each page, accepts everything on
a banner it recognises (or carries on without one), scrolls, follows up to `crawl`
same-site links, and keeps every request and cookie. draft.py turns that into a site file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from playwright.sync_api import Error

from . import browser as chromium
from .audit import banner as banners
from .audit.network import Seen, site_of
from .audit.storage import ObservedCookie
from .audit.visit import Unreachable, Visit

SETTLE_SECONDS = 15.0  # a page still loading after this never settles


class ScanError(Exception):
    """A page could not be scanned (unreachable, an HTTP error, never settled, no browser)."""


@dataclass
class Observation:
    pages: list[str] = field(default_factory=list)
    requests: list[Seen] = field(default_factory=list)
    cookies: list[ObservedCookie] = field(default_factory=list)
    title: str = ""
    lang: str = ""
    banners: list[str] = field(default_factory=list)

    @property
    def site(self) -> str:
        """The scanned shop's own site (registrable domain), for first- vs third-party."""
        return site_of(urlsplit(self.pages[0]).hostname or "") if self.pages else ""

    def first_party(self, domain: str) -> bool:
        return site_of(domain.lstrip(".")) == self.site


def _visit_page(visit: Visit, url: str, seen: Observation, progress: Callable[[str], None]) -> list[str]:
    visit.open(url)
    try:
        banner = banners.find(visit.page, timeout=3.0)
    except banners.NoBanner:
        banner = None
        seen.banners.append(f"{url}: no banner recognised")
    if banner is not None:
        try:
            banners.choose(visit.page, banner, None)  # accept everything, as a visitor who agrees
            seen.banners.append(f"{url}: {banner.tool}, everything accepted")
        except Error as exc:
            seen.banners.append(f"{url}: {banner.tool}, could not accept ({str(exc).splitlines()[0]})")
    visit.settle(timeout=SETTLE_SECONDS)
    visit.scroll()
    visit.settle(timeout=SETTLE_SECONDS)
    if visit.log.inflight:
        raise ScanError(f"{url} never settled: {len(visit.log.inflight)} request(s) still open after {SETTLE_SECONDS:.0f} s")
    if not seen.title:
        seen.title = visit.page.title().strip()
        seen.lang = visit.page.evaluate("() => document.documentElement.lang || ''").split("-")[0].lower()
    progress(f"scanned {url}: {len(visit.log.requests)} requests so far, {len(visit.cookies())} cookies")
    return visit.links()


def observe(urls: list[str], *, crawl: int = 0, offline_trackers: bool = False,
            progress: Callable[[str], None] = lambda line: None) -> Observation:
    """Every page of `urls` (and up to `crawl` same-site pages linked from each) in one visitor."""
    seen = Observation()
    with chromium.started(ScanError) as browser:
        visit = Visit.fresh(browser, offline_trackers=offline_trackers)
        try:
            for start in urls:
                queue, budget = [start], crawl
                while queue:
                    url = queue.pop(0)
                    if url in seen.pages:
                        continue
                    seen.pages.append(url)
                    for link in _visit_page(visit, url, seen, progress):
                        if budget > 0 and link not in seen.pages and link not in queue:
                            queue.append(link)
                            budget -= 1
            seen.requests = list(visit.log.requests)
            seen.cookies = visit.cookies()
        except Unreachable as exc:
            raise ScanError(str(exc)) from None
        except Error as exc:
            raise ScanError(f"the browser failed: {str(exc).splitlines()[0]}") from None
        finally:
            visit.close()
    return seen
