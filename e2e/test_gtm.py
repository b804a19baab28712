"""Google Tag Manager in Consent Mode basic (docs/rules.md, rules 1, 17 and 18): nothing from Google
before a choice, the container only after a category it serves is granted, `default`
denied with `wait_for_update` before it, one `update` per decision mapped from the site's
own categories, and a `gatekeeper_consent` dataLayer event on load, after each decision and
after a withdrawal. The shops use custom category ids (statistik, werbung).
"""

from __future__ import annotations

import pytest

from .harness import GOOGLE_VENDORS, data_layer, wait_for_banner
from .server import Server

SHOP = """
id = "{id}"
name = "GTM shop"
controller = "GTM shop GmbH"
address = "Aachen"
policy_url = "https://shop.example/privacy"
languages = ["en"]

[[categories]]
id = "statistik"
name = "Statistik"
description = "Besuche messen."
consent_mode = ["analytics_storage"]

[[categories]]
id = "werbung"
name = "Werbung"
description = "Anzeigen."
consent_mode = ["ad_storage", "ad_user_data", "ad_personalization"]

[[services]]
preset = "gtm"
params = {{ container_id = "GTM-GK12345" }}
category = "{category}"
loader = {{ categories = {serves} }}
"""
GTM_JS = "googletagmanager.com/gtm.js?id=GTM-GK12345"


@pytest.fixture(scope="module")
def gtm_server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("gtm")
    sites = workdir / "sites"
    sites.mkdir()
    (sites / "gtmshop.toml").write_text(SHOP.format(id="gtmshop", category="statistik", serves='["statistik", "werbung"]'))
    (sites / "gtmads.toml").write_text(SHOP.format(id="gtmads", category="werbung", serves='["werbung"]'))
    server = Server.start(workdir, sites_dir=sites)
    yield server
    server.stop()


def open_shop(page, server, site):
    url = f"{server.url}/shop/{site}"
    html = f'<!doctype html><html lang="en"><head><title>{site}</title></head><body><h1>Shop</h1><script src="{server.url}/gk/{site}.js"></script></body></html>'
    page.context.route(url, lambda route: route.fulfill(body=html, content_type="text/html"))
    page.goto(url, wait_until="load")


def google(tracker_log, since=0):
    return [s for s in tracker_log.trackers(since) if s.vendor.id in GOOGLE_VENDORS]


def consent(entries, kind):
    return [e[2] for e in entries if isinstance(e, list) and e[:2] == ["consent", kind]]


def events(entries, name="gatekeeper_consent"):
    return [e for e in entries if isinstance(e, dict) and e.get("event") == name]


def decide(page, categories):
    page.evaluate("c => window.gatekeeper.accept(c)", categories)
    page.wait_for_function("n => window.gatekeeper.decision && window.gatekeeper.decision.id", timeout=5_000)


def test_the_container_waits_for_a_category_it_serves(gtm_server, page, tracker_log):
    open_shop(page, gtm_server, "gtmads")
    wait_for_banner(page)
    tracker_log.settle(page)
    assert google(tracker_log) == [], tracker_log.describe()
    [default] = consent(data_layer(page), "default")
    assert default["wait_for_update"] > 0 and default["ad_storage"] == default["analytics_storage"] == "denied"

    decide(page, ["statistik"])  # the container serves werbung only
    tracker_log.settle(page)
    assert google(tracker_log) == [], tracker_log.describe()
    assert events(data_layer(page))[-1]["gatekeeper_categories"] == ["statistik"]

    mark = tracker_log.mark()
    decide(page, ["statistik", "werbung"])
    tracker_log.wait_for(page, GTM_JS, since=mark)


def test_consent_mode_basic_with_custom_categories_and_the_datalayer_event(gtm_server, page, tracker_log):
    open_shop(page, gtm_server, "gtmshop")
    wait_for_banner(page)
    tracker_log.settle(page)
    assert google(tracker_log) == [], "no request to Google before a choice (rules 1 and 18)"
    assert events(data_layer(page)) == [], "no decision yet, no event"

    decide(page, ["statistik"])
    tracker_log.wait_for(page, GTM_JS)
    page.wait_for_function("() => window.__gkStandinGtm && window.__gkStandinGtm.fired.length > 0", timeout=5_000)
    at_start = page.evaluate("() => window.__gkStandinGtm.atStart")
    kinds = [e[1] if isinstance(e, list) else e.get("event") for e in at_start]
    assert kinds.index("default") < kinds.index("gtm.js"), at_start
    entries = data_layer(page)
    [update] = consent(entries, "update")  # one update for one decision
    assert (update["analytics_storage"], update["ad_storage"], update["ad_user_data"]) == ("granted", "denied", "denied")
    [event] = events(entries)
    assert event["gatekeeper_categories"] == ["statistik"]
    assert entries.index(event) > next(i for i, e in enumerate(entries) if isinstance(e, list) and e[:2] == ["consent", "update"])

    mark = tracker_log.mark()
    page.reload(wait_until="load")  # the stored decision: the event fires on load, once
    tracker_log.wait_for(page, GTM_JS, since=mark)
    page.wait_for_function("() => (window.dataLayer || []).some(e => e && e.event === 'gatekeeper_consent')", timeout=5_000)
    entries = data_layer(page)
    assert [e["gatekeeper_categories"] for e in events(entries)] == [["statistik"]]
    assert len(consent(entries, "update")) == 1

    page.evaluate("() => window.gatekeeper.withdraw()")
    page.wait_for_function("() => window.gatekeeper.decision === null", timeout=5_000)
    tracker_log.settle(page)
    mark = tracker_log.mark()
    entries = data_layer(page)
    assert consent(entries, "update")[-1]["analytics_storage"] == "denied"
    assert events(entries)[-1]["gatekeeper_categories"] == []
    page.evaluate("() => window.dataLayer.push({event: 'page_change'})")
    tracker_log.settle(page)
    assert google(tracker_log, mark) == [], tracker_log.describe(mark)
