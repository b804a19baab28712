"""The audit's scenarios, each in a fresh browser context: before any choice (always,
banner or not), after a refusal (with a reload and a couple of same-site pages), and after
accepting each category alone (Gatekeeper sites) or everything (any banner). Each one
dwells like a visitor (dwell.py) before it is judged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from playwright.sync_api import Browser

from . import banner as banners
from . import checks, dark_patterns, textmatch
from .banner import Banner, ChoiceFailed, NoBanner
from .declared import Declaration
from .dwell import DEFAULT_DWELL
from .elements import TrackerElement
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
    held: list[TrackerElement] = field(default_factory=list)  # tracker tags a consent tool holds inert
    held_by: str | None = None  # the tool holding them
    banner: dict | None = None  # the tool recognised in this scenario, how, and the buttons used
    notes: list[str] = field(default_factory=list)
    csp_violations: list[dict] = field(default_factory=list)  # the page's own CSP at work (gatekeeper.shop)

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
                 "third_party": is_third_party(s.url, page), "trigger": s.trigger, "page_time": s.page_time}
                for s in self.requests
            ],
            "cookies": [c.to_json(declared_category=declared(c.name)) for c in self.cookies],
            "storage": self.storage,
            "banner": self.banner,
            "held": [element.to_json(self.held_by) for element in self.held],
            "notes": self.notes,
            "csp_violations": self.csp_violations,
            "findings": [f.to_json() for f in self.findings],
        }


class Context:
    """What every scenario of one page needs."""

    def __init__(self, browser: Browser, url: str, *, offline_trackers: bool, browse_pages: int = 2,
                 dwell: float = DEFAULT_DWELL):
        self.browser, self.url, self.offline_trackers, self.browse_pages = browser, url, offline_trackers, browse_pages
        self.dwell = dwell
        self.banner: Banner | None = None
        self.declaration: Declaration | None = None
        self.links: list[str] = []
        self.notes: list[str] = []

    def visit(self) -> Visit:
        return Visit.fresh(self.browser, offline_trackers=self.offline_trackers, dwell=self.dwell)

    @property
    def tool(self) -> str:
        """Who holds the page's tags: the consent tool recognised, or nobody."""
        return self.banner.tool if self.banner else "no consent tool recognised"


def _arrive(visit: Visit, url: str, like: Banner | None) -> Banner:
    """Open `url`, find its banner (the one the first visit found) and let the page's own tags load."""
    visit.open(url)
    banner = banners.find(visit.page, like=like)
    visit.settle()
    return banner


def _observe(visit: Visit, scenario: Scenario, ctx: Context) -> None:
    """What the scenario ends with: every request, cookie, storage key and held tag."""
    scenario.requests, scenario.cookies, scenario.storage = list(visit.log.requests), visit.cookies(), visit.storage()
    scenario.held, scenario.held_by = visit.held_elements(), ctx.tool
    scenario.csp_violations = visit.csp_violations()
    scenario.findings += checks.csp_violations(scenario.csp_violations, scenario.granted, ctx.declaration,
                                               rule=1 if scenario.name == "before consent" else 8, page=ctx.url, scenario=scenario.name)


def _outside_choice(visit: Visit, since: int, granted: tuple[str, ...] | None, ctx: Context, **where) -> list[Finding]:
    """The tracker requests since `since` and the cookies now stored that `granted` does not allow."""
    return (checks.requests_outside_choice(visit.log.requests[since:], granted, ctx.declaration, **where)
            + checks.cookies_outside_choice(visit.cookies(), granted, ctx.declaration, **where))


def before_choice(ctx: Context) -> Scenario:
    """Fresh visit, no interaction, a visitor's dwell: what loads and what is stored (rules 1,
    2), banner or not, and the banner's reject button (rule 4). A page offering no choice while
    trackers load or store is a violation of rules 1 and 4; without trackers it needs no banner."""
    scenario = Scenario("before consent", ())
    where = {"page": ctx.url, "scenario": scenario.name}
    with ctx.visit() as visit:
        visit.open(ctx.url)
        try:
            ctx.banner = banners.find(visit.page)
        except NoBanner as exc:
            ctx.banner = None
            missing = str(exc)
        visit.settle()
        visit.dwell()
        scenario.screenshots["banner" if ctx.banner else "page"] = visit.screenshot()
        if ctx.banner is not None and ctx.banner.kind == "gatekeeper" and ctx.banner.declaration_url:
            ctx.declaration = Declaration.fetch(visit.context, ctx.banner.declaration_url)
            if ctx.declaration is None:
                ctx.banner.notes.append(f"no declaration at {ctx.banner.declaration_url}: cookies not compared")
        ctx.links = visit.links()
        _observe(visit, scenario, ctx)
        scenario.banner = ctx.banner.to_json() if ctx.banner else None
        scenario.findings += checks.trackers_before_choice(scenario.requests, visit.tracker_elements(), **where)
        scenario.findings += checks.storage_before_choice(scenario.cookies, scenario.storage, ctx.declaration, **where)
        scenario.findings += checks.consent_mode_before_choice(scenario.requests, visit.consent_defaults(), **where)
        if ctx.banner is None:
            scenario.findings += checks.no_banner(scenario.findings, missing, **where)
            if not scenario.findings:
                ctx.notes.append(f"{missing}; no tracker was seen before any choice, so none was needed")
            return scenario
        on_phone = _presentation(visit, scenario, ctx)
    for banner, size in ((ctx.banner, ""), (on_phone, " at 375x667")):
        if ctx.banner.reject_label is not None and banner.reject_on_first_layer:
            continue
        label = banner.reject_label
        problem = f"reject button {label!r} is not visible without scrolling{size}" if label else "no reject button on the first layer"
        scenario.findings.append(Finding(4, ctx.banner.site or ctx.banner.tool, ctx.url, ctx.url, scenario.name,
                                         f"{problem} (accept: {ctx.banner.accept_label!r})", vendor_id=None))
        break
    return scenario


def _presentation(visit: Visit, scenario: Scenario, ctx: Context) -> Banner:
    """The banner as a visitor sees it, at 1280x800 and 375x667 (rules 4-7, 15), ending in
    its second layer. Returns the banner as measured on the phone, for rule 4."""
    frame, where = ctx.banner.frame, {"tool": ctx.banner.site or ctx.banner.tool, "page": ctx.url, "scenario": scenario.name}
    visit.page.evaluate("() => window.scrollTo(0, 0)")
    first_layer = textmatch.scan(frame)
    measured = {"1280x800": dark_patterns.measure(frame)}
    visit.page.set_viewport_size(PHONE)
    on_phone = banners.remeasure(visit.page, ctx.banner)
    measured["375x667"] = dark_patterns.measure(frame)
    for size, values in measured.items():
        scenario.findings += dark_patterns.equal_weight(values, size, **where)
    labels = [b["label"] for b in (first_layer.get("reject"), first_layer.get("accept")) if b]
    scenario.findings += dark_patterns.wording([*labels, first_layer.get("text", "")], **where)
    layer, opened = dark_patterns.second_layer(frame, **where)
    scenario.findings += layer
    scenario.banner = {**ctx.banner.to_json(), "measured": measured,
                       "second_layer": opened or "no settings control found on the first layer"}
    return on_phone


def after_reject(ctx: Context) -> Scenario:
    """Reject, dwell, then reload and browse: nothing from trackers, no tracker cookies (rules 8, 9)."""
    scenario = Scenario("reject", ())
    where = {"page": ctx.url, "scenario": scenario.name}
    with ctx.visit() as visit:
        banner = _arrive(visit, ctx.url, ctx.banner)
        try:
            mark = visit.choose(banner, ())
        except ChoiceFailed as exc:
            scenario.banner = banner.to_json()
            scenario.findings.append(Finding(4, banner.site or banner.tool, ctx.url, ctx.url, scenario.name,
                                             f"refusing is not possible: {exc}"))
            _observe(visit, scenario, ctx)
            return scenario
        visit.dwell()
        scenario.banner = banner.to_json()
        scenario.screenshots["after reject"] = visit.screenshot()
        scenario.findings += _outside_choice(visit, mark, (), ctx, **where)
        later = visit.log.mark()
        visit.reload()
        visit.settle()
        if _asks_again(visit, banner):
            scenario.findings.append(Finding(9, banner.site or banner.tool, visit.page.url, ctx.url, scenario.name,
                                             "the banner asks again after a refusal"))
        visit.dwell()
        scenario.visited = [visit.page.url, *visit.browse(ctx.browse_pages)]
        scenario.findings += _outside_choice(visit, later, (), ctx, rule=9, **where)
        _observe(visit, scenario, ctx)
    return scenario


def _asks_again(visit: Visit, banner: Banner) -> bool:
    """Whether the reloaded, settled page shows the banner's reject button again (its refusal was not kept)."""
    if banner.kind == "gatekeeper":
        return bool(visit.page.locator(f"{banners.GK_BANNER} [role=dialog]:visible").count())
    found = [textmatch.scan(frame) for frame in visit.page.frames]
    return any(f.get("reject", {}).get("label") == banner.reject_label for f in found if banner.reject_label)


def after_accept(ctx: Context, categories: tuple[str, ...] | None) -> Scenario:
    """Accept `categories` (None: everything; then also a reload): only their vendors, declared cookies (rules 8, 13)."""
    name = "accept all" if categories is None else f"accept {', '.join(categories)} only"
    scenario = Scenario(name, categories)
    where = {"page": ctx.url, "scenario": scenario.name}
    with ctx.visit() as visit:
        banner = _arrive(visit, ctx.url, ctx.banner)
        mark = visit.choose(banner, categories)  # ChoiceFailed: the runner notes the scenario as not tried
        scenario.banner = banner.to_json()
        last = categories is None or len(ctx.declaration.optional_categories if ctx.declaration else ()) <= 1
        if last:  # a return visit: granted tags start from the stored decision, no banner
            visit.reload()
            visit.settle()
            scenario.screenshots["after accept"] = visit.screenshot()
        visit.dwell()
        scenario.visited = [visit.page.url]
        _observe(visit, scenario, ctx)
        scenario.findings += _outside_choice(visit, mark, categories, ctx, **where)
    return scenario


def plan(ctx: Context) -> list[tuple[str, tuple[str, ...] | None]]:
    """The choices to try after `before_choice` found the banner (none without one)."""
    choices: list[tuple[str, tuple[str, ...] | None]] = []
    if ctx.banner is None:
        return choices
    if ctx.banner.has_reject:
        choices.append(("reject", ()))
    optional = ctx.declaration.optional_categories if ctx.declaration else ()
    if ctx.banner.kind == "gatekeeper" and optional:
        choices += [("accept", (category,)) for category in optional]
        if len(optional) > 1:
            choices.append(("accept", None))
    elif ctx.banner.has_accept:
        choices.append(("accept", None))
    return choices
