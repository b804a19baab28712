"""gatekeeper.shop in real servers: the README's Flask, Django, Starlette and FastAPI shops (examples/)
serve a product page through the middleware, with Gatekeeper's tag, a forgotten hard-coded
gtag.js snippet and an undeclared heatmap, to real Chromium, in "report" and "enforce" mode.

Before any choice the undeclared vendor is blocked by the browser, the forgotten gtag is
reported (report mode) or blocked (enforce mode, with zero tracker requests) and the report
lands in Gatekeeper's monitor with its vendor and category. After accepting analytics the
page loads GA4 with no violation; after a withdrawal the next response expires the
declared HttpOnly cookie.
"""

from __future__ import annotations

import sqlite3
import time

import pytest

from gatekeeper.trackers import vendor_for_url

from .harness import new_context, wait_for_banner
from .server import Server, free_port
from .shops import FRAMEWORKS, Shop, free_shop_port, write_site

MODES = ("report", "enforce")
HEATMAP = "https://static.hotjar.com"
GOOGLE = ("googletagmanager.com", "google-analytics.com", "doubleclick.net")
GTAG_GA4 = "https://www.googletagmanager.com/gtag/js?id=G-ECOM12345"  # the site file's GA4
# How each fetch of a URL was started, from Resource Timing ("link": a preload).
PRELOADED = "url => performance.getEntriesByName(url).map(e => e.initiatorType)"

# Every violation of every document, recorded before any of the page's scripts run.
LISTEN = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__violations.push({uri: e.blockedURI, directive: e.effectiveDirective, disposition: e.disposition});
}, true);
"""


@pytest.fixture(scope="module")
def shop_servers(tmp_path_factory):
    """One Gatekeeper and, per framework and mode, one shop sharing its site file and keys."""
    work = tmp_path_factory.mktemp("shops")
    shops = {(f, m): Shop(f, m, free_shop_port(), work / f"{f}-{m}.log") for f in FRAMEWORKS for m in MODES}
    port = free_port()
    write_site(work / "sites", f"http://127.0.0.1:{port}", [s.url for s in shops.values()])
    gatekeeper = Server.start(work, sites_dir=work / "sites", port=port)
    try:
        for shop in shops.values():
            shop.start(work / "sites", gatekeeper.secret_keys)
        for shop in shops.values():
            shop.wait_ready(60)
        yield gatekeeper, shops
    finally:
        for shop in shops.values():
            shop.stop()
        gatekeeper.stop()


def monitor_rows(server: Server) -> list[dict]:
    with sqlite3.connect(server.db_path) as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute("SELECT * FROM csp_violations")]


def wait_for_report(server: Server, tab, timeout: float = 10.0, **expected) -> dict:
    """The monitor's row matching `expected`, once the browser's report has landed (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        rows = [r for r in monitor_rows(server) if all(r[k] == v for k, v in expected.items())]
        if rows:
            return rows[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"no monitor row with {expected} within {timeout}s; have {monitor_rows(server)}")
        tab.wait_for_timeout(100)


def violations(page) -> list[dict]:
    return page.evaluate("() => window.__violations")


class Outcomes:
    """Which requests of a context got an answer and which the browser stopped itself
    (Chromium fails a CSP block with "csp" before anything leaves the browser)."""

    def __init__(self, context) -> None:
        self.answered: list[str] = []
        self.blocked: list[str] = []
        context.on("requestfinished", lambda r: self.answered.append(r.url))
        context.on("requestfailed", lambda r: (self.blocked if r.failure == "csp" else self.answered).append(r.url))

    def trackers_answered(self) -> list[str]:
        return [url for url in self.answered if vendor_for_url(url)]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_shop_page_through_the_middleware(framework, mode, shop_servers, browser, tracker_log):
    gatekeeper, shops = shop_servers
    shop = shops[(framework, mode)]
    path = f"/product/{list(shops).index((framework, mode)) + 1}"  # one page per test in the shared monitor
    context = new_context(browser, tracker_log)
    context.add_init_script(LISTEN)
    outcomes = Outcomes(context)
    page = context.new_page()

    # Before any choice.
    with page.expect_response(f"{shop.url}{path}") as document:
        page.goto(f"{shop.url}{path}", wait_until="load")
    headers = document.value.headers
    assert ("content-security-policy-report-only" in headers) == (mode == "report")
    wait_for_banner(page)
    tracker_log.settle(page)
    seen = violations(page)
    heatmap = [v for v in seen if v["uri"].startswith(HEATMAP)]
    assert "enforce" in {v["disposition"] for v in heatmap}, seen  # blocked (and reported too, in report mode)
    assert any(u.startswith(HEATMAP) for u in outcomes.blocked) and not any(u.startswith(HEATMAP) for u in outcomes.answered)
    gtag = [v for v in seen if "googletagmanager.com/gtag/js" in v["uri"]]
    assert [v["disposition"] for v in gtag] == [mode], seen
    if mode == "enforce":
        assert outcomes.trackers_answered() == [], outcomes.answered
    else:  # the forgotten tag did fire: report-only cannot stop it, only tell
        assert any("googletagmanager.com/gtag/js" in u for u in outcomes.trackers_answered())
    row = wait_for_report(gatekeeper, page, vendor="ga4", page=path, decided="undecided")
    assert (row["category"], row["blocked"], row["disposition"]) == ("analytics", "https://www.googletagmanager.com", mode)
    wait_for_report(gatekeeper, page, vendor="hotjar", category="analytics", page=path, disposition="enforce")

    # Accepting analytics. In enforce mode the bundle reloads the page by itself: the CSP it
    # was sent with cannot widen. In report mode the next page view gets the wider policy.
    mark = tracker_log.mark()
    if mode == "enforce":
        with page.expect_response(f"{shop.url}{path}") as reloaded:
            page.evaluate("() => { gatekeeper.accept(['analytics']) }")
    else:
        page.evaluate("() => gatekeeper.accept(['analytics'])")
        with page.expect_response(f"{shop.url}{path}") as reloaded:
            page.reload(wait_until="load")
    assert reloaded.value.status == 200
    page.wait_for_load_state("load")
    tracker_log.wait_for(page, "google-analytics.com/g/collect", since=mark)
    tracker_log.settle(page)
    assert page.locator("#measured").count() == 1  # the shop's server saw the consent
    # The returning visitor's GA4 was preloaded with the page, and the gate's own
    # <script src> took that response: this page fetched it once, by the preload.
    assert reloaded.value.headers.get("link") == f"<{GTAG_GA4}>; rel=preload; as=script"
    assert page.evaluate(PRELOADED, GTAG_GA4) == ["link"]
    assert page.evaluate(f"() => [...document.scripts].filter(s => s.src === {GTAG_GA4!r}).length") == 1
    after = [v for v in violations(page) if any(g in v["uri"] for g in GOOGLE)]
    assert after == [], after
    assert "FPID" in {c["name"] for c in context.cookies() if c["httpOnly"]}

    # Withdrawal: the next response expires the HttpOnly cookie the bundle cannot delete.
    page.evaluate("() => gatekeeper.withdraw()")
    with page.expect_response(f"{shop.url}{path}") as next_page:
        page.reload(wait_until="load")
    expired = [h["value"] for h in next_page.value.headers_array() if h["name"].lower() == "set-cookie"]
    assert any(v.startswith('FPID=""') and "Max-Age=0" in v for v in expired), expired
    assert "FPID" not in {c["name"] for c in context.cookies()}
    assert page.locator("#measured").count() == 0
    context.close()


def test_the_audit_reports_the_tags_the_shops_csp_stopped(shop_servers, browser):
    """`gatekeeper audit`'s first scenario on the enforce-mode shop: no tracker request is
    seen (the CSP stopped them), yet the forgotten gtag and the heatmap are rule 1 findings."""
    from gatekeeper.audit.scenarios import Context, before_choice

    _, shops = shop_servers
    url = f"{shops[('starlette', 'enforce')].url}/product/99"
    scenario = before_choice(Context(browser, url, offline_trackers=True, dwell=1.0))
    assert [s.url for s in scenario.requests if s.vendor is not None] == []
    found = {(f.rule, f.vendor_id) for f in scenario.findings if "Content-Security-Policy" in f.message}
    assert found == {(1, "ga4"), (1, "hotjar")}, scenario.findings
    assert {v["disposition"] for v in scenario.csp_violations if "hotjar" in v["url"]} == {"enforce"}
