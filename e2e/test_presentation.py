"""Rules 5 and 6 (docs/rules.md): reject and accept carry equal weight (same element, same computed
style, reject's box at least as large, contrast 4.5:1 or more), and the wording shames no
one — in every language, on the first layer and in the preferences.
"""

import re

import pytest

from gatekeeper.audit import labels

from .harness import BANNER, SITES, banner_texts, normalised, open_demo, wait_for_banner, wait_for_banner_focus

VIEWPORTS = [(1280, 800), (375, 667)]
# Everything a visitor can see of a button's weight; the box size is compared apart.
STYLE = (
    "display", "font-family", "font-size", "font-weight", "font-style", "font-variant", "line-height",
    "letter-spacing", "text-transform", "text-decoration-line", "text-decoration-style", "text-shadow",
    "color", "background-color", "background-image", "opacity", "filter", "box-shadow",
    "outline-style", "outline-width", "outline-color", "border-radius", "transform",
    *(f"border-{side}-{what}" for side in ("top", "right", "bottom", "left") for what in ("width", "style", "color")),
    *(f"padding-{side}" for side in ("top", "right", "bottom", "left")),
)

# What each button looks like: its tag, computed style, box, markup inside, and the
# background colours from the button outward up to the first opaque one (through the
# shadow host), to compose what its text really sits on.
MEASURE = """([style]) => {
  const root = document.querySelector('gatekeeper-banner').shadowRoot;
  const parent = (el) => el.parentElement || (el.getRootNode() && el.getRootNode().host) || null;
  const measure = (action) => {
    const el = root.querySelector('button[data-gk=' + action + ']');
    if (!el) return null;
    const cs = getComputedStyle(el);
    const backgrounds = [];
    for (let e = el; e; e = parent(e)) {
      const bg = getComputedStyle(e).backgroundColor;
      backgrounds.push(bg);
      const alpha = bg.match(/[\\d.]+/g);
      if (alpha && (alpha.length < 4 || Number(alpha[3]) === 1)) break;
    }
    const r = el.getBoundingClientRect();
    return {
      tag: el.tagName, type: el.type, style: Object.fromEntries(style.map((p) => [p, cs.getPropertyValue(p)])),
      box: { width: r.width, height: r.height }, backgrounds, inner: el.innerHTML.trim(),
    };
  };
  return { accept: measure('accept'), reject: measure('reject') };
}"""


def rgba(css: str) -> tuple[float, float, float, float]:
    """A computed colour (`rgb(…)`, `rgba(…)`) as 0–255 channels and an alpha."""
    numbers = [float(n) for n in re.findall(r"[\d.]+", css)]
    assert css.startswith("rgb") and len(numbers) in (3, 4), f"unexpected computed colour {css!r}"
    return (*numbers[:3], numbers[3] if len(numbers) == 4 else 1.0)


def over(top, bottom):
    """`top` composited over an opaque `bottom`."""
    a = top[3]
    return (*(top[i] * a + bottom[i] * (1 - a) for i in range(3)), 1.0)


def effective_background(backgrounds: list[str]):
    # The page below an all-transparent chain is the browser's white canvas.
    colour = (255.0, 255.0, 255.0, 1.0)
    for css in reversed(backgrounds):
        colour = over(rgba(css), colour)
    return colour


def luminance(colour) -> float:
    def channel(c):
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in colour[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_contrast(button: dict) -> float:
    background = effective_background(button["backgrounds"])
    return contrast(over(rgba(button["style"]["color"]), background), background)


def assert_equal_weight(page, where: str) -> None:
    measured = page.evaluate(MEASURE, [list(STYLE)])
    accept, reject = measured["accept"], measured["reject"]
    assert accept and reject, f"{where}: accept or reject missing: {measured}"
    assert reject["tag"] == accept["tag"] == "BUTTON", where
    assert reject["type"] == accept["type"], where
    differing = {p: (accept["style"][p], reject["style"][p]) for p in STYLE if accept["style"][p] != reject["style"][p]}
    assert differing == {}, f"{where}: accept and reject differ (accept, reject): {differing}"
    # A link-styled reject: underlined, or text on nothing with no border.
    assert reject["style"]["text-decoration-line"] == "none", where
    framed = rgba(reject["style"]["background-color"])[3] > 0 or any(
        reject["style"][f"border-{side}-style"] != "none" and reject["style"][f"border-{side}-width"] != "0px"
        for side in ("top", "right", "bottom", "left")
    )
    assert framed, f"{where}: reject has neither a background nor a border, like a link"
    assert reject["box"]["width"] >= accept["box"]["width"] - 0.5, f"{where}: {reject['box']} < {accept['box']}"
    assert reject["box"]["height"] >= accept["box"]["height"] - 0.5, f"{where}: {reject['box']} < {accept['box']}"
    for name, button in measured.items():
        ratio = text_contrast(button)
        assert ratio >= 4.5, f"{where}: {name} contrast {ratio:.2f}:1 ({button['style']['color']} on {button['backgrounds']})"
    # Emphasis by markup (bold, icons, emoji) inside one label only.
    for name, button in measured.items():
        assert "<" not in button["inner"], f"{where}: markup inside {name}: {button['inner']!r}"


@pytest.mark.parametrize("site", sorted(SITES))
def test_05_equal_weight(site, server, context, page):
    for lang in SITES[site].languages:
        open_demo(page, server, site, **SITES[site].query(lang))
        wait_for_banner(page)
        for width, height in VIEWPORTS:
            page.set_viewport_size({"width": width, "height": height})
            page.wait_for_function(f"() => innerWidth === {width}", timeout=2_000)
            assert_equal_weight(page, f"{site} {lang} {width}x{height}")
        page.set_viewport_size({"width": 1280, "height": 800})


# Confirm-shaming: making the refusal sound foolish, costly or careless (EDPB taskforce,
# "deceptive button wording"): the audit's phrases (gatekeeper/audit/labels.py), every
# language's applied to every language — a French phrase in a Dutch banner is still
# shaming (and a sign of a mixed-up override).

@pytest.mark.parametrize("site", sorted(SITES))
def test_06_neutral_wording(site, server, context, page):
    for lang in SITES[site].languages:
        open_demo(page, server, site, **SITES[site].query(lang))
        wait_for_banner(page)
        # The dialog takes focus on open, not the accept button (a pre-selected "yes").
        wait_for_banner_focus(page)
        focused = page.evaluate("() => document.querySelector('gatekeeper-banner').shadowRoot.activeElement?.dataset.gk")
        assert focused != "accept", f"{site} {lang}: accept is focused on open"
        assert_equal_weight(page, f"{site} {lang}")
        text = banner_texts(page)
        assert page.locator(f"{BANNER} [data-layer=prefs] input[type=checkbox]").count() > 0, "preferences not read"
        found = labels.match(text, labels.SHAMING_PHRASES)
        assert found is None, f"{site} {lang}: confirm-shaming wording {found!r} in {normalised(text)!r}"
