"""The audit's reading of a page's own Content-Security-Policy at work: a tracker tag that
tried to run outside the choice is a finding, blocked or only reported."""

from gatekeeper.audit.checks import csp_violations

GTAG = {"url": "https://www.googletagmanager.com/gtag/js?id=G-FORGOTTEN1", "directive": "script-src-elem", "disposition": "enforce"}
HOTJAR = {"url": "https://static.hotjar.com/c/hotjar-1.js", "directive": "script-src-elem", "disposition": "report"}
INLINE = {"url": "inline", "directive": "script-src-elem", "disposition": "enforce"}
CDN = {"url": "https://cdn.example.com/x.js", "directive": "script-src-elem", "disposition": "enforce"}


def test_before_any_choice_every_tracker_violation_is_a_rule_1_finding():
    found = csp_violations([GTAG, HOTJAR, INLINE, CDN], (), None, page="https://shop/", scenario="before consent", rule=1)
    assert [(f.rule, f.vendor_id, f.url) for f in found] == [(1, "ga4", GTAG["url"]), (1, "hotjar", HOTJAR["url"])]
    assert found[0].message == ("analytics tag tried to run with nothing granted "
                                "(blocked by the page's Content-Security-Policy, script-src-elem)")
    assert "reported by the page's Content-Security-Policy" in found[1].message


def test_a_granted_category_is_no_finding_and_accept_all_elsewhere_judges_nothing():
    assert csp_violations([GTAG, HOTJAR], ("analytics",), None, page="p", scenario="s") == []
    assert [f.vendor_id for f in csp_violations([GTAG], ("marketing",), None, page="p", scenario="s")] == ["ga4"]
    assert csp_violations([GTAG], None, None, page="p", scenario="s") == []  # accept-all, no declaration
