"""Late content (single-page shops): `type="text/plain"` scripts and `data-src` iframes
added after load are held until their category is granted, and released at once when it
already is — the same rule as the tags in the first HTML.
"""

import pytest

from .harness import SITES, choose, open_demo, wait_for_banner

# Adds, inside a fresh <div>, a held script that marks <html data-late-…> and a held iframe.
ADD = """([category, tag]) => {
    const box = document.createElement('div');
    const script = document.createElement('script');
    script.type = 'text/plain';
    script.dataset.category = category;
    script.text = `document.documentElement.dataset.late${tag} = 'ran'`;
    const frame = document.createElement('iframe');
    frame.dataset.category = category;
    frame.dataset.src = '/gk/' + location.pathname.split('/')[2] + '/cookies#' + tag;
    frame.title = tag;
    frame.id = 'late-' + tag;
    box.append(script, frame);
    document.body.appendChild(box);
}"""


def add_late(page, category, tag):
    page.evaluate(ADD, [category, tag])


def wait_held(page, tag):
    """Until the gate has handled the late content `tag` and held it: its iframe shows the
    click-to-load placeholder (the script beside it, earlier in the same <div>, was judged
    first)."""
    page.wait_for_function("tag => document.getElementById('late-' + tag).srcdoc !== ''", arg=tag, timeout=5_000)


def state(page, tag):
    """(did the script run, the iframe's src) for the late content named `tag`."""
    return page.evaluate(
        "tag => [document.documentElement.dataset['late' + tag] === 'ran', document.getElementById('late-' + tag).src]",
        tag,
    )


@pytest.mark.parametrize("site", sorted(SITES))
def test_late_content_is_held_then_released_with_its_category(site, server, context, page, tracker_log):
    open_demo(page, server, site)
    wait_for_banner(page)
    add_late(page, "analytics", "Before")
    wait_held(page, "Before")
    assert state(page, "Before") == [False, ""], "held while undecided"

    choose(page, "save", ("analytics",))
    page.wait_for_function("() => document.documentElement.dataset.lateBefore === 'ran'", timeout=5_000)
    ran, src = state(page, "Before")
    assert ran and src.endswith("/cookies#Before")
    page.frame_locator("#late-Before").locator("h1").wait_for(state="visible")

    # After the grant: late analytics content runs at once, late content of a refused
    # category stays inert.
    add_late(page, "analytics", "After")
    refused = next((c for c in SITES[site].categories if c != "analytics"), None)
    if refused:
        add_late(page, refused, "Refused")
    page.wait_for_function("() => document.documentElement.dataset.lateAfter === 'ran'", timeout=5_000)
    assert state(page, "After")[1].endswith("/cookies#After")
    if refused:
        wait_held(page, "Refused")
        assert state(page, "Refused") == [False, ""]
    tracker_log.settle(page)
    assert tracker_log.vendors() <= {"ga4", "gtm"}, tracker_log.describe()


def test_late_content_stays_held_after_a_refusal(server, context, page, tracker_log):
    open_demo(page, server, "ecomarket")
    wait_for_banner(page)
    choose(page, "reject")
    for category in SITES["ecomarket"].categories:
        add_late(page, category, category.capitalize())
    for category in SITES["ecomarket"].categories:
        wait_held(page, category.capitalize())
        assert state(page, category.capitalize()) == [False, ""], category
    tracker_log.settle(page)
    assert tracker_log.trackers() == [], tracker_log.describe()
