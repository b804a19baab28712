"""Strict CSP: on the demo's `?csp=1` variant (`script-src 'nonce-…'`, `style-src 'nonce-…'`,
no 'unsafe-inline') the banner shows, reject and accept work, every tag the gate releases
runs with the embedding tag's nonce, and the browser reports zero CSP violations.
"""

import pytest

from .harness import BANNER, SITES, choose, open_demo, own_tags, wait_for_banner

# Collects violations from the first moment of every document, before any script runs.
LISTEN = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sample || ''));
}, true);
"""


@pytest.mark.parametrize("site", sorted(SITES))
def test_strict_csp_banner_works_with_zero_violations(site, server, context, page, tracker_log):
    context.add_init_script(LISTEN)
    console_errors = []
    page.on("console", lambda m: m.type == "error" and console_errors.append(m.text))
    page.on("pageerror", lambda e: console_errors.append(str(e)))
    with page.expect_response(lambda r: "/demo/" in r.url) as document:
        open_demo(page, server, site, csp="1")
    policy = document.value.headers["content-security-policy"]
    assert "script-src 'nonce-" in policy and "unsafe-inline" not in policy

    wait_for_banner(page)
    choose(page, "reject")
    page.locator("gatekeeper-settings button").click()
    page.locator(f"{BANNER} button[data-gk=save]").wait_for(state="visible")  # preferences fetched
    choose(page, "accept")
    tracker_log.wait_for(page, "google-analytics.com/g/collect")
    page.wait_for_function("() => document.documentElement.dataset.ownAnalytics === 'loaded'", timeout=5_000)
    tracker_log.settle(page)

    nonce = page.evaluate("() => document.querySelector('script[src*=\"/gk/\"]').nonce")
    released = page.evaluate(
        "() => Array.from(document.scripts).filter(s => !s.src.includes('/gk/')).map(s => [s.src || 'inline', s.nonce])"
    )
    assert nonce and released and all(n == nonce for _, n in released), released
    assert set(own_tags(page)) >= {f"own{c.capitalize()}" for c in SITES[site].categories}
    assert page.evaluate("() => window.__cspViolations") == []
    assert console_errors == []
