"""Rule 20 (docs/rules.md#rule-20): Global Privacy Control is an opt-out, never consent. Chromium sends
neither signal, so the tests inject both: the `Sec-GPC: 1` header and
`navigator.globalPrivacyControl = true`.
"""

import pytest

from .harness import BANNER, SITES, choose, decision, new_context, open_demo, open_preferences, wait_for_banner

GPC_PROPERTY = "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true })"
GPC_NOTES = {
    "nl": "Global Privacy Control-signaal",
    "fr": "signal Global Privacy Control",
    "en": "Global Privacy Control signal",
    "de": "Global-Privacy-Control-Signal",
}


@pytest.fixture
def gpc_context(browser, tracker_log):
    """A fresh visitor whose browser sends both GPC signals."""
    ctx = new_context(browser, tracker_log, extra_http_headers={"Sec-GPC": "1"})
    ctx.add_init_script(GPC_PROPERTY)
    yield ctx
    ctx.close()


@pytest.mark.parametrize("lang", ["nl", "fr", "de"])
def test_20_gpc_presets_marketing_off_with_a_note_and_never_grants(lang, server, gpc_context, tracker_log):
    page = gpc_context.new_page()
    open_demo(page, server, "ecomarket", lang=lang)
    assert page.evaluate("() => navigator.globalPrivacyControl") is True

    # The banner still asks, says why marketing is off, and nothing loads meanwhile.
    wait_for_banner(page)
    note = page.locator(f"{BANNER} [data-gk-gpc]")
    assert note.is_visible() and GPC_NOTES[lang] in note.inner_text()
    page.mouse.wheel(0, 1500)
    page.wait_for_load_state("networkidle", timeout=5_000)
    tracker_log.settle(page)
    assert tracker_log.trackers() == [] and tracker_log.api_calls() == [], tracker_log.describe()
    assert decision(page) is None
    open_preferences(page)
    assert not page.locator(f'{BANNER} input[data-category="marketing"]').is_checked()
    assert note.is_visible(), "the note stays in the preferences"

    # Accept all under GPC: everything but marketing, recorded as source gpc.
    answer = choose(page, "accept")
    tracker_log.wait_for(page, "google-analytics.com/g/collect")
    tracker_log.settle(page)
    [row] = server.records(consent_id=answer["consent_id"])
    assert row["source"] == "gpc"
    assert row["categories"] == {"necessary": True, "analytics": True, "marketing": False, "social": True,
                                 "personalisation": True}
    assert tracker_log.to("google_ads") == [], tracker_log.describe()
    assert not any(name.startswith("_gcl_") for name in {c["name"] for c in gpc_context.cookies()})


def test_20_the_server_records_gpc_from_the_header_alone(server, browser, tracker_log):
    """A browser that sends only `Sec-GPC: 1`: the server still opts marketing out."""
    ctx = new_context(browser, tracker_log, extra_http_headers={"Sec-GPC": "1"})
    try:
        page = ctx.new_page()
        open_demo(page, server, "ecomarket", lang="en")
        wait_for_banner(page)
        answer = choose(page, "accept")
        tracker_log.wait_for(page, "google-analytics.com/g/collect")
        tracker_log.settle(page)
        [row] = server.records(consent_id=answer["consent_id"])
        assert (row["source"], row["categories"]["marketing"], row["categories"]["analytics"]) == ("gpc", False, True)
        assert decision(page)["categories"]["marketing"] is False
        assert tracker_log.to("google_ads") == [], tracker_log.describe()
    finally:
        ctx.close()


def test_20_gpc_on_a_site_without_marketing_still_asks(server, gpc_context, tracker_log):
    page = gpc_context.new_page()
    open_demo(page, server, "locomail")
    wait_for_banner(page)
    page.wait_for_load_state("networkidle", timeout=5_000)
    tracker_log.settle(page)
    assert tracker_log.trackers() == [] and tracker_log.api_calls() == []
    answer = choose(page, "reject")
    [row] = server.records(consent_id=answer["consent_id"])
    assert row["categories"] == {"necessary": True, **dict.fromkeys(SITES["locomail"].categories, False)}


def test_20_gpc_holds_for_the_browser_api_too(server, gpc_context, tracker_log):
    """A shop's own "accept all" calling gatekeeper.accept() leaves marketing off under GPC;
    only naming marketing explicitly grants it."""
    page = gpc_context.new_page()
    open_demo(page, server, "ecomarket")
    wait_for_banner(page)
    first = page.evaluate("() => gatekeeper.accept()")
    assert first["categories"]["marketing"] is False and first["categories"]["analytics"] is True
    tracker_log.wait_for(page, "google-analytics.com/g/collect")
    tracker_log.settle(page)
    assert tracker_log.to("google_ads") == [], tracker_log.describe()

    explicit = page.evaluate("() => gatekeeper.accept(['analytics', 'marketing'])")
    assert explicit["categories"]["marketing"] is True
    rows = server.records(consent_id=first["id"])
    assert [(r["source"], r["categories"]["marketing"]) for r in rows] == [("gpc", False), ("api", True)]
