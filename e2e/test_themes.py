"""Themes keep equal weight: reject and accept share one computed style under the default
theme, a site's own theme (locomail) and the dark scheme, at desktop and phone sizes;
the dark scheme is axe-core clean; a shop's stylesheet reaches the banner only through
the `--gk-*` custom properties on its host, never its inner elements.
"""

import pytest

from .harness import BANNER, new_context, open_demo, open_preferences, wait_for_banner
from .test_accessibility import axe_violations
from .test_presentation import VIEWPORTS, assert_equal_weight

# The dialog's computed colours and the reject button's, as a visitor sees them.
LOOK = """() => {
  const root = document.querySelector('gatekeeper-banner').shadowRoot;
  const box = getComputedStyle(root.querySelector('.gk')), button = getComputedStyle(root.querySelector('[data-gk=reject]'));
  return { background: box.backgroundColor, text: box.color, button: button.backgroundColor,
           buttonText: button.color, radius: button.borderTopLeftRadius, font: button.fontFamily,
           fontSize: button.fontSize, display: getComputedStyle(root.host).display };
}"""


@pytest.fixture
def dark_context(browser, tracker_log):
    ctx = new_context(browser, tracker_log, color_scheme="dark")
    yield ctx
    ctx.close()


def look(page) -> dict:
    return page.evaluate(LOOK)


@pytest.mark.parametrize("site", ["ecomarket", "locomail"])
def test_equal_weight_in_the_dark_scheme_at_both_sizes(site, server, dark_context):
    page = dark_context.new_page()
    for width, height in VIEWPORTS:
        page.set_viewport_size({"width": width, "height": height})
        open_demo(page, server, site)
        wait_for_banner(page)
        assert_equal_weight(page, f"{site} dark {width}x{height}")
    if site == "ecomarket":  # the default theme follows the visitor's scheme
        assert look(page)["background"] == "rgb(31, 31, 31)" and look(page)["button"] == "rgb(242, 242, 242)"
    else:  # locomail fixes the light scheme of its own theme
        assert look(page)["background"] == "rgb(255, 250, 242)" and look(page)["button"] == "rgb(178, 58, 14)"


def test_the_site_theme_and_the_default_one(server, page):
    open_demo(page, server, "locomail")
    wait_for_banner(page)
    custom = look(page)
    assert (custom["button"], custom["buttonText"], custom["radius"]) == ("rgb(178, 58, 14)", "rgb(255, 255, 255)", "12px")
    assert custom["font"].startswith('"Trebuchet MS"')
    open_demo(page, server, "ecomarket")
    wait_for_banner(page)
    default = look(page)
    assert (default["background"], default["button"], default["radius"]) == ("rgb(255, 255, 255)", "rgb(27, 27, 27)", "6px")


@pytest.mark.parametrize("lang", ["nl", "de"])
def test_the_dark_scheme_has_no_axe_violations(lang, server, dark_context):
    page = dark_context.new_page()
    open_demo(page, server, "ecomarket", lang=lang)
    wait_for_banner(page)
    assert page.evaluate("() => matchMedia('(prefers-color-scheme: dark)').matches")
    assert axe_violations(page) == [], "banner open"
    open_preferences(page)
    assert axe_violations(page) == [], "preferences open"


SHOP_CSS = """
gatekeeper-banner { --gk-button-background: #005a9c; --gk-button-text: #ffffff; --gk-radius: 0px; }
/* What a shop's global styles might do to anything that looks like a banner: */
gatekeeper-banner button, button, .gk, [data-gk], [role=dialog] {
  background: #ff0000 !important; font-size: 40px !important; display: none !important;
}
"""


def test_shop_css_sets_the_variables_on_the_host_but_cannot_reach_inside(server, page):
    open_demo(page, server, "ecomarket")
    wait_for_banner(page)
    before = look(page)
    page.add_style_tag(content=SHOP_CSS)
    after = look(page)
    # The custom properties on the host take effect, for reject and accept alike.
    assert (after["button"], after["buttonText"], after["radius"]) == ("rgb(0, 90, 156)", "rgb(255, 255, 255)", "0px")
    # Rules aimed at the inner elements do nothing: same size, same box, still shown.
    assert (after["fontSize"], after["background"]) == (before["fontSize"], before["background"])
    assert page.locator(f"{BANNER} button[data-gk=reject]").is_visible()
    for width, height in VIEWPORTS:
        page.set_viewport_size({"width": width, "height": height})
        assert_equal_weight(page, f"shop css {width}x{height}")
