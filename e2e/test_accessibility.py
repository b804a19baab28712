"""Rule 22 (docs/rules.md#rule-22): operable and in the page's language — dialog semantics, focus starts in
the banner and is visible, the keyboard reaches and works every control, Escape never
grants, no axe-core violations (banner open, preferences open, banner closed), and the
language follows <html lang>.
"""

from pathlib import Path

import axe_playwright_python
import pytest

from .harness import (
    ACCEPT_LABELS,
    BANNER,
    REJECT_LABELS,
    SITE_LANGUAGES,
    SITES,
    banner_visible,
    deciding,
    decision,
    open_demo,
    wait_for_banner,
    wait_for_banner_focus,
)

AXE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text("utf-8")
# What has focus, described across shadow roots: "banner:button[accept]", "settings:button", "page:a".
FOCUSED = """() => {
    let el = document.activeElement, where = 'page';
    if (el && el.shadowRoot) { where = el.localName.replace('gatekeeper-', ''); el = el.shadowRoot.activeElement; }
    if (!el) return where + ':none';
    const action = el.dataset && (el.dataset.gk || el.dataset.category);
    return where + ':' + el.localName + (action ? '[' + action + ']' : '') + (el.getAttribute('role') ? '@' + el.getAttribute('role') : '');
}"""
FOCUS_RING = """() => {
    let el = document.activeElement;
    while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
    const style = getComputedStyle(el);
    return { visible: el.matches(':focus-visible'), outline: style.outlineStyle, width: parseFloat(style.outlineWidth),
             shadow: style.boxShadow };
}"""


def axe_violations(page) -> list[str]:
    if not page.evaluate("() => !!window.axe"):
        page.evaluate(AXE)
    result = page.evaluate("async () => (await window.axe.run(document)).violations"
                           ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))")
    return result


def focused(page) -> str:
    return page.evaluate(FOCUSED)


def assert_focus_ring(page):
    ring = page.evaluate(FOCUS_RING)
    assert ring["visible"] and ((ring["outline"] != "none" and ring["width"] >= 2) or ring["shadow"] != "none"), ring


def tab_until(page, target: str, limit: int = 40) -> list[str]:
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        seen.append(focused(page))
        if seen[-1] == target:
            return seen
    raise AssertionError(f"Tab never reached {target}: {seen}")


@pytest.mark.parametrize(("site", "lang"), SITE_LANGUAGES)
def test_22_no_axe_violations_and_the_page_language(site, lang, server, context, page):
    open_demo(page, server, site, lang=lang)
    wait_for_banner(page)
    assert page.locator(f"{BANNER} [role=dialog]").get_attribute("lang") == lang
    assert page.locator(f"{BANNER} button[data-gk=reject]").inner_text() == REJECT_LABELS[lang]
    assert page.locator(f"{BANNER} button[data-gk=accept]").inner_text() == ACCEPT_LABELS[lang]
    assert axe_violations(page) == [], "banner open"

    page.locator(f"{BANNER} button[data-gk=prefs]").click()
    page.locator(f"{BANNER} button[data-gk=save]").wait_for(state="visible")
    assert axe_violations(page) == [], "preferences open"

    page.locator(f"{BANNER} button[data-gk=reject]").click()
    page.locator("gatekeeper-settings button").wait_for(state="visible")
    assert axe_violations(page) == [], "banner closed"


@pytest.mark.parametrize("site", sorted(SITES))
def test_22_keyboard_reaches_every_control_and_escape_never_grants(site, server, context, page, tracker_log):
    posts = []
    page.on("request", lambda r: r.method in ("POST", "DELETE") and "/api/v1/consent" in r.url and posts.append(r))
    open_demo(page, server, site)
    wait_for_banner(page)
    dialog = page.locator(f"{BANNER} [role=dialog]")
    assert dialog.get_attribute("aria-labelledby") == "gk-title"
    wait_for_banner_focus(page)  # taken after the first paint, maybe after the load event
    assert focused(page) == "banner:div@dialog", "focus starts in the banner"

    # Escape on the first layer: still asking, nothing sent.
    page.keyboard.press("Escape")
    assert banner_visible(page) and posts == []

    order = tab_until(page, "banner:button[prefs]")
    assert order == ["banner:a", "banner:a", "banner:button[accept]", "banner:button[reject]", "banner:button[prefs]"]
    assert_focus_ring(page)

    page.keyboard.press("Space")  # opens the preferences
    page.locator(f"{BANNER} button[data-gk=save]").wait_for(state="visible")
    first = SITES[site].categories[0]
    tab_until(page, f"banner:input[{first}]")
    assert_focus_ring(page)
    page.keyboard.press("Space")
    assert page.locator(f'{BANNER} input[data-category="{first}"]').is_checked()
    page.keyboard.press("Escape")  # back to the first layer: a ticked box is not a decision
    page.locator(f"{BANNER} [data-layer=first]").wait_for(state="visible")
    tracker_log.settle(page)  # a POST the Escape caused would be on its way by now
    assert banner_visible(page) and posts == [] and decision(page) is None
    records_before = server.last_rowid()

    tab_until(page, "banner:button[reject]")
    with deciding(page):  # and applied, or it would close the banner the control reopens below
        page.keyboard.press("Enter")
    assert len(posts) == 1 and server.last_rowid() == records_before + 1

    # Closed: the settings control is reachable and reopens the preferences; Escape closes.
    tab_until(page, "settings:button", limit=60)
    assert_focus_ring(page)
    page.keyboard.press("Enter")
    page.locator(f"{BANNER} button[data-gk=save]").wait_for(state="visible")
    assert focused(page).startswith("banner:")
    page.keyboard.press("Escape")
    page.locator("gatekeeper-settings button").wait_for(state="visible")
    assert focused(page) == "settings:button", "focus returns to the control"
    tracker_log.settle(page)
    assert len(posts) == 1 and server.last_rowid() == records_before + 1
    assert tracker_log.trackers() == [], tracker_log.describe()


@pytest.mark.parametrize(("page_lang", "expected"), [("fr-BE", "fr"), ("it", "nl"), ("EN-gb", "en"), ("de-AT", "de")])
def test_22_language_follows_html_lang(page_lang, expected, server, context, page):
    """With the plain bundle URL (every language), a shop page in fr-BE gets French; one in
    a language the site lacks gets its first."""
    def relabel(route):
        response = route.fetch()
        body = response.text().replace('<html lang="nl">', f'<html lang="{page_lang}">', 1)
        body = body.replace('/gk/ecomarket.js?lang=nl"', '/gk/ecomarket.js"', 1)
        assert '/gk/ecomarket.js"' in body
        route.fulfill(response=response, body=body)

    page.route("**/demo/ecomarket", relabel)
    open_demo(page, server, "ecomarket")
    assert page.get_attribute("html", "lang") == page_lang
    wait_for_banner(page)
    assert page.locator(f"{BANNER} button[data-gk=reject]").inner_text() == REJECT_LABELS[expected]
