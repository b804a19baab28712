"""Rules 4 and 7 (docs/rules.md): reject is a one-click button on the first layer, in the page's
language; in preferences nothing is pre-ticked and saving untouched refuses all.
"""

import pytest

from .harness import (
    BANNER,
    COOKIE,
    REJECT_LABELS,
    SITE_LANGUAGES,
    SITES,
    banner_visible,
    choose,
    cookies,
    decision,
    decode_token,
    open_demo,
    open_preferences,
    wait_for_banner,
)

VIEWPORTS = [(1280, 800), (375, 667)]


def assert_refusal_recorded(server, context, answer, site, source=None):
    rows = server.records(consent_id=answer["consent_id"])
    assert len(rows) == 1, rows
    categories = rows[0]["categories"]
    assert set(categories) == set(SITES[site].all_categories)
    assert categories["necessary"] is True
    assert [c for c in SITES[site].categories if categories[c] is not False] == []
    if source is not None:
        assert rows[0]["source"] == source
    payload, _ = decode_token(cookies(context)[COOKIE]["value"])
    assert payload["id"] == answer["consent_id"]
    assert set(payload["granted"]) - {"necessary"} == set()


@pytest.mark.parametrize(("site", "lang"), SITE_LANGUAGES)
def test_04_reject_on_the_first_layer_as_a_button(site, lang, server, context, page, tracker_log):
    open_demo(page, server, site, **SITES[site].query(lang))
    assert page.get_attribute("html", "lang") == lang
    wait_for_banner(page)
    reject = page.locator(f"{BANNER} [role=dialog] button[data-gk=reject]")

    for width, height in VIEWPORTS:
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_function(f"() => innerWidth === {width} && innerHeight === {height}", timeout=2_000)
        assert page.evaluate("() => window.scrollY") == 0
        assert reject.evaluate("el => el.tagName") == "BUTTON"
        assert reject.inner_text().strip() == REJECT_LABELS[lang]
        box = reject.bounding_box()
        assert box is not None, f"reject is not rendered at {width}x{height}"
        assert box["x"] >= 0 and box["y"] >= 0, (width, height, box)
        assert box["x"] + box["width"] <= width and box["y"] + box["height"] <= height, (width, height, box)
        # Visible means on top, not covered by the shop or another banner layer.
        on_top = reject.evaluate(
            """el => { const r = el.getBoundingClientRect();
                       const hit = el.getRootNode().elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
                       return hit === el || el.contains(hit); }"""
        )
        assert on_top, f"reject is covered at {width}x{height}"

    requests_before = len(tracker_log.api_calls())
    answer = choose(page, "reject")
    tracker_log.settle(page)

    assert len(tracker_log.api_calls()) - requests_before == 1, "one click, one decision"
    assert not banner_visible(page)
    decided = decision(page)["categories"]
    assert [c for c in SITES[site].categories if decided.get(c) is not False] == [], decided
    assert_refusal_recorded(server, context, answer, site, source="banner")
    assert server.records(consent_id=answer["consent_id"])[0]["language"] == lang
    assert tracker_log.trackers() == [], tracker_log.describe()


@pytest.mark.parametrize("site", sorted(SITES))
def test_07_nothing_pre_ticked(site, server, context, page, tracker_log):
    open_demo(page, server, site)
    wait_for_banner(page)
    open_preferences(page)

    toggles = page.locator(f"{BANNER} input[type=checkbox][data-category]")
    state = {
        toggles.nth(i).get_attribute("data-category"): (toggles.nth(i).is_checked(), toggles.nth(i).is_disabled())
        for i in range(toggles.count())
    }
    assert set(state) == set(SITES[site].all_categories)
    assert state["necessary"] == (True, True), "necessary is shown on and cannot be switched off"
    assert {c: state[c] for c in SITES[site].categories} == {c: (False, False) for c in SITES[site].categories}

    answer = choose(page, "save")  # untouched
    tracker_log.settle(page)

    assert_refusal_recorded(server, context, answer, site, source="preferences")
    assert not banner_visible(page)
    assert tracker_log.trackers() == [], tracker_log.describe()
