"""Rule 10 (docs/rules.md#rule-10): withdrawal is as easy as consent — the bundle's own "cookie settings"
control on every page reopens the preferences with the current state; one more click than
accepting withdraws; then Consent Mode is denied, trackers hear nothing more, their
first-party cookies are gone (host and parent domain) and the log holds a withdrawal.
"""

import re
from urllib.parse import urlsplit

import pytest

from .harness import (
    BANNER,
    COOKIE,
    SITES,
    banner_visible,
    choose,
    cookies,
    data_layer,
    decision,
    open_demo,
    wait_for_banner,
)

SETTINGS = "gatekeeper-settings button"
SETTINGS_LABELS = {"nl": "Cookie-instellingen", "fr": "Paramètres des cookies", "en": "Cookie settings"}
# The first-party tracker cookies withdrawal must delete, by the category that allowed them.
TRACKER_COOKIES = {"analytics": r"_ga(_.*)?", "marketing": r"_gcl_.*|_fbp|_fbc"}
ADS_AND_ANALYTICS = ("analytics_storage", "ad_storage", "ad_user_data", "ad_personalization")
GA_COLLECT = "google-analytics.com/g/collect"


def is_withdrawal(response):
    return urlsplit(response.url).path == "/api/v1/consent" and response.request.method == "DELETE"


def tracker_cookies(context, site):
    pattern = "|".join(TRACKER_COOKIES[c] for c in SITES[site].categories if c in TRACKER_COOKIES)
    return sorted(name for name in cookies(context) if re.fullmatch(pattern, name))


def withdraw_with_the_settings_control(page):
    """Two clicks: the settings control, then "withdraw consent". Returns the DELETE answer."""
    page.locator(SETTINGS).click()
    with page.expect_response(is_withdrawal, timeout=5_000) as answer:
        page.locator(f"{BANNER} button[data-gk=withdraw]").click()
    return answer.value


@pytest.mark.parametrize("site", sorted(SITES))
def test_10_withdrawal_is_as_easy_as_consent(site, server, context, page, tracker_log):
    demo = SITES[site]
    open_demo(page, server, site)
    wait_for_banner(page)
    assert not page.locator(SETTINGS).is_visible(), "the control steps aside while the banner asks"

    # Accepting: one click. The id comes from the API's answer: the bundle sets
    # window.gatekeeper.decision only after it has read that answer, which may be later
    # than Playwright's "response received" (seen intermittently in CI).
    consent_id = choose(page, "accept")["consent_id"]
    tracker_log.wait_for(page, GA_COLLECT)
    if "marketing" in demo.categories:
        tracker_log.wait_for(page, "doubleclick.net/pagead/viewthroughconversion/")
        # A shop's own Meta pixel would set these; the site declares no pixel of its own.
        page.evaluate("() => { document.cookie = '_fbp=fb.1.1.1; path=/'; document.cookie = '_fbc=fb.1.1.2; path=/' }")
    tracker_log.settle(page)
    planted = tracker_cookies(context, site)
    assert any(name.startswith("_ga") for name in planted), planted

    # The control is the bundle's own, on the page, labelled in the page's language.
    control = page.locator(SETTINGS)
    assert control.is_visible() and control.inner_text() == SETTINGS_LABELS[demo.languages[0]]
    mark = tracker_log.mark()
    response = withdraw_with_the_settings_control(page)  # withdrawing: two clicks
    assert response.status == 200, response.text()

    # It reopened the preferences showing what was granted, and offers the reload.
    note = page.locator(f"{BANNER} [data-gk-withdrawn]")
    note.wait_for(state="visible")
    assert page.locator(f"{BANNER} [data-gk-withdrawn] button[data-gk=reload]").is_visible()
    toggles = page.locator(f"{BANNER} input[data-category]:not(:disabled)")
    assert [toggles.nth(i).is_checked() for i in range(toggles.count())] == [False] * len(demo.categories)

    assert decision(page) is None
    updates = [e for e in data_layer(page) if isinstance(e, list) and e[:2] == ["consent", "update"]]
    assert len(updates) == 2 and {k: updates[-1][2][k] for k in ADS_AND_ANALYTICS} == dict.fromkeys(
        ADS_AND_ANALYTICS, "denied"
    ), updates
    assert tracker_cookies(context, site) == [] and COOKIE not in cookies(context), cookies(context)
    rows = server.records(consent_id=consent_id)
    assert [r["action"] for r in rows] == ["grant", "withdraw"], rows
    assert set(rows[-1]["categories"].values()) == {True, False} and rows[-1]["categories"]["necessary"] is True
    assert [c for c, on in rows[-1]["categories"].items() if on] == ["necessary"]

    # The tags already running hear nothing more: an event, a late tag, a page scroll.
    page.evaluate("() => (function () { window.dataLayer.push(arguments) })('event', 'add_to_cart')")
    page.evaluate(
        """() => { const s = document.createElement('script'); s.type = 'text/plain';
                   s.dataset.category = 'analytics'; s.src = 'https://www.googletagmanager.com/gtag/js?id=G-LATE';
                   document.body.appendChild(s) }"""
    )
    page.mouse.wheel(0, 1500)
    tracker_log.settle(page)
    assert tracker_log.trackers(since=mark) == [], tracker_log.describe(mark)

    with page.expect_navigation(timeout=5_000):
        page.locator(f"{BANNER} button[data-gk=reload]").click()
    wait_for_banner(page)
    page.wait_for_load_state("networkidle", timeout=5_000)
    tracker_log.settle(page)
    assert tracker_log.trackers(since=mark) == [], tracker_log.describe(mark)
    assert tracker_cookies(context, site) == []


def test_10_the_settings_control_follows_the_site_setting(server, context, page):
    """bottom-left by default; its label follows <html lang>."""
    open_demo(page, server, "ecomarket", lang="fr")
    wait_for_banner(page)
    # The refusal applied before the control reopens the banner: applied later, it would
    # close the reopened banner itself and hide what Escape must do.
    choose(page, "reject")
    control = page.locator(SETTINGS)
    control.wait_for(state="visible")
    assert control.inner_text() == SETTINGS_LABELS["fr"]
    box = control.bounding_box()
    assert box["x"] < 40 and box["y"] + box["height"] > 800 - 40, box
    control.click()
    wait_for_banner(page)
    assert not control.is_visible()
    page.keyboard.press("Escape")
    control.wait_for(state="visible")
    assert not banner_visible(page)


def test_10_withdrawal_deletes_tracker_cookies_on_the_parent_domain(server, context, page):
    """A shop at www.shop.test (routed, no DNS) embedding the bundle from the Gatekeeper
    server: cookies set on .shop.test by the vendors' scripts go too. Over https: the bundle
    verifies the consent token with WebCrypto, which plain-http pages lack."""
    shop = "https://www.shop.test"
    html = '<!doctype html><html lang="en"><title>Shop</title><main><h1>Shop</h1></main>' \
           '<script src="/gk/ecomarket.js"></script></html>'

    def shop_or_gatekeeper(route):
        path = urlsplit(route.request.url).path
        if path.startswith(("/gk/", "/api/")):  # Gatekeeper behind the shop's proxy
            route.fulfill(response=route.fetch(url=server.url + path))
        else:
            route.fulfill(body=html, content_type="text/html")

    context.route(f"{shop}/**", shop_or_gatekeeper)
    # A genuine token (the bundle believes no other).
    token = page.request.post(
        f"{server.url}/api/v1/consent", headers={"Origin": server.url},
        data={"site": "ecomarket", "revision": 1, "source": "api", "categories": {
            "analytics": True, "marketing": True, "social": False, "personalisation": False}},
    ).json()["token"]
    planted = [("_ga", ".shop.test"), ("_ga_ECOM12345", ".shop.test"), ("_gcl_au", ".shop.test"),
               ("_fbp", ".shop.test"), ("_fbc", "www.shop.test"), ("cart", ".shop.test")]
    context.add_cookies(
        [{"name": COOKIE, "value": token, "domain": "www.shop.test", "path": "/"}]
        + [{"name": name, "value": "1", "domain": domain, "path": "/"} for name, domain in planted]
    )
    page.goto(f"{shop}/", wait_until="load")
    page.wait_for_function("() => window.gatekeeper && window.gatekeeper.allows('marketing')", timeout=5_000)

    page.locator(SETTINGS).click()
    page.locator(f"{BANNER} button[data-gk=withdraw]").click()
    page.locator(f"{BANNER} [data-gk-withdrawn]").wait_for(state="visible")

    left = {(c["name"], c["domain"]) for c in context.cookies() if c["domain"].endswith("shop.test")}
    assert left == {("cart", ".shop.test")}, left
