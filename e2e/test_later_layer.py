"""The later layer (banner.js `later`, layer.js): what only a visitor who goes past the first
layer needs (preferences, withdrawal note, settings control, and placeholders where the site
declares no embeds) arrives on first use from /gk/<site>/prefs/<lang>.<digest>.js; accept and
reject never wait for it; a layer that cannot be fetched is said in the banner, and nothing
is decided or loaded because of it.
"""

from __future__ import annotations

import re

from gatekeeper.texts import builtin_texts

from .harness import BANNER, banner_visible, choose, decision, open_demo, open_preferences, wait_for_banner, wait_for_banner_focus

LAYER = "**/gk/*/prefs/*"
YOUTUBE = "https://www.youtube-nocookie.com/embed/M7lc1UVf-VE"


def own_requests(tracker_log, since: int = 0) -> list[str]:
    return [s.path for s in tracker_log.requests[since:] if s.path.startswith(("/gk/", "/api/"))]


def layer_requests(tracker_log, since: int = 0) -> list[str]:
    return [p for p in own_requests(tracker_log, since) if "/prefs/" in p]


def focused_action(page) -> str | None:
    return page.evaluate("() => document.querySelector('gatekeeper-banner').shadowRoot.activeElement?.dataset.gk ?? null")


def test_only_the_bundle_before_the_first_click_and_the_layer_once_on_opening_preferences(server, context, page, tracker_log):
    open_demo(page, server, "ecomarket")
    wait_for_banner(page)
    wait_for_banner_focus(page)
    tracker_log.settle(page)
    assert own_requests(tracker_log) == ["/gk/ecomarket.js"], "nothing of the later layer before the first click"
    assert page.locator(f"{BANNER} button[data-gk=save]").count() == 0

    open_preferences(page)
    [layer] = layer_requests(tracker_log)
    assert re.fullmatch(r"/gk/ecomarket/prefs/nl\.[0-9a-f]{12}\.js", layer), layer
    assert page.locator(f"{BANNER} [data-layer=first]").is_hidden()
    assert page.locator(f'{BANNER} input[data-category="analytics"]').is_visible()

    # Its code works: a choice saved from it, then the settings control it draws reopens it.
    answer = choose(page, "save", ("analytics",))
    assert answer["decision"]["categories"] == {"necessary": True, "analytics": True, "marketing": False,
                                                "social": False, "personalisation": False}
    tracker_log.wait_for(page, "googletagmanager.com/gtag/js")
    control = page.locator("gatekeeper-settings button")
    control.click(timeout=5_000)
    page.locator(f"{BANNER} button[data-gk=withdraw]").wait_for(state="visible", timeout=5_000)
    assert page.locator(f'{BANNER} input[data-category="analytics"]').is_checked()
    assert layer_requests(tracker_log) == [layer], "fetched once per page"


def test_accept_never_waits_for_the_layer(server, context, page, tracker_log):
    stalled = []
    context.route(LAYER, lambda route: stalled.append(route))  # asked for, never answered
    try:
        open_demo(page, server, "ecomarket")
        wait_for_banner(page)
        page.locator(f"{BANNER} button[data-gk=prefs]").click()  # the layer is now on its way, for ever
        choose(page, "accept")
        tracker_log.wait_for(page, "googletagmanager.com/gtag/js")
        tracker_log.wait_for(page, "connect.facebook.net/")
        assert stalled, "the layer was asked for and is still pending"
        assert not banner_visible(page)
        assert decision(page)["categories"]["marketing"] is True
    finally:
        for route in stalled:
            route.abort()


def test_a_layer_that_cannot_be_fetched_is_said_and_the_first_layer_still_decides(server, context, page, tracker_log):
    context.route(LAYER, lambda route: route.abort("internetdisconnected"))
    open_demo(page, server, "ecomarket", lang="de")
    wait_for_banner(page)
    wait_for_banner_focus(page)  # the banner's own first focus, after the first paint, is done
    note = page.locator(f"{BANNER} [data-gk-unavailable]")
    assert note.is_hidden()

    page.locator(f"{BANNER} button[data-gk=prefs]").click()
    note.wait_for(state="visible", timeout=5_000)
    assert note.get_attribute("role") == "alert"
    assert note.inner_text() == builtin_texts("de")["unavailable"]
    assert page.locator(f"{BANNER} [data-layer=first]").is_visible(), "the first layer stays"
    assert focused_action(page) == "prefs", "focus stays where the visitor was"
    tracker_log.settle(page)
    assert [p for p in own_requests(tracker_log) if p.startswith("/api/")] == [] and tracker_log.trackers() == []
    assert decision(page) is None

    # Online again: the same button fetches it, and the note goes.
    context.unroute(LAYER)
    page.locator(f"{BANNER} button[data-gk=prefs]").click()
    page.locator(f"{BANNER} button[data-gk=save]").wait_for(state="visible", timeout=5_000)
    assert note.is_hidden()


def test_a_layer_that_loads_but_never_hands_itself_over_fails_like_one_not_fetched(server, context, page, tracker_log):
    """A 200 that is not the layer (a captive portal, a proxy's error page as JavaScript)
    must not leave the preferences button dead: the note, and a retry that fetches again."""
    context.route(LAYER, lambda route: route.fulfill(status=200, content_type="text/javascript", body="/* not it */"))
    open_demo(page, server, "ecomarket", lang="en")
    wait_for_banner(page)
    wait_for_banner_focus(page)
    note = page.locator(f"{BANNER} [data-gk-unavailable]")
    page.locator(f"{BANNER} button[data-gk=prefs]").click()
    note.wait_for(state="visible", timeout=5_000)
    assert decision(page) is None

    context.unroute(LAYER)
    page.locator(f"{BANNER} button[data-gk=prefs]").click()
    page.locator(f"{BANNER} button[data-gk=save]").wait_for(state="visible", timeout=5_000)
    assert len(layer_requests(tracker_log)) == 2


def test_escape_closes_a_reopened_banner_without_the_layer(server, context, page, tracker_log):
    open_demo(page, server, "ecomarket", lang="en")
    wait_for_banner(page)
    choose(page, "reject")
    context.route(LAYER, lambda route: route.abort("internetdisconnected"))
    page.reload()
    tracker_log.settle(page)
    page.evaluate("() => gatekeeper.show()")  # what the shop's [data-gk-open] link does
    page.locator(f"{BANNER} [data-gk-unavailable]").wait_for(state="visible", timeout=5_000)
    page.keyboard.press("Escape")
    page.locator(BANNER).wait_for(state="hidden", timeout=5_000)
    assert decision(page)["categories"]["analytics"] is False, "Escape decided nothing"


def test_offline_reject_from_the_first_layer_still_refuses(server, context, page, tracker_log):
    context.route(LAYER, lambda route: route.abort("internetdisconnected"))
    open_demo(page, server, "ecomarket")
    wait_for_banner(page)
    answer = choose(page, "reject")
    assert not any(answer["decision"]["categories"][c] for c in ("analytics", "marketing", "social", "personalisation"))
    tracker_log.settle(page)
    assert tracker_log.trackers() == [] and not banner_visible(page)
    # Without the layer there is no settings control on this page; the shop's own link
    # ([data-gk-open]) still reopens the first layer, which says what is missing.
    assert page.locator("gatekeeper-settings").count() == 0


def test_an_embed_the_site_does_not_declare_gets_its_placeholder_from_the_layer(server, context, page, tracker_log):
    """ECOMARKET declares no embeds: its bundle has no placeholder code, and a held iframe
    on one of its pages fetches it with the later layer; the vendor is never asked."""
    def with_video(route):
        response = route.fetch()
        frame = f'<iframe title="Video" data-category="marketing" data-src="{YOUTUBE}" width="320" height="180"></iframe>'
        route.fulfill(response=response, body=response.text().replace("</main>", frame + "</main>", 1))

    context.route(re.compile(r".*/demo/ecomarket(\?.*)?$"), with_video)
    open_demo(page, server, "ecomarket", lang="en")
    wait_for_banner(page)
    video = page.frame_locator("iframe[title='Video']")
    video.locator("button").nth(1).wait_for(state="visible", timeout=5_000)
    assert video.locator("button").first.inner_text() == builtin_texts("en")["embed_content"]
    assert video.locator("button").nth(1).inner_text() == builtin_texts("en")["embed_always"].replace("{category}", "Marketing")
    assert len(layer_requests(tracker_log)) == 1
    tracker_log.settle(page)
    assert [s.url for s in tracker_log.requests if "youtube" in s.url] == []
    assert banner_visible(page), "the banner still asks"


# Installed before the bundle: which shadow hosts the page builds, and when, beside the
# moment a held tag is put in the page.
BUILDS = """(() => { const log = window.__gkBuilds = [], attach = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (init) { log.push(this.localName); return attach.call(this, init) };
  new MutationObserver((records) => records.forEach((r) => r.addedNodes.forEach((n) => {
    if (n.localName === 'script' && (n.src || '').includes('googletagmanager.com/gtag/js')) log.push('gtag.js')
  }))).observe(document, { childList: true, subtree: true }) })()"""


def test_a_returning_visitor_builds_no_banner_until_the_settings_control_opens_it(server, context, page, tracker_log):
    """The first layer is built only for a visitor who is to see it: a returning visitor's
    tags are the first thing the bundle releases, with no banner built before or after,
    and the settings control still reopens it from the keyboard, styled, with focus in it
    and back on the control after Escape."""
    open_demo(page, server, "ecomarket")
    wait_for_banner(page)
    choose(page, "accept")
    context.add_init_script(BUILDS)
    page.reload(wait_until="load")
    control = page.locator("gatekeeper-settings button")
    control.wait_for(state="visible", timeout=5_000)
    tracker_log.settle(page)
    assert page.evaluate("() => window.__gkBuilds") == ["gtag.js", "gatekeeper-settings"]
    assert page.locator(BANNER).count() == 0

    control.focus()
    page.keyboard.press("Enter")
    page.locator(f"{BANNER} button[data-gk=withdraw]").wait_for(state="visible", timeout=5_000)
    assert page.evaluate("() => window.__gkBuilds") == ["gtag.js", "gatekeeper-settings", "gatekeeper-banner"]
    assert page.evaluate("() => document.activeElement.localName") == "gatekeeper-banner"
    assert page.locator(f'{BANNER} input[data-category="analytics"]').is_checked()
    # The banner's own styles and the later layer's, though the layer came first.
    styles = page.evaluate("""() => {
      const host = document.querySelector('gatekeeper-banner'), section = host.shadowRoot.querySelector('.gk-category');
      return [getComputedStyle(host).position, getComputedStyle(section).borderTopStyle] }""")
    assert styles == ["fixed", "solid"], styles

    page.keyboard.press("Escape")
    control.wait_for(state="visible", timeout=5_000)
    assert not banner_visible(page)
    page.wait_for_function("() => document.activeElement?.localName === 'gatekeeper-settings'", timeout=5_000)
