"""`gatekeeper audit`: both demo shops pass clean (exit 0), each broken QA page fails with
the finding that names its rule, vendor and URL (exit 1), trackers on a page without a
banner are rules 1 and 4 (exit 1), late tags are caught with their trigger time, and only
a page that cannot be loaded exits 2.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from .qa_server import AUDIT_TIMEOUT, explain, run_audit
from .server import free_port

pytestmark = pytest.mark.timeout(AUDIT_TIMEOUT + 30)

# page -> (rule, vendor id or name, fragment of the URL, scenario) it must be reported with
EXPECTED = {
    "hardcoded-gtag": (1, "ga4", "www.googletagmanager.com/gtag/js?id=G-QAHARD123", "before consent"),
    "pixel-ignores-decision": (8, "meta_pixel", "connect.facebook.net/nl_NL/fbevents.js", "reject"),
    "no-reject": (4, None, "/qa/no-reject", "before consent"),
    "undeclared-cookie": (13, "hotjar", "/qa/undeclared-cookie", "accept analytics only"),
    "dark-patterns": (7, None, "/qa/dark-patterns", "before consent"),
}


@pytest.fixture(scope="module")
def audits(qa_server, tmp_path_factory):
    """Every audit run of this module, started at once, two at a time: an audit spends
    most of its time waiting for the network to settle. Each run: (result, its folder).
    """
    # A short --dwell: the page clock does the waiting, the real wait stays bounded.
    runs = {
        "broken": ["--offline-trackers", "--dwell", "3", *map(qa_server.qa_url, EXPECTED), "--json", "audit.json"],
        "demo": ["--offline-trackers", "--dwell", "3", qa_server.page_url("ecomarket"), qa_server.page_url("locomail"),
                 "--json", "audit.json", "--html", "audit.html"],
        "crawl": ["--offline-trackers", "--dwell", "1", "--crawl", "1", qa_server.qa_url("no-reject"), "--json", "audit.json"],
        "no banner": ["--offline-trackers", "--dwell", "1", qa_server.qa_url("no-banner"), qa_server.qa_url("trackers-no-banner"),
                      "--json", "audit.json"],
        "late": ["--offline-trackers", "--dwell", "15", qa_server.qa_url("late-tags"), "--json", "audit.json"],
        "cannot": [f"http://127.0.0.1:{free_port()}/shop", "--json", "audit.json"],
    }
    with ThreadPoolExecutor(max_workers=2) as pool:
        folders = {name: tmp_path_factory.mktemp(f"audit-{name.replace(' ', '-')}") for name in runs}
        futures = {name: pool.submit(run_audit, *args, cwd=folders[name]) for name, args in runs.items()}
        yield {name: (lambda name=name: (futures[name].result(), folders[name])) for name in runs}


def test_demo_shops_are_clean(audits, qa_server):
    result, folder = audits["demo"]()
    report, html = folder / "audit.json", folder / "audit.html"
    assert result.returncode == 0, explain(result, qa_server)
    assert "2 page(s): 2 clean, 0 with violations, 0 not audited · exit 0" in result.stdout

    pages = {page["url"].rsplit("/", 1)[-1]: page for page in json.loads(report.read_text())["pages"]}
    ecomarket = {s["name"]: s for s in pages["ecomarket"]["scenarios"]}
    assert list(ecomarket) == [
        "before consent", "reject", "accept analytics only", "accept marketing only",
        "accept social only", "accept personalisation only", "accept all",
    ]
    assert pages["ecomarket"]["banner"]["kind"] == "gatekeeper"
    assert pages["ecomarket"]["banner"]["reject_label"] == "Alles weigeren"
    assert pages["ecomarket"]["declaration"].endswith("/gk/ecomarket/cookies.json")
    assert not [r for r in ecomarket["before consent"]["requests"] if r["tracker"]]
    assert ecomarket["accept analytics only"]["vendors"] == ["Google Analytics 4"]
    assert ecomarket["accept marketing only"]["vendors"] == ["Google Ads"]
    assert ecomarket["accept social only"]["vendors"] == ["Facebook SDK"]
    assert ecomarket["accept personalisation only"]["vendors"] == ["Nosto"]
    cookies = {c["name"]: c for c in ecomarket["accept all"]["cookies"]}
    assert cookies["_ga"]["declared_category"] == "analytics" and cookies["_ga"]["vendor"] == "ga4"
    assert cookies["gk_consent"]["declared_category"] == "necessary"
    assert [s["name"] for s in pages["locomail"]["scenarios"]] == ["before consent", "reject", "accept analytics only"]

    # progress: a line per page and scenario, on stderr
    assert f"[1] {qa_server.page_url('ecomarket')} · Gatekeeper site 'ecomarket' · before consent:" in result.stderr
    assert f"[2] {qa_server.page_url('locomail')} · accept analytics only:" in result.stderr

    document = html.read_text()
    assert document.count('src="data:image/jpeg;base64,') >= 4  # banner before and after, per shop
    assert 'src="http' not in document  # stands alone


@pytest.fixture
def broken_audit(audits):
    result, folder = audits["broken"]()
    report = folder / "audit.json"
    return result, json.loads(report.read_text()) if report.exists() else None


def test_broken_pages_exit_1(broken_audit, qa_server):
    result, document = broken_audit
    assert result.returncode == 1, explain(result, qa_server)
    assert document["exit_code"] == 1 and document["outcome"] == "violations found"
    assert [page["status"] for page in document["pages"]] == ["violations"] * len(EXPECTED)


@pytest.mark.parametrize("name", EXPECTED)
def test_each_broken_page_is_caught_by_its_rule(broken_audit, qa_server, name):
    result, document = broken_audit
    rule, vendor, url, scenario = EXPECTED[name]
    page = next(p for p in document["pages"] if p["url"] == qa_server.qa_url(name))
    matching = [
        f for f in page["findings"]
        if f["rule"] == rule and f["vendor_id"] == vendor and url in f["url"] and f["scenario"] == scenario
    ]
    assert matching, json.dumps(page["findings"], indent=1)
    finding = matching[0]
    # the terminal names the same rule, vendor and URL
    assert f"[{scenario}] rule {rule} ({finding['title']}) · {finding['vendor']} · {finding['message']}" in result.stdout
    assert finding["url"] in result.stdout


def test_dark_patterns_are_measured_on_any_banner(broken_audit, qa_server):
    _, document = broken_audit
    page = next(p for p in document["pages"] if p["url"] == qa_server.qa_url("dark-patterns"))
    found = {f["rule"]: f for f in reversed(page["findings"])}
    assert set(found) == {5, 6, 7, 15}, json.dumps(page["findings"], indent=1)
    # rule 5 with what was measured, on both sizes
    sizes = {f["measured"]["viewport"] for f in page["findings"] if f["rule"] == 5}
    assert sizes == {"1280x800", "375x667"}
    weight = next(f for f in page["findings"] if f["rule"] == 5 and "differ at 1280x800" in f["message"])
    reject, accept = weight["measured"]["reject"], weight["measured"]["accept"]
    assert (reject["element"], accept["element"]) == ("link", "button")
    assert (reject["font_size"], accept["font_size"]) == ("12px", "18px") and reject["text_decoration"] == "underline"
    contrast = next(f for f in page["findings"] if f["rule"] == 5 and "contrast" in f["message"])
    assert contrast["measured"]["reject"]["contrast"] == 2.85  # #999 on white
    assert found[6]["measured"] == {"phrase": "ich möchte nicht"}
    assert found[7]["message"] == "pre-ticked in the second layer (opened with 'Einstellungen'): 'Marketing'"
    assert found[15]["measured"] == {"phrase": "berechtigter interessen"}
    assert page["banner"]["tool"] == "unrecognised banner" and "text matcher" in page["banner"]["detected_by"]


def test_report_has_every_request_and_cookie(broken_audit, qa_server):
    _, document = broken_audit
    page = next(p for p in document["pages"] if p["url"] == qa_server.qa_url("pixel-ignores-decision"))
    reject = next(s for s in page["scenarios"] if s["name"] == "reject")
    pixel = [r for r in reject["requests"] if r["vendor"] == "meta_pixel"]
    assert pixel and all(r["tracker"] and r["third_party"] and r["category"] == "marketing" for r in pixel)
    assert any(r["url"].startswith(qa_server.url) and not r["third_party"] for r in reject["requests"])
    fbp = next(c for c in reject["cookies"] if c["name"] == "_fbp")
    assert fbp["vendor"] == "meta_pixel" and fbp["tracker"] and 80 < fbp["lifetime_days"] <= 90
    assert set(reject["storage"]) == {"local", "session"}
    assert len(reject["visited"]) == 3  # the reloaded page and two same-site pages


def test_only_a_page_that_cannot_be_loaded_exits_2(audits, qa_server):
    result, folder = audits["cannot"]()
    assert result.returncode == 2, explain(result, qa_server)
    [unreachable] = json.loads((folder / "audit.json").read_text())["pages"]
    url = unreachable["url"]
    assert f"NOT AUDITED  {url}: could not load {url}: net::ERR_CONNECTION_REFUSED" in result.stdout
    assert "1 page(s): 0 clean, 0 with violations, 1 not audited · exit 2 (some pages could not be audited)" in result.stdout
    assert unreachable["status"] == "not audited" and unreachable["scenarios"] == []


def test_trackers_without_a_banner_break_rules_1_and_4(audits, qa_server):
    result, folder = audits["no banner"]()
    assert result.returncode == 1, explain(result, qa_server)
    quiet, leaking = json.loads((folder / "audit.json").read_text())["pages"]
    # No trackers, no banner: nothing to consent to, so clean, with a note saying so.
    assert quiet["status"] == "clean" and quiet["banner"] is None and quiet["findings"] == []
    assert "no tracker was seen before any choice, so none was needed" in quiet["notes"][0]
    # Trackers, no banner: the first scenario still ran and reports what loaded.
    assert leaking["status"] == "violations" and leaking["error"] is None
    assert [s["name"] for s in leaking["scenarios"]] == ["before consent"]
    rules = {(f["rule"], f["vendor_id"]) for f in leaking["findings"]}
    assert {(1, "ga4"), (2, "ga4"), (4, None)} <= rules
    assert "rule 4 (Reject on the first layer) · consent banner · no way to refuse: Google Analytics 4 before any choice" in result.stdout
    assert "2 page(s): 1 clean, 1 with violations, 0 not audited · exit 1" in result.stdout


# The late-tags page: url fragment -> (vendor, the trigger, the page time window in seconds)
LATE = {
    "qa=timer-1500ms": ("microsoft_clarity", {"load", "timer", "after dwell"}, (1.4, 4.0)),
    "en=timer_12s": ("ga4", {"timer"}, (12.0, 15.0)),  # the checkpoint it fired by; 15: the dwell's end
    "qa=idle": ("google_ads", {"load", "timer"}, (0.0, 4.0)),
    "ev=ScrollDepth90": ("meta_pixel", {"scroll"}, (0.0, 6.0)),
}


@pytest.mark.parametrize("fragment", LATE)
def test_late_tags_are_caught_with_their_trigger_time(audits, qa_server, fragment):
    result, folder = audits["late"]()
    assert result.returncode == 1, explain(result, qa_server)
    [page] = json.loads((folder / "audit.json").read_text())["pages"]
    vendor, triggers, (earliest, latest) = LATE[fragment]
    before = page["scenarios"][0]
    [request] = [r for r in before["requests"] if fragment in r["url"]]
    assert request["vendor"] == vendor and request["trigger"] in triggers, request
    assert earliest <= request["page_time"] <= latest, request
    # Rule 1 names the request; a Google request may also carry rule 18 (advanced Consent Mode).
    [finding] = [f for f in page["findings"]
                 if f["scenario"] == "before consent" and f["rule"] == 1 and fragment in f["url"]]
    assert finding["when"] == f"{request['trigger']}, page time {request['page_time']:.1f} s"
    assert f"{finding['url']} · sent {finding['when']}" in result.stdout


def test_crawl_follows_same_site_links(audits, qa_server):
    result, folder = audits["crawl"]()
    assert result.returncode == 1, explain(result, qa_server)
    pages = json.loads((folder / "audit.json").read_text())["pages"]
    start = qa_server.qa_url("no-reject")
    assert [(p["url"], p["found_via"]) for p in pages] == [(start, None), (f"{start}?page=2", start)]
    assert all(any(f["rule"] == 4 for f in p["findings"]) for p in pages)
