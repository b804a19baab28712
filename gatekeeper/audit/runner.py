"""Auditing a list of pages: one Chromium, every scenario per page, `--crawl` following
same-site links, and the outcome that decides the exit code.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urlsplit

from playwright.sync_api import Error

from .. import browser as chromium
from . import scenarios
from .banner import Banner, ChoiceFailed, NoBanner
from .declared import Declaration
from .dwell import DEFAULT_DWELL
from .findings import Finding, merge
from .scenarios import Scenario
from .visit import Unreachable

CLEAN, VIOLATIONS, NOT_AUDITED = 0, 1, 2


class AuditError(Exception):
    """The audit cannot run at all (no browser)."""


@dataclass
class PageAudit:
    url: str
    found_via: str | None = None  # the page whose link led here (--crawl)
    banner: Banner | None = None
    declaration: Declaration | None = None
    scenarios: list[Scenario] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:
        found = merge([f for s in self.scenarios for f in s.findings])
        seen, unique = set(), []
        for finding in found:  # an undeclared cookie is one finding per page, not per scenario
            key = (finding.rule, finding.message) if finding.rule == 13 else id(finding)
            if key not in seen:
                seen.add(key)
                unique.append(finding)
        return unique

    @property
    def status(self) -> str:
        if self.error:
            return "not audited"
        return "violations" if self.findings else "clean"


@dataclass
class Audit:
    pages: list[PageAudit] = field(default_factory=list)
    offline_trackers: bool = False
    dwell: float = DEFAULT_DWELL  # seconds of page time each scenario stayed
    started: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    @property
    def exit_code(self) -> int:
        if not self.pages or any(p.error for p in self.pages):
            return NOT_AUDITED
        return VIOLATIONS if any(p.findings for p in self.pages) else CLEAN


Progress = Callable[[str], None]


def _scenario_line(scenario: Scenario) -> str:
    trackers = [s for s in scenario.requests if s.vendor is not None]
    cookies = [c for c in scenario.cookies if c.vendor is not None]
    verdict = f"{len(scenario.findings)} finding(s)" if scenario.findings else "ok"
    return (f"{scenario.name}: {len(scenario.requests)} requests, {len(trackers)} to trackers"
            f"{' (' + ', '.join(scenario.vendors) + ')' if scenario.vendors else ''}, "
            f"{len(scenario.cookies)} cookies ({len(cookies)} tracker) · {verdict}")


def _kind(banner: Banner | None) -> str:
    if banner is None:
        return "no consent banner"
    if banner.kind == "gatekeeper":
        return f"Gatekeeper site {banner.site!r}"
    return f"{banner.tool} ({banner.detected_by})"


def audit_page(browser, page: PageAudit, *, offline_trackers: bool, progress: Progress, label: str,
               dwell: float = DEFAULT_DWELL) -> list[str]:
    """Every scenario on one page; returns the same-site links found for --crawl."""
    started = time.monotonic()
    ctx = scenarios.Context(browser, page.url, offline_trackers=offline_trackers, dwell=dwell)
    try:
        first = scenarios.before_choice(ctx)
        page.banner, page.declaration, page.notes = ctx.banner, ctx.declaration, ctx.notes
        page.scenarios.append(first)
        progress(f"{label} {page.url} · {_kind(ctx.banner)} · {_scenario_line(first)}")
        for action, categories in scenarios.plan(ctx):
            try:
                scenario = scenarios.after_reject(ctx) if action == "reject" else scenarios.after_accept(ctx, categories)
            except NoBanner as exc:
                ctx.notes.append(f"{action}: not tried, the banner did not show again in a fresh visit ({exc})")
                continue
            except ChoiceFailed as exc:
                ctx.notes.append(f"{action}: not tried, {exc}")
                continue
            page.scenarios.append(scenario)
            progress(f"{label} {page.url} · {_scenario_line(scenario)}")
    except Unreachable as exc:
        page.error = str(exc)
        progress(f"{label} {page.url} · NOT AUDITED: {exc}")
    except Error as exc:
        page.error = f"the browser failed on {page.url}: {str(exc).splitlines()[0]}"
        progress(f"{label} {page.url} · NOT AUDITED: {page.error}")
    page.seconds = round(time.monotonic() - started, 1)
    return ctx.links


def run(urls: list[str], *, crawl: int = 0, offline_trackers: bool = False, progress: Progress = print,
        dwell: float = DEFAULT_DWELL) -> Audit:
    audit = Audit(offline_trackers=offline_trackers, dwell=dwell)
    with chromium.started(AuditError) as browser:
        seen: set[str] = set()
        for start in urls:
            queue: list[tuple[str, str | None]] = [(start, None)]
            budget = crawl
            while queue:
                url, parent = queue.pop(0)
                if url in seen:
                    continue
                seen.add(url)
                page = PageAudit(url, found_via=parent)
                audit.pages.append(page)
                links = audit_page(browser, page, offline_trackers=offline_trackers, progress=progress,
                                   label=f"[{len(audit.pages)}]", dwell=dwell)
                for link in links:
                    if budget <= 0:
                        break
                    if link not in seen and urlsplit(link).netloc == urlsplit(start).netloc and link not in [q[0] for q in queue]:
                        queue.append((link, url))
                        budget -= 1
    return audit

