"""Rules 1-3 (docs/rules.md): before a choice nothing loads, nothing is stored, and silence refuses."""

import pytest

from gatekeeper.audit.visit import tracker_elements
from gatekeeper.trackers import vendor_for_cookie

from .harness import (
    COOKIE,
    ESSENTIAL_COOKIES,
    ESSENTIAL_STORAGE_KEYS,
    SITES,
    banner_visible,
    cookies,
    decision,
    decode_token,
    open_demo,
    own_tags,
    same_site_links,
    storage_keys,
    wait_for_banner,
)

pytestmark = pytest.mark.parametrize("site", sorted(SITES))


def browse_without_choosing(page, server, site, tracker_log):
    """A fresh visitor looks around: the landing page, a scroll, two more pages."""
    open_demo(page, server, site)
    wait_for_banner(page)
    page.mouse.wheel(0, 2000)
    links = same_site_links(page, site)
    assert links, "the demo page should link to other pages of the shop"
    for link in links:
        page.goto(server.url + link, wait_until="load")
        page.mouse.wheel(0, 2000)
        page.wait_for_load_state("networkidle", timeout=5_000)
        tracker_log.settle(page)


def test_01_nothing_loads_before_a_choice(site, server, context, page, tracker_log):
    browse_without_choosing(page, server, site, tracker_log)

    assert tracker_log.trackers() == [], tracker_log.describe()
    assert tracker_elements(page) == []
    assert not {"ownAnalytics", "ownMarketing", "ownSocial", "ownPersonalisation"} & set(own_tags(page))
    assert banner_visible(page)


def test_02_no_tracker_storage_before_a_choice(site, server, context, page, tracker_log):
    browse_without_choosing(page, server, site, tracker_log)

    names = set(cookies(context))
    assert COOKIE not in names, "a consent cookie before any choice"
    assert [n for n in names if vendor_for_cookie(n)] == []
    assert names <= ESSENTIAL_COOKIES, f"non-essential cookies: {names - ESSENTIAL_COOKIES}"
    keys = storage_keys(page)
    assert set(keys["local"]) <= ESSENTIAL_STORAGE_KEYS, keys
    assert set(keys["session"]) <= ESSENTIAL_STORAGE_KEYS, keys


def test_03_silence_is_refusal(site, server, context, page, tracker_log):
    before = server.last_rowid()
    open_demo(page, server, site)
    wait_for_banner(page)

    page.keyboard.press("Escape")
    outside = next(
        (x, y) for x, y in ((5, 790), (5, 5), (1275, 400))
        if page.evaluate("([x, y]) => document.elementFromPoint(x, y).localName", [x, y]) != "gatekeeper-banner"
    )
    page.mouse.click(*outside)
    page.mouse.wheel(0, 2000)
    link = same_site_links(page, site, limit=1)[0]
    with page.expect_navigation(wait_until="load"):
        # A script click follows the link even if the banner overlays it.
        page.evaluate("href => document.querySelector(`a[href=\"${href}\"]`).click()", link)
    page.reload(wait_until="load")
    page.wait_for_load_state("networkidle", timeout=5_000)
    tracker_log.settle(page)

    assert tracker_log.trackers() == [], tracker_log.describe()
    assert banner_visible(page), "after silence the visitor is still undecided"
    assert decision(page) is None
    for category in SITES[site].categories:
        assert page.evaluate("c => window.gatekeeper.allows(c)", category) is False
    positive = [r for r in server.records(after=before)
                if any(v for k, v in r["categories"].items() if k != "necessary")]
    assert positive == []
    token = cookies(context).get(COOKIE)
    if token is not None:
        payload, _ = decode_token(token["value"])
        assert set(payload["granted"]) - {"necessary"} == set()
