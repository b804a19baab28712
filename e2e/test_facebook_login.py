"""Rule 21 (docs/rules.md#rule-21): the Facebook login loads on click. The demo shop puts a placeholder
([data-gk-allow="social"], "allow and continue") where its login button goes; nothing
reaches Facebook until that click or a grant of the category, then the SDK loads and the
button renders.
"""

import re

import pytest

from .harness import BANNER, choose, cookies, open_demo, wait_for_banner

PLACEHOLDER = "[data-gk-allow=social]"
RENDERED = ".fb-login-button button.fb-standin-login"
SDK = "connect.facebook.net/nl_BE/sdk.js"
PLACEHOLDER_TEXTS = {
    "nl": "Inloggen met Facebook vraagt Facebook-cookies — toestaan en doorgaan",
    "fr": "La connexion avec Facebook utilise des cookies Facebook — autoriser et continuer",
    "en": "Log in with Facebook needs Facebook cookies — allow and continue",
}
FACEBOOK_COOKIE = re.compile(r"(fblo|fbsr|fbm)_.*")


def facebook_requests(tracker_log, since=0):
    return [s for s in tracker_log.trackers(since) if s.vendor.id in ("facebook_sdk", "meta_pixel")]


def assert_nothing_from_facebook(page, context, tracker_log):
    page.wait_for_load_state("networkidle", timeout=5_000)
    tracker_log.settle(page)
    assert facebook_requests(tracker_log) == [], tracker_log.describe()
    assert not [n for n in cookies(context) if FACEBOOK_COOKIE.fullmatch(n)], cookies(context)
    assert page.locator(RENDERED).count() == 0


@pytest.mark.parametrize("lang", ["nl", "fr", "en"])
def test_21_facebook_login_loads_on_the_placeholder_click(lang, server, context, page, tracker_log):
    open_demo(page, server, "ecomarket", lang=lang)
    wait_for_banner(page)
    placeholder = page.locator(PLACEHOLDER)
    assert placeholder.is_visible() and placeholder.inner_text() == PLACEHOLDER_TEXTS[lang]
    assert_nothing_from_facebook(page, context, tracker_log)

    with page.expect_response(lambda r: r.request.method == "POST" and "/api/v1/consent" in r.url) as answer:
        placeholder.click()
    consent_id = answer.value.json()["consent_id"]
    tracker_log.wait_for(page, SDK)
    page.locator(RENDERED).wait_for(state="visible")
    assert page.locator(PLACEHOLDER).count() == 0, "the placeholder gives way to the real button"
    assert any(n.startswith("fbm_") for n in cookies(context)), cookies(context)

    [row] = server.records(consent_id=consent_id)
    assert row["source"] == "placeholder"
    assert [c for c, on in row["categories"].items() if on] == ["necessary", "social"]
    tracker_log.settle(page)
    assert tracker_log.vendors() == {"facebook_sdk"}, tracker_log.describe()


def test_21_facebook_login_loads_with_its_category(server, context, page, tracker_log):
    open_demo(page, server, "ecomarket")
    wait_for_banner(page)
    assert_nothing_from_facebook(page, context, tracker_log)
    choose(page, "reject")
    assert_nothing_from_facebook(page, context, tracker_log)

    page.locator("gatekeeper-settings button").click()  # reopens the preferences
    page.locator(f"{BANNER} button[data-gk=save]").wait_for(state="visible")
    choose(page, "save", ("social",))
    tracker_log.wait_for(page, SDK)
    page.locator(RENDERED).wait_for(state="visible")
    page.locator(RENDERED).click()  # the stand-in's FB.login: the dialog call and fbsr_
    tracker_log.wait_for(page, "facebook.com/v19.0/dialog/oauth")
    assert any(n.startswith("fbsr_") for n in cookies(context))
    assert not page.locator(f"{BANNER} [role=dialog]").is_visible()


def test_the_shops_own_fbasyncinit_still_runs(server, context, page, tracker_log):
    """A shop that defines window.fbAsyncInit (to subscribe to FB events, say) keeps it:
    the gate's loader initialises the SDK and then calls the shop's function."""
    page.add_init_script(
        "window.fbAsyncInit = () => { document.documentElement.dataset.shopFbInit = FB.__standin ? 'after-init' : 'no-fb' }"
    )
    open_demo(page, server, "ecomarket")
    wait_for_banner(page)
    choose(page, "save", ("social",))
    tracker_log.wait_for(page, SDK)
    page.wait_for_function("document.documentElement.dataset.shopFbInit === 'after-init'", timeout=5_000)
    assert any(n.startswith("fbm_") for n in cookies(context)), "the gate's FB.init ran too"
