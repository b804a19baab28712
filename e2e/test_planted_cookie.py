"""A planted gk_consent never releases a tag: the bundle verifies the token's ECDSA signature
itself (WebCrypto) before it releases anything, so a cookie the server never saw — on a
narrower path, on the parent domain, beside a genuine one, another site's, or signed with
a key the bundle does not list — reads as undecided: banner shown, zero tracker requests.

Most variants strip the bundle response's Set-Cookie, so the server's own clearing cannot
help: what is proven is the browser's check. The parent-domain and plain-http cases run on
a real host name (shop.ecomarket.be, mapped to 127.0.0.1 by Chromium's resolver rules).
"""

from __future__ import annotations

import time
import urllib.request
from urllib.parse import urlsplit

import pytest

from gatekeeper import browser as gk_browser
from gatekeeper.tokens import ConsentToken, TokenSigner

from .harness import COOKIE, SITES, banner_visible, cookies, decision, encode_payload, new_context, wait_for_banner

SITE = "ecomarket"
HOST = "shop.ecomarket.be"  # within the site's cookie_domain, ecomarket.be
PLAIN = "plain.ecomarket.be"  # the same, but not a secure context: no WebCrypto


def token(keys, site: str = SITE, granted=None, rev: int = 1) -> str:
    granted = tuple(SITES[SITE].categories) if granted is None else granted
    return TokenSigner(keys).sign(ConsentToken(site=site, id="planted", granted=granted, rev=rev, iat=int(time.time())))


def junk_grant_all() -> str:
    """A payload granting everything under a signature of the right shape made by no key."""
    payload = {"site": SITE, "id": "planted", "granted": list(SITES[SITE].categories), "rev": 1,
               "iat": int(time.time()), "v": 2}
    return f"{encode_payload(payload)}.{'A' * 86}"


def unseen_by_server(context) -> None:
    """The bundle fetched without the browser's cookies, as from another site: the server
    never sees the planted cookie, so its clearing cannot help."""

    def handle(route):
        url = urlsplit(route.request.url)
        with urllib.request.urlopen(f"http://127.0.0.1:{url.port}{url.path}", timeout=5) as response:
            route.fulfill(status=response.status, body=response.read(), content_type=response.headers["content-type"])

    context.route("**/gk/*.js", handle)


def assert_undecided_and_silent(page, tracker_log, mark) -> None:
    wait_for_banner(page)
    page.wait_for_load_state("networkidle", timeout=5_000)
    tracker_log.settle(page)
    assert tracker_log.trackers(since=mark) == [], tracker_log.describe(mark)
    assert decision(page) is None


def plant(context, server, value: str, **where) -> None:
    scope = where or {"url": server.url}
    context.add_cookies([{"name": COOKIE, "value": value, **scope}])


def narrower_path(context, server):
    plant(context, server, junk_grant_all(), domain="127.0.0.1", path=f"/demo/{SITE}")


def beside_a_genuine_refusal(context, server):
    plant(context, server, token(server.secret_keys.split(","), granted=()))
    plant(context, server, junk_grant_all(), domain="127.0.0.1", path="/demo")


def beside_a_genuine_grant(context, server):
    """Two genuine tokens that disagree (one planted from an earlier visit): undecided."""
    keys = server.secret_keys.split(",")
    plant(context, server, token(keys, granted=()))
    plant(context, server, token(keys), domain="127.0.0.1", path="/demo")


def another_sites_token(context, server):
    plant(context, server, token(server.secret_keys.split(","), site="locomail", granted=("analytics",)))


def a_key_not_in_the_bundle(context, server):
    plant(context, server, token(["a-key-this-server-never-had"]))


def a_stale_revision(context, server):
    plant(context, server, token(server.secret_keys.split(","), rev=0))


VARIANTS = [narrower_path, beside_a_genuine_refusal, beside_a_genuine_grant, another_sites_token,
            a_key_not_in_the_bundle, a_stale_revision]


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.__name__)
def test_a_planted_cookie_leaves_the_banner_and_releases_nothing(variant, server, context, page, tracker_log):
    unseen_by_server(context)
    variant(context, server)
    mark = tracker_log.mark()
    page.goto(f"{server.url}/demo/{SITE}", wait_until="load")
    assert_undecided_and_silent(page, tracker_log, mark)


def test_a_genuine_cookie_releases_tags_on_reload_with_no_request_before_them(server, context, page, tracker_log):
    plant(context, server, token(server.secret_keys.split(","), granted=("analytics",)))
    mark = tracker_log.mark()
    page.goto(f"{server.url}/demo/{SITE}", wait_until="load")
    first = tracker_log.wait_for(page, "googletagmanager.com/gtag/js", since=mark)
    tracker_log.settle(page)

    assert not banner_visible(page)
    assert decision(page)["categories"]["analytics"] is True
    seen = tracker_log.requests[mark:]
    before = [s for s in seen[: seen.index(first)] if urlsplit(s.url).path.startswith(("/api/", "/gk/"))]
    assert [s.path for s in before] == [f"/gk/{SITE}.js"], "the bundle alone, then the tag: no round trip"
    assert tracker_log.api_calls(since=mark) == []
    assert {s.vendor.id for s in tracker_log.trackers(since=mark)} <= {"ga4", "gtm"}


# --- on a real host name: the parent domain, and plain http ---------------------------------

@pytest.fixture(scope="module")
def named_browser(playwright_instance, server):
    """Chromium resolving shop. and plain.ecomarket.be to this server; only shop. is treated as a
    secure context (as https would be), plain. stays plain http without WebCrypto."""
    port = urlsplit(server.url).port
    options = gk_browser.launch_options(offline=True)
    options["args"] = [a for a in options["args"] if a != gk_browser.OFFLINE_ARG] + [
        f"--host-resolver-rules=MAP {HOST} 127.0.0.1, MAP {PLAIN} 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        f"--unsafely-treat-insecure-origin-as-secure=http://{HOST}:{port}",
    ]
    chromium = playwright_instance.chromium.launch(**options)
    yield chromium
    chromium.close()


@pytest.fixture
def named_context(named_browser, tracker_log):
    ctx = new_context(named_browser, tracker_log)
    yield ctx
    ctx.close()


def named_url(server, host: str) -> str:
    return f"http://{host}:{urlsplit(server.url).port}/demo/{SITE}"


def test_a_parent_domain_cookie_beside_nothing_releases_nothing(server, named_context, tracker_log):
    unseen_by_server(named_context)
    page = named_context.new_page()
    plant(named_context, server, junk_grant_all(), domain=".ecomarket.be", path="/")
    mark = tracker_log.mark()
    page.goto(named_url(server, HOST), wait_until="load")
    assert page.evaluate("() => isSecureContext")
    assert_undecided_and_silent(page, tracker_log, mark)


def test_the_server_clears_a_parent_domain_forgery_on_the_bundle_response(server, named_context, tracker_log):
    page = named_context.new_page()
    plant(named_context, server, junk_grant_all(), domain=".ecomarket.be", path="/")
    mark = tracker_log.mark()
    page.goto(named_url(server, HOST), wait_until="load")
    assert_undecided_and_silent(page, tracker_log, mark)
    assert COOKIE not in cookies(named_context), "expired with Domain=ecomarket.be by the bundle response"


def test_a_genuine_cookie_on_the_parent_domain_is_honoured(server, named_context, tracker_log):
    page = named_context.new_page()
    plant(named_context, server, token(server.secret_keys.split(","), granted=("analytics",)), domain=".ecomarket.be", path="/")
    page.goto(named_url(server, HOST), wait_until="load")
    tracker_log.wait_for(page, "googletagmanager.com/gtag/js")
    assert not banner_visible(page)


def test_plain_http_fails_closed_even_for_a_genuine_cookie(server, named_context, tracker_log):
    """No WebCrypto outside a secure context: the gate cannot verify, so it releases nothing."""
    page = named_context.new_page()
    plant(named_context, server, token(server.secret_keys.split(",")), domain=PLAIN, path="/")
    mark = tracker_log.mark()
    page.goto(named_url(server, PLAIN), wait_until="load")
    assert page.evaluate("() => !isSecureContext && !window.crypto.subtle")
    assert_undecided_and_silent(page, tracker_log, mark)
