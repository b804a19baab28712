"""Rules 9 and 16 (docs/rules.md): a refusal sticks — no banner and nothing from trackers on later
pages, until `consent_days` have passed (the page's clock moved by Playwright) or the
site's `revision` is bumped (a second real server with a bumped copy of the sites) — and
after a refusal the shop still works: browse, add to cart, check out.
"""

import re
import shutil

import pytest

from gatekeeper.pages import demo_data

from .harness import (
    COOKIE,
    SITES,
    banner_visible,
    choose,
    cookies,
    decision,
    decode_token,
    open_demo,
    same_site_links,
    wait_for_banner,
    wait_for_decision,
)
from .server import REPO, Server

DAY = 86400


def reject(page, server, site):
    open_demo(page, server, site)
    wait_for_banner(page)
    choose(page, "reject")
    assert not banner_visible(page)


def assert_refusal_holds(page, tracker_log, where):
    """The page ran with the stored refusal: no banner, everything refused, no tracker."""
    current = wait_for_decision(page, where)  # read from the cookie once its signature is checked
    tracker_log.settle(page)
    assert not banner_visible(page), f"{where}: the banner is back"
    assert [c for c, granted in current["categories"].items() if granted and c != "necessary"] == [], current
    assert tracker_log.trackers() == [], f"{where}: {tracker_log.describe()}"


def assert_asked_again(page, tracker_log, mark, where):
    wait_for_banner(page)
    tracker_log.settle(page)
    assert decision(page) is None, f"{where}: an old decision still counts"
    assert tracker_log.trackers(since=mark) == [], f"{where}: {tracker_log.describe(mark)}"


@pytest.mark.parametrize("site", sorted(SITES))
def test_09_refusal_sticks_until_consent_days_have_passed(site, server, context, page, tracker_log):
    reject(page, server, site)
    page.reload(wait_until="load")
    assert_refusal_holds(page, tracker_log, "reload")
    for link in same_site_links(page, site):
        page.goto(server.url + link, wait_until="load")
        assert_refusal_holds(page, tracker_log, link)

    consent_days = context.request.get(f"{server.url}/gk/{site}/cookies.json").json()["consent_days"]
    assert consent_days == 182  # both example sites: six months
    issued, _ = decode_token(cookies(context)[COOKIE]["value"])
    expires = issued["iat"] + consent_days * DAY

    # The cookie itself outlives the decision (Max-Age is the browser's real clock); only
    # the page's clock moves, as it would for a visitor coming back after six months.
    page.clock.install(time=expires - 3600)
    page.reload(wait_until="load")
    assert_refusal_holds(page, tracker_log, "an hour before consent_days")

    mark = tracker_log.mark()
    page.clock.set_system_time(expires + 60)
    page.reload(wait_until="load")
    assert_asked_again(page, tracker_log, mark, "after consent_days")


@pytest.fixture(scope="module")
def bumped_server(server, tmp_path_factory):
    """The same sites with `revision = 2`, signing with the first server's keys (both
    servers share 127.0.0.1, so the browser sends them the same consent cookie)."""
    workdir = tmp_path_factory.mktemp("gatekeeper-revision-2")
    sites = workdir / "sites"
    shutil.copytree(REPO / "sites", sites)
    for path in sites.glob("*.toml"):
        text, count = re.subn(r"(?m)^revision = 1$", "revision = 2", path.read_text("utf-8"))
        assert count == 1, f"{path.name}: no 'revision = 1' to bump"
        path.write_text(text, "utf-8")
    running = Server.start(workdir, sites_dir=sites, secret_keys=server.secret_keys)
    yield running
    running.stop()


@pytest.mark.parametrize("site", sorted(SITES))
def test_09_refusal_sticks_until_the_revision_is_bumped(site, server, bumped_server, context, page, tracker_log):
    reject(page, server, site)
    page.reload(wait_until="load")
    assert_refusal_holds(page, tracker_log, "revision 1")

    mark = tracker_log.mark()
    open_demo(page, bumped_server, site)
    assert_asked_again(page, tracker_log, mark, "revision 2")
    # The cookie verified on the second server (a bad signature would have cleared it):
    # only the revision makes the old refusal stale.
    payload, _ = decode_token(cookies(context)[COOKIE]["value"])
    assert payload["rev"] == 1

    choose(page, "reject")
    page.reload(wait_until="load")
    assert_refusal_holds(page, tracker_log, "revision 2, decided again")
    payload, _ = decode_token(cookies(context)[COOKIE]["value"])
    assert payload["rev"] == 2


@pytest.mark.parametrize("site", sorted(SITES))
def test_16_no_cookie_wall(site, server, context, page, tracker_log):
    ui = demo_data()["ui"][SITES[site].languages[0]]
    reject(page, server, site)

    # Real clicks: Playwright refuses to click what a leftover overlay covers.
    page.locator("main a[href*='/product/']").first.click()
    page.wait_for_url(re.compile(r"/product/\d+"), timeout=5_000)
    product = page.locator("main h1").inner_text()
    with page.expect_response(lambda r: r.url.endswith("/cart") and r.request.method == "POST") as added:
        page.get_by_role("button", name=ui["add"]).click()
    assert added.value.status == 303, f"add to cart answered {added.value.status}"
    page.wait_for_url(re.compile(r"/cart"), timeout=5_000)
    assert page.locator("main table").inner_text().count(product) == 1
    assert f"{ui['cart']} (1)" in page.locator("header nav").inner_text()

    page.get_by_role("link", name=ui["checkout"]).click()
    page.wait_for_url(re.compile(r"/checkout"), timeout=5_000)
    page.get_by_label(ui["name"]).fill("A. Visitor")
    page.get_by_label(ui["email"]).fill("visitor@example.org")
    page.get_by_label(ui["address"]).fill("Grote Markt 1, Brussel")
    with page.expect_response(lambda r: r.url.endswith("/checkout") and r.request.method == "POST") as ordered:
        page.get_by_role("button", name=ui["order"]).click()
    assert ordered.value.status == 200
    assert page.locator("main h1").inner_text() == ui["thanks"]

    assert not banner_visible(page)
    tracker_log.settle(page)
    assert tracker_log.trackers() == [], tracker_log.describe()
