"""The audit's scenarios, each in a fresh browser context: before any choice, after a
refusal (with a reload and a couple of same-site pages), and after accepting each
category alone (Gatekeeper sites) or everything (any banner).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from playwright.sync_api import Browser

from . import banner as banners
from . import checks
from .banner import Banner
from .declared import Declaration
from .findings import Finding
from .network import Seen, is_third_party
from .storage import ObservedCookie
from .visit import Visit

PHONE = {"width": 375, "height": 667}


@dataclass
class Scenario:
    name: str
    granted: tuple[str, ...] | None  # None: accept-all
    requests: list[Seen] = field(default_factory=list)
    cookies: list[ObservedCookie] = field(default_factory=list)
    storage: dict[str, list[str]] = field(default_factory=dict)
    visited: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    screenshots: dict[str, bytes] = field(default_factory=dict)

    @property
    def vendors(self) -> list[str]:
        return sorted({seen.vendor.name for seen in self.requests if seen.vendor is not None})

    def to_json(self, page: str, declaration: Declaration | None) -> dict:
        def declared(name: str) -> str | None:
            cookie = declaration.cookie(name) if declaration else None
            return cookie.category if cookie else None

        return {
            "name": self.name,
            "granted": list(self.granted) if self.granted is not None else "all",
            "visited": self.visited,
            "vendors": self.vendors,
            "requests": [
                {"url": s.url, "method": s.method, "type": s.resource_type, "vendor": s.vendor.id if s.vendor else None,
                 "category": s.vendor.category if s.vendor else None, "tracker": s.vendor is not None,
                 "third_party": is_third_party(s.url, page)}
                for s in self.requests
            ],
            "cookies": [c.to_json(declared_category=declared(c.name)) for c in self.cookies],
            "storage": self.storage,
            "findings": [f.to_json() for f in self.findings],
        }


class Context:
    """What every scenario of one page needs."""

    def __init__(self, browser: Browser, url: str, *, offline_trackers: bool, browse_pages: int = 2):
        self.browser, self.url, self.offline_trackers, self.browse_pages = browser, url, offline_trackers, browse_pages
        self.banner: Banner | None = None
        self.declaration: Declaration | None = None
        self.links: list[str] = []

    def visit(self) -> Visit:
        return Visit.fresh(self.browser, offline_trackers=self.offline_trackers)


def _arrive(visit: Visit, url: str) -> Banner:
    """Open `url`, find its banner and let the page's own tags load."""
    visit.open(url)
    banner = banners.find(visit.page)
    visit.settle()
    return banner


def _outside_choice(visit: Visit, since: int, granted: tuple[str, ...] | None, ctx: Context, **where) -> list[Finding]:
    """The tracker requests since `since` and the cookies now stored that `granted` does not allow."""
    return (checks.requests_outside_choice(visit.log.requests[since:], granted, ctx.declaration, **where)
            + checks.cookies_outside_choice(visit.cookies(), granted, ctx.declaration, **where))


def before_choice(ctx: Context) -> Scenario:
    """Fresh visit, no interaction: what loads and what is stored (rules 1, 2) and the banner (rule 4)."""
    scenario = Scenario("before consent", ())
    with ctx.visit() as visit:
        ctx.banner = _arrive(visit, ctx.url)
        visit.scroll()
        visit.settle()
        scenario.screenshots["banner"] = visit.screenshot()
        if ctx.banner.kind == "gatekeeper" and ctx.banner.declaration_url:
            ctx.declaration = Declaration.fetch(visit.context, ctx.banner.declaration_url)
            if ctx.declaration is None:
                ctx.banner.notes.append(f"no declaration at {ctx.banner.declaration_url}: cookies not compared")
        ctx.links = visit.links()
        scenario.requests = list(visit.log.requests)
        scenario.cookies, scenario.storage = visit.cookies(), visit.storage()
        where = {"page": ctx.url, "scenario": scenario.name}
        scenario.findings += checks.trackers_before_choice(scenario.requests, visit.tracker_elements(), **where)
        scenario.findings += checks.storage_before_choice(scenario.cookies, scenario.storage, ctx.declaration, **where)
        # Rule 4 holds on a phone too: the same banner at 375x667.
        visit.page.set_viewport_size(PHONE)
        on_phone = banners.find(visit.page)
    for banner, size in ((ctx.banner, ""), (on_phone, " at 375x667")):
        if ctx.banner.reject_label is not None and banner.reject_on_first_layer:
            continue
        label = banner.reject_label
        problem = f"reject button {label!r} is not visible without scrolling{size}" if label else "no reject button on the first layer"
        scenario.findings.append(Finding(4, ctx.banner.site or "consent banner", ctx.url, ctx.url, scenario.name,
                                         f"{problem} (accept: {ctx.banner.accept_label!r})", vendor_id=None))
        break
    return scenario


def after_reject(ctx: Context) -> Scenario:
    """Reject, then reload and browse: nothing from trackers, no tracker cookies (rules 8, 9)."""
    scenario = Scenario("reject", ())
    where = {"page": ctx.url, "scenario": scenario.name}
    with ctx.visit() as visit:
        banner = _arrive(visit, ctx.url)
        mark = visit.choose(banner, ())
        scenario.screenshots["after reject"] = visit.screenshot()
        scenario.findings += _outside_choice(visit, mark, (), ctx, **where)
        later = visit.log.mark()
        visit.reload()
        visit.settle()
        if banner.kind == "gatekeeper" and visit.page.locator(f"{banners.GK_BANNER} [role=dialog]:visible").count():
            scenario.findings.append(Finding(9, banner.site or "Gatekeeper", visit.page.url, ctx.url, scenario.name,
                                             "the banner asks again after a refusal"))
        scenario.visited = [visit.page.url, *visit.browse(ctx.browse_pages)]
        scenario.findings += _outside_choice(visit, later, (), ctx, rule=9, **where)
        scenario.requests, scenario.cookies, scenario.storage = list(visit.log.requests), visit.cookies(), visit.storage()
    return scenario


def after_accept(ctx: Context, categories: tuple[str, ...] | None) -> Scenario:
    """Accept `categories` (None: everything; then also a reload): only their vendors, declared cookies (rules 8, 13)."""
    name = "accept all" if categories is None else f"accept {', '.join(categories)} only"
    scenario = Scenario(name, categories)
    where = {"page": ctx.url, "scenario": scenario.name}
    with ctx.visit() as visit:
        mark = visit.choose(_arrive(visit, ctx.url), categories)
        last = categories is None or len(ctx.declaration.optional_categories if ctx.declaration else ()) <= 1
        if last:  # a return visit: granted tags start from the stored decision, no banner
            visit.reload()
            visit.settle()
            scenario.screenshots["after accept"] = visit.screenshot()
        scenario.visited = [visit.page.url]
        scenario.requests, scenario.cookies, scenario.storage = list(visit.log.requests), visit.cookies(), visit.storage()
        scenario.findings += _outside_choice(visit, mark, categories, ctx, **where)
    return scenario


def plan(ctx: Context) -> list[tuple[str, tuple[str, ...] | None]]:
    """The choices to try after `before_choice` found the banner."""
    choices: list[tuple[str, tuple[str, ...] | None]] = []
    if ctx.banner.has_reject:
        choices.append(("reject", ()))
    optional = ctx.declaration.optional_categories if ctx.declaration else ()
    if ctx.banner.kind == "gatekeeper" and optional:
        choices += [("accept", (category,)) for category in optional]
        if len(optional) > 1:
            choices.append(("accept", None))
    elif ctx.banner.accept_label:
        choices.append(("accept", None))
    return choices
