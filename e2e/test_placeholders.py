"""Click-to-load placeholders: an `<iframe data-category data-src>` whose category is not
granted gets a placeholder in its own box, in the page's language, naming the vendor and
its cookies, with "load this one" and "always allow <category>". Nothing is requested from
the vendor before the click; no layout shift; axe-core clean; keyboard operable.
"""

from __future__ import annotations

import pytest

from gatekeeper.catalog import catalog
from gatekeeper.texts import builtin_texts

from .harness import COOKIE, cookies, wait_for_banner, wait_for_banner_focus
from .server import Server
from .test_accessibility import AXE, axe_violations

LANGUAGES = ("nl", "fr", "en", "de")
EMBEDS = ("youtube", "vimeo", "google_maps")
OTHER = "https://widgets.example-reviews.net/box/1"  # an iframe no preset knows
SHOP = """
id = "embeds"
name = "Embed shop"
controller = "Embed shop BV"
address = "Leuven"
policy_url = "https://shop.example/privacy"
languages = {languages}

[[categories]]
id = "marketing"
name = "Marketing"
description = "Ads."

[[categories]]
id = "functional"
name = "Functional"
description = "Maps."

[[categories]]
id = "analytics"
name = "Analytics"
description = "Views."

[[services]]
preset = "youtube"

[[services]]
preset = "vimeo"

[[services]]
preset = "google_maps"
"""
CLS = """() => new Promise((resolve) => {
  let total = 0;
  new PerformanceObserver((list) => { for (const e of list.getEntries()) if (!e.hadRecentInput) total += e.value; })
    .observe({ type: 'layout-shift', buffered: true });
  setTimeout(() => resolve(total), 300);
})"""
BOXES = """() => Array.from(document.querySelectorAll('iframe')).map((el) => {
  const r = el.getBoundingClientRect();
  return [Math.round(r.width), Math.round(r.height), !!el.srcdoc, el.hasAttribute('src')];
})"""
TITLES = ["YouTube", "Vimeo", "Google Maps", "Reviews"]


@pytest.fixture(scope="module")
def embed_server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("embeds")
    sites = workdir / "sites"
    sites.mkdir()
    (sites / "embeds.toml").write_text(SHOP.replace("{languages}", str(list(LANGUAGES)).replace("'", '"')), encoding="utf-8")
    server = Server.start(workdir, sites_dir=sites)
    yield server
    server.stop()


def frames() -> str:
    out = []
    for preset_id in EMBEDS:
        preset = catalog()[preset_id]
        out.append(f'<iframe title="{preset.name}" data-category="{preset.category}" data-src="{preset.loader.example}" width="480" height="270"></iframe>')
    out.append(f'<iframe title="Reviews" data-category="marketing" data-src="{OTHER}" style="width: 300px; height: 180px"></iframe>')
    return "\n".join(out)


def open_shop(page, server, lang):
    url = f"{server.url}/shop/embeds?{lang}"
    html = (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>Shop</title></head><body><main><h1>Shop</h1>'
        f'<p>Our store</p>{frames()}<p>Footer text</p></main><script src="{server.url}/gk/embeds.js"></script></body></html>'
    )
    page.context.route(url, lambda route: route.fulfill(body=html, content_type="text/html"))
    page.goto(url, wait_until="load")
    placeholder(page, 3).locator("button").nth(1).wait_for(state="visible", timeout=5_000)


def vendor_requests(tracker_log, since=0):
    return [s for s in tracker_log.requests[since:] if (s.vendor and s.vendor.id in EMBEDS) or "example-reviews" in s.url]


def placeholder(page, i):
    """The placeholder document shown in the i-th iframe of the shop page."""
    return page.frame_locator(f"iframe[title='{TITLES[i]}']")


def axe_with_placeholders(page) -> list[str]:
    """axe-core over the page and, through it, inside every placeholder document (axe
    tests a frame only when it runs there too): the violations, once the frames' buttons
    are seen among the checked nodes."""
    if not page.evaluate("() => !!window.axe"):
        page.evaluate(AXE)
    for frame in page.frames[1:]:
        if frame.url == "about:srcdoc":
            frame.evaluate(AXE)
    result = page.evaluate("""async () => {
        const r = await window.axe.run(document);
        return { violations: r.violations.map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', ')),
                 inFrames: r.passes.filter(p => p.id === 'button-name').flatMap(p => p.nodes).filter(n => n.target.length > 1).length };
    }""")
    assert result["inFrames"] >= 8, "axe must have checked the placeholders' buttons"
    return result["violations"]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_placeholders_stand_in_without_a_request_a_shift_or_an_axe_violation(lang, embed_server, context, page, tracker_log):
    open_shop(page, embed_server, lang)
    wait_for_banner(page)
    tracker_log.settle(page)
    assert vendor_requests(tracker_log) == [], tracker_log.describe()
    # The placeholder is the iframe's own document: same box (its size plus Chromium's 2px
    # border), no src, so no request and no layout shift.
    assert page.evaluate(BOXES) == [[484, 274, True, False]] * 3 + [[304, 184, True, False]]
    assert page.evaluate(CLS) == 0

    words = builtin_texts(lang)
    youtube = placeholder(page, 0)
    assert youtube.locator("html").get_attribute("lang") == lang
    assert youtube.locator("button").first.inner_text() == words["embed_video"]
    text = youtube.locator("p").first.inner_text()
    assert "YouTube" in text and "VISITOR_INFO1_LIVE" in text, text
    assert placeholder(page, 2).locator("button").first.inner_text() == words["embed_map"]
    assert placeholder(page, 3).locator("button").first.inner_text() == words["embed_content"]
    assert "widgets.example-reviews.net" in placeholder(page, 3).locator("p").first.inner_text()
    assert placeholder(page, 0).locator("button").nth(1).inner_text() == words["embed_always"].replace("{category}", "Marketing")
    # A site that declares embeds has the placeholders in its bundle: on the first paint,
    # with no later layer fetched for them (test_later_layer covers a site without).
    assert [s.path for s in tracker_log.requests if "/prefs/" in s.path] == []

    page.locator("gatekeeper-banner button[data-gk=reject]").click()
    tracker_log.settle(page)
    assert axe_with_placeholders(page) == [], "banner closed, placeholders showing"
    assert vendor_requests(tracker_log) == [], "a refusal keeps them waiting"


def test_load_this_video_loads_that_embed_only_from_the_keyboard(embed_server, context, page, tracker_log):
    open_shop(page, embed_server, "en")
    wait_for_banner(page)
    page.locator("gatekeeper-banner button[data-gk=reject]").click()
    page.wait_for_function("() => window.gatekeeper.decision !== null", timeout=5_000)
    before = {k: v["value"] for k, v in cookies(context).items() if k == COOKIE}
    mark = tracker_log.mark()

    load = placeholder(page, 0).locator("button").first
    for _ in range(10):  # Tab from the top of the page into the first placeholder
        page.keyboard.press("Tab")
        if load.evaluate("b => b === document.activeElement && document.hasFocus()"):
            break
    else:
        raise AssertionError("Tab never reached the placeholder's first button")
    page.keyboard.press("Enter")
    tracker_log.wait_for(page, "youtube-nocookie.com/embed/", since=mark)
    tracker_log.settle(page)
    assert {s.vendor.id for s in vendor_requests(tracker_log, mark)} == {"youtube"}, tracker_log.describe(mark)
    assert [b[2] for b in page.evaluate(BOXES)] == [False, True, True, True], "the other placeholders stay"
    assert page.locator("iframe[title=YouTube]").get_attribute("src").startswith("https://www.youtube-nocookie.com/")
    assert {k: v["value"] for k, v in cookies(context).items() if k == COOKIE} == before, "this embed only: the decision stays"
    assert not page.evaluate("() => window.gatekeeper.allows('marketing')")


def test_always_allow_grants_the_category_with_source_placeholder(embed_server, context, page, tracker_log):
    open_shop(page, embed_server, "nl")
    wait_for_banner(page)
    wait_for_banner_focus(page)  # or the banner's own first focus could take it back before the Space
    mark = tracker_log.mark()
    with page.expect_response(lambda r: r.request.method == "POST" and "/api/v1/consent" in r.url) as answer:
        placeholder(page, 2).locator("button").nth(1).focus()  # Google Maps: functional (under the open banner)
        page.keyboard.press("Space")
    consent_id = answer.value.json()["consent_id"]
    tracker_log.wait_for(page, "google.com/maps/embed", since=mark)
    [row] = embed_server.records(consent_id=consent_id)
    assert row["source"] == "placeholder"
    assert [c for c, on in row["categories"].items() if on] == ["necessary", "functional"]
    tracker_log.settle(page)
    assert {s.vendor.id for s in vendor_requests(tracker_log, mark) if s.vendor} == {"google_maps"}
    assert [b[2] for b in page.evaluate(BOXES)] == [True, True, False, True]
