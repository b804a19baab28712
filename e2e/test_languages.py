"""A German visitor sees German everywhere the bundle speaks: first layer, preferences,
the settings control, the withdrawal note and the cookie declaration — every text in
German and none left in another of the site's languages.
"""

import pytest

from gatekeeper.sites import load_sites
from gatekeeper.texts import site_texts

from .harness import BANNER, SITES, choose, normalised, open_demo, open_preferences, wait_for_banner
from .server import REPO

SETTINGS = "gatekeeper-settings button"


@pytest.fixture(scope="module")
def ecomarket():
    return load_sites(REPO / "sites")["ecomarket"]


def german_and_foreign(site):
    """(every German text of the site, every text of its other languages that differs)."""
    def texts(lang):
        values = set(site_texts(site, lang).values())
        for category in site.categories:
            values |= {site.text(category.name, lang), site.text(category.description, lang)}
        for service in site.services:
            values |= {site.text(service.purpose, lang), site.text(service.location, lang)}
            values |= {site.text(cookie.purpose, lang) for cookie in service.cookies}
        return values

    german = texts("de")
    foreign = set().union(*(texts(lang) for lang in site.languages if lang != "de")) - german
    # Short words ("Cookie", "Marketing", "Google") are the same in several languages.
    return german, {text for text in foreign if len(text) > 12}


def assert_german(text: str, expected: list[str], foreign: set[str], where: str) -> None:
    shown = normalised(text)
    missing = [t for t in expected if normalised(t) not in shown]
    assert missing == [], f"{where}: German texts missing: {missing}"
    leaked = sorted(t for t in foreign if normalised(t) in shown)
    assert leaked == [], f"{where}: texts of another language: {leaked}"


def test_german_banner_preferences_control_withdrawal_and_declaration(server, context, page, ecomarket):
    assert "de" in SITES["ecomarket"].languages
    t = site_texts(ecomarket, "de")
    _, foreign = german_and_foreign(ecomarket)
    open_demo(page, server, "ecomarket", lang="de")
    assert page.get_attribute("html", "lang") == "de"
    wait_for_banner(page)

    first = page.locator(f"{BANNER} [role=dialog]")
    assert first.get_attribute("lang") == "de"
    first_layer = [t[k] for k in ("title", "intro", "choice", "policy", "declaration", "accept", "reject", "prefs")]
    first_layer += [ecomarket.text(c.name, "de") for c in ecomarket.categories]
    assert_german(first.inner_text(), first_layer, foreign, "first layer")

    open_preferences(page)
    prefs = [t[k] for k in ("prefs_title", "prefs_intro", "necessary", "always_on", "necessary_description", "save",
                            "service", "vendor", "purpose", "location", "outside_eu", "yes", "no")]
    prefs += [ecomarket.text(c.description, "de") for c in ecomarket.categories]
    prefs += [ecomarket.text(s.purpose, "de") for s in ecomarket.services]
    prefs += [ecomarket.text(s.location, "de") for s in ecomarket.services]
    assert_german(first.inner_text(), prefs, foreign, "preferences")

    choose(page, "save", ("analytics",))
    control = page.locator(SETTINGS)
    control.wait_for(state="visible")
    assert control.inner_text() == t["settings"] == "Cookie-Einstellungen"
    control.click()
    page.locator(f"{BANNER} button[data-gk=withdraw]").click()
    note = page.locator(f"{BANNER} [data-gk-withdrawn]")
    note.wait_for(state="visible")
    assert_german(note.inner_text(), [t["withdrawn"], t["reload"]], foreign, "withdrawal note")
    assert page.locator(f"{BANNER} button[data-gk=withdraw]").is_hidden()

    href = page.locator(f"{BANNER} a[data-gk-local][href*='/cookies']").get_attribute("href")
    assert href.endswith("/gk/ecomarket/cookies?lang=de"), href
    page.goto(href, wait_until="load")
    assert page.get_attribute("html", "lang") == "de"
    declaration = [t[k] for k in ("cookies_title", "cookies_intro", "cookie", "lifetime", "party", "first_party",
                                  "third_party", "days", "privacy", "consent_cookie")]
    declaration += [ecomarket.text(c.purpose, "de") for s in ecomarket.services for c in s.cookies]
    assert_german(page.locator("body").inner_text(), declaration, foreign, "declaration")
    assert page.title() == "Cookie-Erklärung von ECOMARKET"


def test_the_demo_shop_speaks_german(server, page):
    open_demo(page, server, "ecomarket", lang="de")
    body = page.locator("body").inner_text()
    assert "Bambus-Zahnbürste" in body and "In den Warenkorb" in body and "Bamboe" not in body
    # Links keep the language, and the bundle asked for is the German one only.
    assert page.locator("a[href*='/demo/ecomarket/product/']").first.get_attribute("href").endswith("?lang=de")
    assert page.locator("script[src*='/gk/']").get_attribute("src") == "/gk/ecomarket.js?lang=de"
