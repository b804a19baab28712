"""Rules 17 and 18 (docs/rules.md): Google Consent Mode v2 in basic mode — denied by default before
any config, one update per decision, and not a single request to Google without consent.
"""

import pytest

from .harness import (
    GOOGLE_VENDORS,
    SITES,
    banner_visible,
    choose,
    data_layer,
    open_demo,
    same_site_links,
    wait_for_banner,
)

V2_TYPES = ("ad_storage", "ad_user_data", "ad_personalization", "analytics_storage")
# Types that need consent; security_storage (strictly necessary storage) is checked apart.
CONSENT_TYPES = (*V2_TYPES, "functionality_storage", "personalization_storage")
ADS_TYPES = ("ad_storage", "ad_user_data", "ad_personalization")


def commands(entries, verb):
    return [(i, e) for i, e in enumerate(entries) if isinstance(e, list) and e and e[0] == verb]


def assert_default_denied_first(entries):
    consents = commands(entries, "consent")
    assert consents, f"no consent command in dataLayer: {entries}"
    first_index, first = consents[0]
    assert first[1] == "default", first
    assert set(V2_TYPES) <= set(first[2]), first
    assert {k: v for k, v in first[2].items() if k in CONSENT_TYPES} == {
        k: "denied" for k in first[2] if k in CONSENT_TYPES
    }, first
    later = [i for verb in ("config", "event") for i, _ in commands(entries, verb)]
    assert all(first_index < i for i in later), entries


def test_17_consent_mode_default_denies_every_type(server, context, page):
    """Rule 17 (docs/rules.md#rule-17) says "a default with everything denied": every type it names."""
    open_demo(page, server, "ecomarket")
    wait_for_banner(page)
    _, default = commands(data_layer(page), "consent")[0]
    named = {k: v for k, v in default[2].items() if k.endswith("_storage") or k.startswith("ad_")}
    assert set(V2_TYPES) <= set(named), named
    assert named == {k: "denied" for k in named}, named


def google_requests(tracker_log, since=0):
    return [seen for seen in tracker_log.trackers(since) if seen.vendor.id in GOOGLE_VENDORS]


CASES = [
    ("ecomarket", ("analytics",)),
    ("ecomarket", ("analytics", "marketing", "social", "personalisation")),
    ("locomail", ("analytics",)),
]


@pytest.mark.parametrize(("site", "granted"), CASES, ids=[f"{s}-{'+'.join(g)}" for s, g in CASES])
def test_17_consent_mode_default_denied_then_one_update_per_decision(site, granted, server, context, page, tracker_log):
    demo = SITES[site]
    open_demo(page, server, site)
    wait_for_banner(page)
    assert_default_denied_first(data_layer(page))
    assert commands(data_layer(page), "update") == []

    if set(granted) == set(demo.categories):
        choose(page, "accept")
    else:
        choose(page, "save", granted)
    tracker_log.wait_for(page, "google-analytics.com/g/collect")
    tracker_log.settle(page)

    entries = data_layer(page)
    assert_default_denied_first(entries)
    updates = [e for _, e in commands(entries, "consent") if e[1] == "update"]
    assert len(updates) == 1, updates
    update = updates[0][2]
    assert update["analytics_storage"] == "granted"
    marketing = "marketing" in granted
    for kind in ADS_TYPES:
        assert update[kind] == ("granted" if marketing else "denied"), update
    configured = {e[1] for _, e in commands(entries, "config")}
    assert demo.ga4 in configured
    if demo.google_ads:
        assert (demo.google_ads in configured) == marketing, configured
    assert bool(tracker_log.to("google_ads")) == marketing, tracker_log.describe()

    # A second decision is a second update; once denied, Google hears nothing more.
    page.evaluate("() => window.gatekeeper.reject()")
    page.wait_for_function(
        "() => window.gatekeeper.decision && Object.entries(window.gatekeeper.decision.categories)"
        ".every(([k, v]) => k === 'necessary' || v === false)",
        timeout=5_000,
    )
    mark = tracker_log.mark()
    page.evaluate("() => (function () { window.dataLayer.push(arguments); })('event', 'add_to_cart')")
    tracker_log.settle(page)
    updates = [e for _, e in commands(data_layer(page), "consent") if e[1] == "update"]
    assert len(updates) == 2, updates
    assert {k: updates[1][2][k] for k in V2_TYPES} == {k: "denied" for k in V2_TYPES}
    assert google_requests(tracker_log, since=mark) == [], tracker_log.describe(mark)


@pytest.mark.parametrize("site", sorted(SITES))
def test_18_basic_mode_no_google_request_before_consent_or_after_reject(site, server, context, page, tracker_log):
    open_demo(page, server, site)
    wait_for_banner(page)
    page.wait_for_load_state("networkidle", timeout=5_000)
    tracker_log.settle(page)
    assert_default_denied_first(data_layer(page))  # the gate ran, and Google still heard nothing
    assert google_requests(tracker_log) == [], tracker_log.describe()

    choose(page, "reject")
    tracker_log.settle(page)
    page.reload(wait_until="load")
    assert not banner_visible(page)
    for link in same_site_links(page, site):
        page.goto(server.url + link, wait_until="load")
    page.wait_for_load_state("networkidle", timeout=5_000)
    tracker_log.settle(page)

    assert google_requests(tracker_log) == [], tracker_log.describe()
    assert not banner_visible(page)
    entries = data_layer(page)
    assert_default_denied_first(entries)
    assert commands(entries, "config") == [], "no tag configured without consent"
