"""Rule 8 (docs/rules.md#rule-8): each choice is respected; a choice survives a reload without a round trip;
a tampered consent cookie reads as undecided.
"""

import re

import pytest

from gatekeeper.trackers import vendor_for_cookie

from .harness import (
    COOKIE,
    SITES,
    VENDORS_BY_CATEGORY,
    banner_visible,
    choose,
    cookies,
    decision,
    decode_token,
    encode_payload,
    open_demo,
    own_tags,
    wait_for_banner,
)

CHOICES = {
    "nothing": (),
    "analytics_only": ("analytics",),
    "marketing_only": ("marketing",),
    "all": None,  # the accept-all button
}
SITE_CHOICES = [
    (site.id, name) for site in SITES.values() for name, cats in CHOICES.items()
    if cats is None or set(cats) <= set(site.categories)
]
OWN_TAG = {"analytics": "ownAnalytics", "marketing": "ownMarketing", "social": "ownSocial",
           "personalisation": "ownPersonalisation"}
# A request that proves a granted category's tag really ran (the stand-ins send them).
PROOF = {
    "analytics": "google-analytics.com/g/collect",
    "marketing": "googleads.g.doubleclick.net/pagead/viewthroughconversion/",
    "social": "connect.facebook.net/",
    "personalisation": "connect.nosto.com/",
}


def decide(page, choice):
    if choice == "nothing":
        return choose(page, "reject")
    if CHOICES[choice] is None:
        return choose(page, "accept")
    return choose(page, "save", CHOICES[choice])


def tracker_cookie_names(context):
    return {name for name in cookies(context) if vendor_for_cookie(name)}


@pytest.mark.parametrize(("site", "choice"), SITE_CHOICES)
def test_08_each_choice_is_respected(site, choice, server, context, page, tracker_log):
    granted = set(SITES[site].categories if CHOICES[choice] is None else CHOICES[choice])
    open_demo(page, server, site)
    wait_for_banner(page)
    answer = decide(page, choice)
    for category in sorted(granted):
        tracker_log.wait_for(page, PROOF[category])
    tracker_log.settle(page)

    allowed = set().union(*(VENDORS_BY_CATEGORY[c] for c in granted))
    assert tracker_log.vendors() <= allowed, tracker_log.describe()
    names = set(cookies(context))
    has = lambda pattern: any(re.fullmatch(pattern, n) for n in names)  # noqa: E731
    assert has(r"_ga(_.*)?") == ("analytics" in granted), names
    assert has(r"_gcl_.*") == ("marketing" in granted), names
    if "marketing" not in granted:
        assert not has(r"_fbp|_fbc"), names
    cookie_vendors = allowed | ({"meta_pixel"} if "marketing" in granted else set())
    assert {vendor_for_cookie(n).id for n in tracker_cookie_names(context)} <= cookie_vendors, names

    ran = set(own_tags(page))
    for category in SITES[site].categories:
        assert (OWN_TAG[category] in ran) == (category in granted), (category, ran)

    rows = server.records(consent_id=answer["consent_id"])
    assert len(rows) == 1, rows
    assert rows[0]["categories"] == {"necessary": True, **{c: c in granted for c in SITES[site].categories}}
    payload, _ = decode_token(cookies(context)[COOKIE]["value"])
    assert set(payload["granted"]) - {"necessary"} == granted


# Firefox before 140 and older Safari have no cookieStore: the gate reads document.cookie.
NO_COOKIE_STORE = "Object.defineProperty(window, 'cookieStore', {value: undefined, configurable: true})"


@pytest.mark.parametrize("cookie_store", [True, False], ids=["cookieStore", "document.cookie"])
@pytest.mark.parametrize("site", sorted(SITES))
def test_08_an_accepted_choice_survives_a_reload_without_a_round_trip(site, cookie_store, server, context, page,
                                                                      tracker_log):
    if not cookie_store:
        context.add_init_script(NO_COOKIE_STORE)
    open_demo(page, server, site)
    assert page.evaluate("() => !!window.cookieStore") is cookie_store
    wait_for_banner(page)
    choose(page, "accept")
    tracker_log.wait_for(page, PROOF["analytics"])
    tracker_log.settle(page)

    mark = tracker_log.mark()
    page.reload(wait_until="load")
    tracker_log.wait_for(page, PROOF["analytics"], since=mark)
    tracker_log.settle(page)

    assert tracker_log.api_calls(since=mark) == [], "the decision must come from the cookie"
    assert not banner_visible(page)
    assert decision(page) is not None
    assert "ownAnalytics" in own_tags(page)


def reload_with_consent_cookie(context, page, server, value):
    context.clear_cookies()
    context.add_cookies([{"name": COOKIE, "value": value, "url": server.url}])
    page.reload(wait_until="load")


def assert_undecided_and_silent(page, context, tracker_log, mark):
    wait_for_banner(page)
    page.wait_for_load_state("networkidle", timeout=5_000)
    tracker_log.settle(page)
    assert tracker_log.trackers(since=mark) == [], tracker_log.describe(mark)
    assert decision(page) is None
    assert not {"ownAnalytics", "ownMarketing", "ownSocial", "ownPersonalisation"} & set(own_tags(page))
    assert tracker_cookie_names(context) == set()


@pytest.mark.parametrize("site", sorted(SITES))
def test_08_a_cookie_with_a_flipped_signature_byte_reads_as_undecided(site, server, context, page, tracker_log):
    open_demo(page, server, site)
    wait_for_banner(page)
    choose(page, "accept")
    tracker_log.settle(page)
    token = cookies(context)[COOKIE]["value"]
    payload_part, _, signature = token.rpartition(".")
    middle = len(signature) // 2
    flipped = signature[:middle] + ("B" if signature[middle] == "A" else "A") + signature[middle + 1:]

    mark = tracker_log.mark()
    reload_with_consent_cookie(context, page, server, f"{payload_part}.{flipped}")

    assert_undecided_and_silent(page, context, tracker_log, mark)


def refusal_forged_to_grant_all(site, server, context, page, tracker_log):
    """Refuse, then the refusal's signature under a payload that grants every category."""
    open_demo(page, server, site)
    wait_for_banner(page)
    choose(page, "reject")
    tracker_log.settle(page)
    payload, signature = decode_token(cookies(context)[COOKIE]["value"])
    return f"{encode_payload({**payload, 'granted': list(SITES[site].all_categories)})}.{signature}"


@pytest.mark.parametrize("site", sorted(SITES))
def test_08_a_cookie_with_a_swapped_payload_reads_as_undecided(site, server, context, page, tracker_log):
    forged = refusal_forged_to_grant_all(site, server, context, page, tracker_log)

    mark = tracker_log.mark()
    reload_with_consent_cookie(context, page, server, forged)

    assert_undecided_and_silent(page, context, tracker_log, mark)


@pytest.mark.parametrize("site", sorted(SITES))
def test_08_a_forged_cookie_reads_as_undecided_when_the_bundle_is_cached(site, server, cached_context, tracker_log):
    """The same forgery with Chromium's HTTP cache on: the bundle comes back as a 304."""
    page = cached_context.new_page()
    bundle_statuses = []
    page.on("response", lambda r: "/gk/" in r.url and r.url.split("?")[0].endswith(".js") and bundle_statuses.append(r.status))
    forged = refusal_forged_to_grant_all(site, server, cached_context, page, tracker_log)

    mark = tracker_log.mark()
    bundle_statuses.clear()
    reload_with_consent_cookie(cached_context, page, server, forged)

    assert bundle_statuses and all(status == 304 for status in bundle_statuses), bundle_statuses
    assert_undecided_and_silent(page, cached_context, tracker_log, mark)
