"""What the browser tests share about the page: the banner's controls, the decision,
storage, the consent cookie, and what the two demo sites promise.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

from playwright.sync_api import Browser, BrowserContext, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from gatekeeper.audit.network import CONSENT_API, TrackerLog, route_trackers
from gatekeeper.cookies import COOKIE_NAME, ESSENTIAL_COOKIES, ESSENTIAL_STORAGE_KEYS  # noqa: F401 (the tests import them here)
from gatekeeper.audit.visit import VIEWPORT

from .server import Server

COOKIE = COOKIE_NAME
BANNER = "gatekeeper-banner"
DIALOG = f"{BANNER} [role=dialog]"

# Race hunting (README, Tests): every Response.json() and requestAnimationFrame callback of
# the page comes this many ms late, as on a starved CI machine, so a test that reads the
# page before the bundle has acted on what Playwright saw fails every time, not now and then.
SLOW_PAGE_MS = int(os.environ.get("E2E_SLOW_PAGE_MS") or 0)
_SLOW_PAGE = """(() => { const json = Response.prototype.json, raf = window.requestAnimationFrame.bind(window);
  const late = (value) => new Promise((resolve) => setTimeout(() => resolve(value), %d));
  Response.prototype.json = function () { return json.call(this).then(late) };
  window.requestAnimationFrame = (callback) => setTimeout(() => raf(callback), %d) })()"""


def new_context(browser: Browser, tracker_log: TrackerLog | None = None, *, stand_ins: bool = True, **options) -> BrowserContext:
    """A fresh visitor: no cookies, 1280x800 unless `options` say otherwise, every request in
    `tracker_log`, tracker hosts answered by the stand-ins (without them the HTTP cache
    stays on: routing turns it off)."""
    context = browser.new_context(**{"viewport": VIEWPORT, **options})
    context.set_default_timeout(5_000)
    if SLOW_PAGE_MS:
        context.add_init_script(_SLOW_PAGE % (SLOW_PAGE_MS, SLOW_PAGE_MS))
    if tracker_log is not None:
        tracker_log.attach(context)
    if stand_ins:
        route_trackers(context)
    return context


def cookies(context: BrowserContext) -> dict[str, dict]:
    """All cookies of the context by name, HttpOnly and third-party ones included."""
    return {cookie["name"]: cookie for cookie in context.cookies()}


def storage_keys(page: Page) -> dict[str, list[str]]:
    return page.evaluate(
        """() => ({
            local: Object.keys(window.localStorage),
            session: Object.keys(window.sessionStorage),
        })"""
    )


def decode_token(value: str) -> tuple[dict, str]:
    """(payload, signature) of a gk_consent value: base64url(JSON) "." signature."""
    payload, _, signature = value.rpartition(".")
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    return json.loads(raw), signature


def encode_payload(payload: dict) -> str:
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")



# --- the page -------------------------------------------------------------------------

def open_demo(page: Page, server: Server, site: str, path: str = "", **query: str) -> None:
    page.goto(server.page_url(site, path, **query), wait_until="load", timeout=10_000)


def wait_for_banner(page: Page, timeout: float = 5_000) -> None:
    page.locator(DIALOG).first.wait_for(state="visible", timeout=timeout)


def wait_for_banner_focus(page: Page, timeout: float = 5_000) -> None:
    """Until the banner has taken focus: on page load the bundle focuses it only after the
    first paint (banner.js show), so a key pressed before then may land elsewhere, and
    focus set before then is taken back."""
    page.wait_for_function("() => document.activeElement && document.activeElement.localName === 'gatekeeper-banner'",
                           timeout=timeout)


def banner_visible(page: Page) -> bool:
    return page.locator(f"{DIALOG}:visible").count() > 0


def decision(page: Page) -> dict | None:
    return page.evaluate("() => window.gatekeeper ? window.gatekeeper.decision : undefined")


def wait_for_decision(page: Page, where: str = "", timeout: float = 5_000) -> dict:
    """The decision the gate read from the cookie, once it has: it verifies the token
    (WebCrypto) after the page's load event may already have fired."""
    try:
        page.wait_for_function("() => window.gatekeeper && window.gatekeeper.decision", timeout=timeout)
    except PlaywrightTimeoutError:
        raise AssertionError(f"{where or page.url}: no decision read from the cookie within {timeout / 1000:.0f}s") from None
    return decision(page)


def is_consent_post(response) -> bool:
    return urlsplit(response.url).path == CONSENT_API and response.request.method == "POST"


@contextmanager
def deciding(page: Page) -> Iterator:
    """Around what makes a decision on `page` (a click, a key): on leaving, the consent API
    has answered 201 (`.value` is that response) and the bundle has applied the answer.

    The bundle applies it (tags, storage, window.gatekeeper.decision) only after it has
    read it, which may be later than Playwright's "response received": its
    gatekeeper:consent event says when it has (the tags it grants requested, the token
    remembered, the decision set)."""
    applied = page.evaluate_handle(
        "() => { const s = { done: false }; addEventListener('gatekeeper:consent', () => { s.done = true }, { once: true }); return s }"
    )
    with page.expect_response(is_consent_post, timeout=5_000) as answer:
        yield answer
    response = answer.value
    assert response.status == 201, f"consent POST answered {response.status}: {response.text()}"
    page.wait_for_function("s => s.done", arg=applied, timeout=5_000)
    applied.dispose()


def choose(page: Page, action: str, categories: tuple[str, ...] = ()) -> dict:
    """Make a decision through the banner and return the API's answer, once the page has
    applied it (see deciding).

    action: "accept" or "reject" (first layer), or "save" (preferences with `categories`
    ticked).
    """
    with deciding(page) as answer:
        if action in ("accept", "reject"):
            page.locator(f"{BANNER} button[data-gk={action}]").click(timeout=5_000)
        elif action == "save":
            open_preferences(page)
            for category in categories:
                page.locator(f'{BANNER} input[type=checkbox][data-category="{category}"]').check(timeout=5_000)
            page.locator(f"{BANNER} button[data-gk=save]").click(timeout=5_000)
        else:
            raise ValueError(action)
    return answer.value.json()


def open_preferences(page: Page) -> None:
    if page.locator(f"{BANNER} button[data-gk=save]").is_visible():
        return
    page.locator(f"{BANNER} button[data-gk=prefs]").click(timeout=5_000)
    page.locator(f"{BANNER} button[data-gk=save]").wait_for(state="visible", timeout=5_000)


def data_layer(page: Page) -> list:
    """window.dataLayer as JSON: gtag() `arguments` entries become lists."""
    return page.evaluate(
        """() => (window.dataLayer || []).map(e =>
            e && typeof e === 'object' && typeof e.length === 'number' && typeof e[0] === 'string'
              ? Array.prototype.slice.call(e) : e)"""
    )


def own_tags(page: Page) -> dict[str, str]:
    """Which of the shop's own text/plain tags ran (dataset.ownAnalytics = "loaded")."""
    return page.evaluate("() => Object.assign({}, document.documentElement.dataset)")


def same_site_links(page: Page, site: str, limit: int = 2) -> list[str]:
    hrefs = page.evaluate(
        """prefix => Array.from(document.querySelectorAll('a[href]'))
            .map(a => new URL(a.getAttribute('href'), location.href))
            .filter(u => u.origin === location.origin && u.pathname.startsWith(prefix + '/'))
            .map(u => u.pathname + u.search)""",
        f"/demo/{site}",
    )
    return list(dict.fromkeys(hrefs))[:limit]


_BANNER_TEXT = """() => {
  const texts = [];
  // The banner and the bundle's cookie-settings control; text nodes one by one, so words
  // of adjacent elements never run together, hidden ones included.
  for (const host of document.querySelectorAll('gatekeeper-banner, gatekeeper-settings')) {
    const root = host.shadowRoot;
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) texts.push(walker.currentNode.data);
    root.querySelectorAll('[aria-label],[title],[alt],[placeholder]').forEach((el) => {
      for (const a of ['aria-label', 'title', 'alt', 'placeholder']) if (el.hasAttribute(a)) texts.push(el.getAttribute(a));
    });
  }
  return texts.join('\\n');
}"""


def normalised(text: str) -> str:
    """Lower case, straight apostrophes, single spaces: for comparing wording."""
    return re.sub(r"\s+", " ", text.replace("\u2019", "'").replace("\u00a0", " ")).lower()


def banner_texts(page: Page) -> str:
    """Every text of the banner on the open page: first layer, then preferences."""
    first = page.evaluate(_BANNER_TEXT)
    open_preferences(page)
    return first + "\n" + page.evaluate(_BANNER_TEXT)


# --- what the demo sites promise (sites/*.toml, the demo pages) -------------------------

@dataclass(frozen=True)
class DemoSite:
    id: str
    languages: tuple[str, ...]
    categories: tuple[str, ...]  # the optional ones; `necessary` is always there
    ga4: str | None = None
    google_ads: str | None = None

    @property
    def all_categories(self) -> tuple[str, ...]:
        return ("necessary", *self.categories)

    def query(self, lang: str) -> dict[str, str]:
        """The demo page's query for `lang`: none for the site's default language."""
        return {} if lang == self.languages[0] else {"lang": lang}


SITES = {
    "ecomarket": DemoSite(
        "ecomarket", ("nl", "fr", "en", "de"), ("analytics", "marketing", "social", "personalisation"),
        ga4="G-ECOM12345", google_ads="AW-987654321",
    ),
    "locomail": DemoSite("locomail", ("nl", "en"), ("analytics",), ga4="G-LOCO67890"),
}

SITE_LANGUAGES = [(site.id, lang) for site in SITES.values() for lang in site.languages]

REJECT_LABELS = {"nl": "Alles weigeren", "fr": "Tout refuser", "en": "Reject all", "de": "Alle ablehnen"}
ACCEPT_LABELS = {"nl": "Alles accepteren", "fr": "Tout accepter", "en": "Accept all", "de": "Alle akzeptieren"}

# The tracker vendors each category may bring; Google Tag Manager (a gtag.js without a
# recognisable id) comes with either Google category.
VENDORS_BY_CATEGORY = {
    "analytics": {"ga4", "gtm"},
    "marketing": {"google_ads", "gtm"},
    "social": {"facebook_sdk"},
    "personalisation": {"nosto"},
}
GOOGLE_VENDORS = frozenset({"ga4", "google_ads", "gtm"})
