"""Rules 12, 13 and 15 (docs/rules.md): the first layer informs (controller, purposes, policy, cookie
declaration); the declaration matches what a browser really stores after accepting all;
no legitimate-interest wording or toggles anywhere.
"""

import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from gatekeeper.audit import labels
from gatekeeper.sites import load_sites
from gatekeeper.texts import site_texts
from gatekeeper.trackers import vendor_for_cookie

from .harness import (
    BANNER,
    COOKIE,
    SITES,
    banner_texts,
    choose,
    open_demo,
    wait_for_banner,
)
from .server import REPO

DAY = 86400


@pytest.fixture(scope="module")
def configs():
    """The site files the server was started with: what the shop owner declared."""
    return load_sites(REPO / "sites")


# The declaration page as data: per category section, per service its rows and cookies.
DECLARATION = """() => Array.from(document.querySelectorAll('section[data-category]')).map((section) => {
  const cells = (tr) => Array.from(tr.cells).map((c) => c.textContent.trim());
  const services = Array.from(section.querySelectorAll('h3')).map((h3) => {
    const service = { name: h3.textContent.trim(), rows: {}, cookies: {} };
    for (let el = h3.nextElementSibling; el && el.tagName !== 'H3'; el = el.nextElementSibling) {
      if (el.matches('table.service')) for (const tr of el.rows) service.rows[tr.cells[0].textContent.trim()] = cells(tr)[1];
      if (el.matches('table.cookies')) for (const tr of el.querySelectorAll('tr[data-cookie]')) service.cookies[tr.dataset.cookie] = cells(tr);
    }
    return service;
  });
  return { category: section.dataset.category, services };
})"""


@pytest.mark.parametrize("site", sorted(SITES))
def test_12_first_layer_informs(site, server, context, page, configs):
    config = configs[site]
    for lang in SITES[site].languages:
        t = site_texts(config, lang)
        open_demo(page, server, site, **SITES[site].query(lang))
        wait_for_banner(page)
        first = page.locator(f"{BANNER} [data-layer=first]")
        assert first.is_visible()
        text = first.inner_text()
        assert config.controller in text, f"{lang}: the controller is not named: {text!r}"
        purposes = [li.strip() for li in first.locator("li").all_inner_texts()]
        for category in config.categories:
            assert config.text(category.name, lang) in purposes, f"{lang}: purpose {category.id} missing: {purposes}"
        links = first.locator("a[href]").evaluate_all("els => els.map(a => [a.href, a.textContent.trim()])")
        assert [config.policy_url, t["policy"]] in links, f"{lang}: no policy link: {links}"
        declared = [href for href, label in links if urlsplit(href).path == f"/gk/{site}/cookies" and label == t["declaration"]]
        assert len(declared) == 1, f"{lang}: no cookie declaration link: {links}"
        assert declared[0].startswith(server.url) and parse_qs(urlsplit(declared[0]).query).get("lang") == [lang], declared[0]

        response = page.goto(declared[0], wait_until="load")
        assert response.status == 200
        assert page.get_attribute("html", "lang") == lang
        sections = {s["category"]: {svc["name"]: svc for svc in s["services"]} for s in page.evaluate(DECLARATION)}
        for service in config.services:
            shown = sections.get(service.category, {}).get(service.name)
            assert shown, f"{lang}: {service.id} not under {service.category}: {sections}"
            assert shown["rows"].get(t["vendor"]) == service.vendor
            assert shown["rows"].get(t["purpose"]) == config.text(service.purpose, lang)
            assert shown["rows"].get(t["location"]) == config.text(service.location, lang)
            assert shown["rows"].get(t["outside_eu"]) == (t["yes"] if service.outside_eu else t["no"])
            assert set(shown["cookies"]) == {cookie.name for cookie in service.cookies}, (service.id, shown["cookies"])
            for cookie in service.cookies:
                lifetime = f"{cookie.lifetime_days} {t['days']}" if cookie.lifetime_days else t["session"]
                _, shown_lifetime, purpose, *_ = shown["cookies"][cookie.name]
                assert (shown_lifetime, purpose) == (lifetime, config.text(cookie.purpose, lang)), (lang, cookie.name)


# Chromium caps every cookie at 400 days, so a declared 730 days cannot be caught
# overstating beyond 400; anything the browser keeps longer than declared still fails.
CHROMIUM_CAP_DAYS = 400
# What each test visit triggers beyond accepting: the login click sets Facebook's fbsr_.
PROOF = {
    "analytics": "google-analytics.com/g/collect",
    "marketing": "googleads.g.doubleclick.net/pagead/viewthroughconversion/",
    "social": "connect.facebook.net/",
    "personalisation": "connect.nosto.com/ev1",
}


def visit_accepting_all(site, server, page, tracker_log):
    open_demo(page, server, site)
    wait_for_banner(page)
    choose(page, "accept")
    for category in SITES[site].categories:
        tracker_log.wait_for(page, PROOF[category])
    if "social" in SITES[site].categories:
        page.locator(".fb-login-button button.fb-standin-login").click()
        page.wait_for_function("() => document.cookie.includes('fbsr_')", timeout=5_000)
    page.locator("main a[href*='/product/']").first.click()
    page.locator("main form[action*='/cart'] button").first.click()
    page.wait_for_url(re.compile(r"/cart"), timeout=5_000)
    tracker_log.settle(page)


@pytest.mark.parametrize("site", sorted(SITES))
def test_13_declaration_matches_reality(site, server, context, page, tracker_log):
    visit_accepting_all(site, server, page, tracker_log)
    declared = context.request.get(f"{server.url}/gk/{site}/cookies.json").json()
    observed = context.cookies()
    now = time.time()
    names = {c["name"] for c in observed}
    assert {COOKIE, "cart", "_ga"} <= names, names  # the visit really stored things
    # The shop's own cart cookie is declared (the site file's `cookies`), not allow-listed.
    own = [s for s in declared["services"] if s["id"] == "own-cookies"]
    assert own and own[0]["category"] == "necessary" and [k["name"] for k in own[0]["cookies"]] == ["cart"]

    problems = []
    for cookie in observed:
        name = cookie["name"]
        days_left = None if cookie["expires"] == -1 else (cookie["expires"] - now) / DAY
        if name == declared["consent_cookie"]["name"]:
            if days_left is None or days_left > declared["consent_cookie"]["lifetime_days"] + 1 / 1440:
                problems.append(f"{name}: {days_left} days left, declared {declared['consent_cookie']['lifetime_days']}")
            continue
        matches = [(s, k) for s in declared["services"] for k in s["cookies"] if _matches(k["name"], name)]
        if not matches:
            problems.append(f"{name} ({cookie['domain']}): not declared")
            continue
        service, entry = matches[0]
        # The service that set it: the one whose loader brings the cookie's vendor.
        vendor = vendor_for_cookie(name)
        setters = [s for s in declared["services"] if vendor and vendor.id in s["trackers"]]
        if vendor and service["category"] not in {s["category"] for s in setters}:
            problems.append(f"{name}: declared under {service['category']} ({service['id']}), "
                            f"set by {[s['id'] for s in setters] or vendor.id}")
        if entry["lifetime_days"] == 0:
            if days_left is not None:
                problems.append(f"{name}: declared a session cookie, lives {days_left:.1f} days")
        elif days_left is not None and days_left > min(entry["lifetime_days"], CHROMIUM_CAP_DAYS) + 1 / 1440:
            problems.append(f"{name}: lives {days_left:.1f} days, declared {entry['lifetime_days']}")
        on_shop = cookie["domain"].lstrip(".") == urlsplit(server.url).hostname
        if entry["first_party"] != on_shop:
            problems.append(f"{name}: on {cookie['domain']}, declared first_party={entry['first_party']}")
    assert problems == [], "\n".join(problems)


def _matches(pattern: str, name: str) -> bool:
    return name.startswith(pattern[:-1]) if pattern.endswith("*") else name == pattern


def legitimate_interest(text: str) -> str | None:
    """The legitimate-interest wording in `text`, if any (the audit's phrases, every language)."""
    return labels.match(text, labels.LEGITIMATE_INTEREST)


@pytest.mark.parametrize("site", sorted(SITES))
def test_15_no_legitimate_interest(site, server, context, page):
    for lang in SITES[site].languages:
        open_demo(page, server, site, **SITES[site].query(lang))
        wait_for_banner(page)
        found = legitimate_interest(banner_texts(page))
        assert found is None, f"{lang}: {found!r} in the banner"
        toggles = page.locator(f"{BANNER} [data-layer=prefs] input[type=checkbox]").evaluate_all(
            "els => els.map(e => [e.dataset.category, e.checked, e.disabled])"
        )
        # One toggle per category, all off; `necessary` on but not a choice. Nothing else
        # (no per-vendor "objection" switches pre-set on).
        assert sorted(toggles) == sorted(
            [["necessary", True, True], *([c, False, False] for c in SITES[site].categories)]
        ), f"{lang}: {toggles}"

        page.goto(f"{server.url}/gk/{site}/cookies?lang={lang}", wait_until="load")
        found = legitimate_interest(page.locator("body").inner_text())
        assert found is None, f"{lang}: {found!r} in the declaration"
    data = context.request.get(f"{server.url}/gk/{site}/cookies.json").text()
    assert legitimate_interest(data) is None, "legitimate interest in cookies.json"
