"""A consent-aware page for tests: open a page, find its banner, choose, and assert what
the trackers did — the audit's own checks, one test at a time.

    page = ConsentPage(visit)
    page.goto("https://shop.example/")
    page.assert_no_trackers()          # rules 1 and 2 (docs/rules.md): nothing before a choice
    page.accept("analytics")
    page.assert_only("analytics")      # rule 8 (docs/rules.md#rule-8): only analytics vendors
"""

from __future__ import annotations

from playwright.sync_api import BrowserContext, Page

from . import banner as banners
from . import checks
from .banner import Banner
from .declared import Declaration
from .findings import Finding, merge
from .network import Seen, TrackerLog
from .storage import ObservedCookie
from .visit import Visit


class ConsentViolation(AssertionError):
    """An assertion of the plugin failed; the message has a line per finding."""

    def __init__(self, what: str, findings: list[Finding]):
        self.findings = findings = merge(findings)
        super().__init__(f"{what}:\n" + "\n".join(f"  {f.line()}" for f in findings))


class ConsentPage(Visit):
    def __init__(self, context: BrowserContext, *, log: TrackerLog | None = None, page: Page | None = None):
        super().__init__(context, log=log, page=page)
        self._banner: Banner | None = None
        self._declaration: Declaration | None = None
        self.choice_mark = 0

    def goto(self, url: str) -> ConsentPage:
        """Open `url` and wait for the network to settle (tags included)."""
        self._banner = None
        self.open(url)
        self.settle()
        return self

    @property
    def banner(self) -> Banner:
        """The page's banner (raises banner.NoBanner when there is none)."""
        if self._banner is None:
            self._banner = banners.find(self.page)
            if self._banner.kind == "gatekeeper" and self._banner.declaration_url:
                self._declaration = Declaration.fetch(self.context, self._banner.declaration_url)
        return self._banner

    @property
    def declaration(self) -> Declaration | None:
        self.banner  # noqa: B018 - finding the banner fetches the declaration
        return self._declaration

    def accept(self, *categories: str) -> ConsentPage:
        """Accept `categories` (a Gatekeeper site), or everything when none are named."""
        self.choice_mark = self.choose(self.banner, categories or None)
        return self

    def reject(self) -> ConsentPage:
        self.choice_mark = self.choose(self.banner, ())
        return self

    def trackers(self, since: int = 0) -> list[Seen]:
        return self.log.trackers(since)

    def vendors(self, since: int = 0) -> set[str]:
        return self.log.vendors(since)

    def tracker_cookies(self) -> list[ObservedCookie]:
        return [c for c in self.cookies() if c.vendor is not None]

    def assert_no_trackers(self) -> None:
        """No tracker request, element, cookie or storage key so far (rules 1 and 2)."""
        where = {"page": self.page.url, "scenario": "before consent"}
        self.settle()
        findings = checks.trackers_before_choice(self.log.requests, self.tracker_elements(), **where)
        findings += checks.storage_before_choice(self.cookies(), self.storage(), self._declaration, **where)
        if findings:
            raise ConsentViolation("trackers before consent", findings)

    def assert_only(self, *categories: str) -> None:
        """Since the last choice, only vendors and cookies of `categories` (rule 8)."""
        self.settle()
        granted = tuple(categories)
        declaration = self.declaration if self._banner is not None else None
        where = {"page": self.page.url, "scenario": f"after {', '.join(granted) or 'nothing'}"}
        findings = checks.requests_outside_choice(self.log.requests[self.choice_mark:], granted, declaration, **where)
        findings += checks.cookies_outside_choice(self.cookies(), granted, declaration, rule_13=False, **where)
        if findings:
            raise ConsentViolation(f"vendors outside {', '.join(granted) or 'nothing'}", findings)

    def assert_declared(self) -> None:
        """Every cookie is in the Gatekeeper site's declaration and outlives it by no more than a day (rule 13)."""
        declaration = self.declaration
        if declaration is None:
            raise AssertionError(f"{self.page.url} publishes no Gatekeeper declaration to compare with")
        where = {"page": self.page.url, "scenario": "declaration"}
        findings = checks.cookies_outside_declaration(self.cookies(), declaration, **where)
        if findings:
            raise ConsentViolation("cookies outside the declaration", findings)
