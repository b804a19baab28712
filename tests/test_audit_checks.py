"""The audit's checks on observations made by hand: which rule, vendor and URL each
finding names, and the command's usage errors (no browser needed)."""

import time
from pathlib import Path

from click.testing import CliRunner

from gatekeeper.audit import checks
from gatekeeper.audit.banner import ACCEPT_LABELS, REJECT_LABELS
from gatekeeper.audit.declared import Declaration
from gatekeeper.audit.findings import Finding, merge
from gatekeeper.audit.network import Seen, is_third_party, site_of
from gatekeeper.audit.storage import ObservedCookie
from gatekeeper.cli import main
from gatekeeper.declaration import declaration
from gatekeeper.sites import load_sites
from gatekeeper.trackers import vendor_for_cookie, vendor_for_url

SITES_DIR = Path(__file__).resolve().parent.parent / "sites"

PAGE = "https://shop.example/"
WHERE = {"page": PAGE, "scenario": "test"}


def seen(url: str) -> Seen:
    return Seen(url, "GET", "script", vendor_for_url(url), 0.0)


def cookie(name: str, days: float | None = 30) -> ObservedCookie:
    expires = -1 if days is None else time.time() + days * 86400
    return ObservedCookie(name, "shop.example", "/", False, False, expires, vendor_for_cookie(name))


def ecomarket() -> Declaration:
    return Declaration.from_json(declaration(load_sites(SITES_DIR)["ecomarket"]), "https://x/gk/ecomarket/cookies.json")


def test_a_tracker_before_a_choice_is_rule_1_with_vendor_and_url():
    url = "https://www.googletagmanager.com/gtag/js?id=G-ABC123"
    [finding] = checks.trackers_before_choice([seen(PAGE + "app.js"), seen(url)], [], **WHERE)
    assert (finding.rule, finding.vendor, finding.vendor_id, finding.url) == (1, "Google Analytics 4", "ga4", url)


def test_tracker_and_consent_cookies_before_a_choice_are_rule_2():
    found = checks.storage_before_choice(
        [cookie("cart"), cookie("_fbp"), cookie("gk_consent")], {"local": ["_hjid"], "session": []}, None, **WHERE
    )
    assert [(f.rule, f.vendor_id) for f in found] == [(2, "meta_pixel"), (2, "gatekeeper"), (2, "hotjar")]


def test_analytics_only_allows_only_the_declared_analytics_vendors():
    requests = [seen("https://region1.google-analytics.com/g/collect"), seen("https://connect.facebook.net/nl_NL/fbevents.js")]
    [finding] = checks.requests_outside_choice(requests, ("analytics",), ecomarket(), **WHERE)
    assert (finding.rule, finding.vendor_id, finding.message) == (8, "meta_pixel", "marketing tracker contacted with analytics granted")
    assert checks.requests_outside_choice(requests[:1], ("analytics",), ecomarket(), **WHERE) == []


def test_cookies_against_the_declaration():
    found = checks.cookies_outside_choice(
        [cookie("_ga", 400), cookie("_gcl_au", 90), cookie("_hjSessionUser_1", 365), cookie("fbm_1", 500), cookie("gk_consent", 182)],
        ("analytics", "social"), ecomarket(), **WHERE,
    )
    messages = {f.rule: f.message for f in found}
    assert [f.rule for f in found] == [8, 13, 13]
    assert messages[8] == "marketing cookie _gcl_au set with analytics, social granted"
    assert "cookie _hjSessionUser_1 (shop.example/) is not in the declaration" in [f.message for f in found]
    assert "cookie fbm_1 lives 500 days, declared 365" in [f.message for f in found]


def test_without_a_declaration_accept_all_allows_any_vendor_but_reject_none():
    requests = [seen("https://bat.bing.com/bat.js")]
    assert checks.requests_outside_choice(requests, None, None, **WHERE) == []
    [finding] = checks.requests_outside_choice(requests, (), None, rule=9, **WHERE)
    assert (finding.rule, finding.vendor) == (9, "Microsoft Advertising")


def test_repeated_findings_are_merged_and_counted():
    finding = Finding(1, "Meta pixel", "https://www.facebook.com/tr?id=1", PAGE, "before consent", "request", "meta_pixel")
    [merged] = merge([finding, finding, finding])
    assert merged.count == 3 and merged.line().endswith("request (3x) · https://www.facebook.com/tr?id=1")


def test_third_parties_are_other_sites():
    assert site_of("www.shop.co.uk") == "shop.co.uk" and site_of("a.b.shop.be") == "shop.be"
    assert not is_third_party("https://cdn.shop.be/x.js", "https://www.shop.be/")
    assert is_third_party("https://connect.facebook.net/x.js", "https://www.shop.be/")
    assert not is_third_party("data:text/plain,x", "https://www.shop.be/")


def test_banner_labels_cover_four_languages():
    assert set(ACCEPT_LABELS) == set(REJECT_LABELS) == {"nl", "fr", "en", "de"}
    assert "alles weigeren" in REJECT_LABELS["nl"] and "tout refuser" in REJECT_LABELS["fr"]


def test_audit_rejects_what_is_not_a_url():
    result = CliRunner().invoke(main, ["audit", "www.shop.example"])
    assert result.exit_code == 2
    assert "'www.shop.example' is not an http(s) URL" in result.output


def test_audit_needs_a_url():
    result = CliRunner().invoke(main, ["audit"])
    assert result.exit_code == 2 and "Missing argument 'URL [URL...]'" in result.output


def test_trackers_on_a_page_without_a_banner_break_rules_1_and_4():
    found = checks.trackers_before_choice([seen("https://www.googletagmanager.com/gtag/js?id=G-X1")], [], **WHERE)
    found += checks.storage_before_choice([cookie("_ga")], {"local": [], "session": []}, None, **WHERE)
    [rule_4] = checks.no_banner(found, "no consent banner found", **WHERE)
    assert rule_4.rule == 4 and rule_4.message.startswith("no way to refuse: Google Analytics 4 before any choice")
    assert sorted({f.rule for f in found + [rule_4]}) == [1, 2, 4]


def test_a_page_without_trackers_needs_no_banner():
    assert checks.no_banner([], "no consent banner found", **WHERE) == []


def test_a_request_finding_says_what_triggered_it_and_when():
    late = Seen("https://www.google-analytics.com/g/collect?v=2", "GET", "image", vendor_for_url("https://www.google-analytics.com/g/collect"),
                0.0, "timer", 12.5)
    [finding] = checks.trackers_before_choice([late], [], **WHERE)
    assert finding.when == "timer, page time 12.5 s"
    assert finding.line().endswith("· sent timer, page time 12.5 s")


def test_google_tags_under_a_consent_mode_default_before_a_choice_are_rule_18():
    requests = [seen("https://www.googletagmanager.com/gtag/js?id=G-X1"), seen("https://www.googletagmanager.com/gtag/js?id=AW-1")]
    default = [{"ad_storage": "denied", "analytics_storage": "denied", "wait_for_update": 800}]
    [finding] = checks.consent_mode_before_choice(requests, default, **WHERE)
    assert finding.rule == 18 and finding.vendor_id == "ga4"
    assert "(default: ad_storage denied, analytics_storage denied): advanced mode" in finding.message
    assert finding.measured["google_requests"] == 2
    assert checks.consent_mode_before_choice(requests, [], **WHERE) == []  # no Consent Mode: rule 1 alone
    assert checks.consent_mode_before_choice([], default, **WHERE) == []  # basic mode: nothing loaded
