"""Every engine a visitor uses: the same promises in Firefox ESR and WebKit (WebKitGTK) as
in Chromium, on both demo shops — the banner shows, nothing goes to a tracker before a
choice, a refusal sticks across a reload, the settings control reopens the banner, and
accepting all releases the site's tags. Tracker hosts are answered by the stand-ins
through a local proxy (tracker_proxy.py), which also sees every tracker request.
An engine that cannot be installed here is skipped, saying why.
"""

from __future__ import annotations

import time

import pytest

from .engines import ENGINES, EngineError, missing
from .harness import SITES
from .tracker_proxy import TrackerProxy

DIALOG = "document.querySelector('gatekeeper-banner')?.shadowRoot.querySelector('[role=dialog]')"
BANNER_SHOWN = f"!!({DIALOG}) && !document.querySelector('gatekeeper-banner').hidden && {DIALOG}.getBoundingClientRect().height > 0"
BUTTON = "document.querySelector('gatekeeper-banner').shadowRoot.querySelector('button[data-gk={}]')"
SETTINGS = "document.querySelector('gatekeeper-settings')?.shadowRoot.querySelector('button')"
SETTINGS_SHOWN = f"!!({SETTINGS}) && !document.querySelector('gatekeeper-settings').hidden"
TRACKER_COOKIES = ("_ga", "_gcl_", "_fbp", "_fbc", "fbm_", "fr", "2c.", "IDE")
QUIET = 1.0  # seconds a page is left alone to show that nothing more happens


def tags_of(site: str) -> list[str]:
    """What accepting all must fetch: every loader of the demo site."""
    demo = SITES[site]
    tags = [f"googletagmanager.com/gtag/js?id={demo.ga4}", "google-analytics.com/g/collect"]
    if demo.google_ads:
        tags += [f"doubleclick.net/pagead/viewthroughconversion/{demo.google_ads.removeprefix('AW-')}/"]
    if "social" in demo.categories:
        tags += ["connect.facebook.net/nl_BE/sdk.js"]
    if "personalisation" in demo.categories:
        tags += ["connect.nosto.com/include/ecomarket"]
    return tags


def until(browser, expression: str, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not browser.value(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def proxy(tmp_path_factory):
    running = TrackerProxy(tmp_path_factory.mktemp("proxy"))
    yield running
    running.close()


@pytest.fixture(scope="module", params=sorted(ENGINES))
def engine(request, proxy):
    """One browser per engine for the module (each start costs seconds)."""
    why = missing(request.param)
    if why:
        pytest.skip(f"{request.param}: {why}")
    try:
        engine = ENGINES[request.param](proxy.port)
    except EngineError as exc:
        pytest.skip(f"{request.param} could not start here: {exc}")
    yield engine
    engine.close()


@pytest.fixture
def browser(engine, server):
    """The engine as a new visitor: no cookie left from the site before."""
    engine.goto(f"{server.url}/healthz")
    engine.forget()
    return engine


@pytest.mark.parametrize("site", sorted(SITES))
def test_the_promises_hold_in_every_engine(site, browser, proxy, server):
    start = proxy.mark()
    browser.goto(server.page_url(site))
    until(browser, BANNER_SHOWN, "the banner shows")
    assert browser.value("window.isSecureContext"), "the page must be a secure context (WebCrypto)"
    time.sleep(QUIET)
    assert proxy.trackers(start) == [], "a tracker before any choice"
    assert not [n for n in browser.cookies() if n.startswith(TRACKER_COOKIES)]

    browser.click(BUTTON.format("reject"))
    until(browser, "document.cookie.includes('gk_consent=')", "the refusal is stored")
    browser.reload()
    until(browser, SETTINGS_SHOWN, "the settings control shows after the reload")
    time.sleep(QUIET)
    assert not browser.value(BANNER_SHOWN), "the banner came back after a refusal"
    assert browser.value("window.gatekeeper.decision.categories.analytics") is False
    assert proxy.trackers(start) == [], "a tracker after a refusal"

    browser.click(SETTINGS)
    until(browser, BANNER_SHOWN, "the settings control reopens the banner")
    until(browser, f"!{BUTTON.format('save')}.hidden", "the preferences show")

    browser.click(BUTTON.format("accept"))
    until(browser, f"!({BANNER_SHOWN})", "the banner closes")
    expected = tags_of(site)
    deadline = time.monotonic() + 10
    while (missing_tags := [t for t in expected if not any(t in url for url in proxy.trackers(start))]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert missing_tags == [], f"not released after accepting all: {missing_tags}; seen {proxy.trackers(start)}"
    assert any(name.startswith("_ga") for name in browser.cookies()), "the GA stand-in set no cookie"
