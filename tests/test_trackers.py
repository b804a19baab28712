import re

import pytest

from gatekeeper import trackers
from gatekeeper.trackers import is_tracker_url, vendor_for_cookie, vendor_for_url


@pytest.mark.parametrize(
    ("url", "vendor_id"),
    [
        ("https://www.googletagmanager.com/gtag/js?id=G-ECOM12345", "ga4"),
        ("https://www.googletagmanager.com/gtag/js?id=AW-987654321", "google_ads"),
        ("https://www.googletagmanager.com/gtag/js?id=DC-1234", "google_ads"),
        ("https://www.googletagmanager.com/gtag/js?l=dataLayer&id=G-X", "ga4"),
        ("https://www.googletagmanager.com/gtm.js?id=GTM-ABCD", "gtm"),
        ("https://www.googletagmanager.com/gtag/js", "gtm"),
        ("https://www.googletagmanager.net/ns.html", "gtm"),
        ("https://www.google-analytics.com/g/collect?v=2&tid=G-X", "ga4"),
        ("https://region1.google-analytics.com/g/collect", "ga4"),
        ("https://region1.analytics.google.com/g/collect", "ga4"),
        ("https://stats.g.doubleclick.net/g/collect", "ga4"),
        ("https://googleads.g.doubleclick.net/pagead/viewthroughconversion/987654321/", "google_ads"),
        ("https://td.doubleclick.net/td/rul/987654321", "google_ads"),
        ("https://www.googleadservices.com/pagead/conversion/987654321/", "google_ads"),
        ("https://pagead2.googlesyndication.com/pagead/js/adsbygoogle.js", "google_ads"),
        ("https://www.google.com/pagead/1p-user-list/987654321/", "google_ads"),
        ("https://www.google.be/ads/ga-audiences?v=1", "google_ads"),
        ("https://www.google.co.uk/pagead/landing", "google_ads"),
        ("https://connect.facebook.net/nl_NL/sdk.js", "facebook_sdk"),
        ("https://connect.facebook.net/en_US/fbevents.js", "meta_pixel"),
        ("https://connect.facebook.net/signals/config/1234", "meta_pixel"),
        ("https://www.facebook.com/tr?id=1234&ev=PageView", "meta_pixel"),
        ("https://www.facebook.com/tr/?id=1234", "meta_pixel"),
        ("https://www.facebook.com/x/oauth/status?client_id=1234567890", "facebook_sdk"),
        ("https://facebook.com/", "facebook_sdk"),
        ("https://static.xx.fbcdn.net/rsrc.php/v3/y1/r/abc.js", "facebook_sdk"),
        ("https://bat.bing.com/bat.js", "microsoft_uet"),
        ("https://www.clarity.ms/tag/abc", "microsoft_clarity"),
        ("https://analytics.tiktok.com/i18n/pixel/events.js", "tiktok_pixel"),
        ("https://snap.licdn.com/li.lms-analytics/insight.min.js", "linkedin_insight"),
        ("https://px.ads.linkedin.com/collect/?pid=1", "linkedin_insight"),
        ("https://static.hotjar.com/c/hotjar-1.js", "hotjar"),
        ("https://script.hotjar.com/modules.js", "hotjar"),
        ("https://s.pinimg.com/ct/core.js", "pinterest_tag"),
        ("https://ct.pinterest.com/v3/?tid=1", "pinterest_tag"),
        ("https://connect.nosto.com/include/ecomarket", "nosto"),
        ("https://connect.nosto.com/ev1?m=ecomarket", "nosto"),
        ("HTTPS://WWW.GOOGLE-ANALYTICS.COM/g/collect", "ga4"),
        ("https://www.google-analytics.com./g/collect", "ga4"),
    ],
)
def test_tracker_urls_are_classified_by_vendor(url, vendor_id):
    vendor = vendor_for_url(url)
    assert vendor is not None, url
    assert vendor.id == vendor_id
    assert is_tracker_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/demo/ecomarket",
        "http://127.0.0.1:8000/gk/ecomarket.js",
        "https://www.google.com/search?q=pagead",
        "https://www.google.com/mapsearch",
        "https://fonts.googleapis.com/css2?family=Inter",
        "https://notfacebook.com/tr",
        "https://facebook.com.evil.example/",
        "https://example.com/?u=https://www.google-analytics.com/",
        "https://mydoubleclick.net.example.org/",
        "https://bpost.be/track",
        "data:text/plain,hello",
        "about:blank",
    ],
)
def test_other_urls_are_not_trackers(url):
    assert vendor_for_url(url) is None
    assert not is_tracker_url(url)


@pytest.mark.parametrize(
    ("name", "vendor_id"),
    [
        ("_ga", "ga4"),
        ("_ga_ECOM12345", "ga4"),
        ("_gid", "ga4"),
        ("_gcl_au", "google_ads"),
        ("_gcl_aw", "google_ads"),
        ("IDE", "google_ads"),
        ("_fbp", "meta_pixel"),
        ("_fbc", "meta_pixel"),
        ("fblo_1234567890", "facebook_sdk"),
        ("fbsr_1234567890", "facebook_sdk"),
        ("fbm_1234567890", "facebook_sdk"),
        ("fr", "facebook_sdk"),
        ("_uetsid", "microsoft_uet"),
        ("_clck", "microsoft_clarity"),
        ("_ttp", "tiktok_pixel"),
        ("li_sugr", "linkedin_insight"),
        ("_hjSessionUser_123", "hotjar"),
        ("_pin_unauth", "pinterest_tag"),
        ("2c.cId", "nosto"),
    ],
)
def test_tracker_cookies_are_classified_by_vendor(name, vendor_id):
    vendor = vendor_for_cookie(name)
    assert vendor is not None, name
    assert vendor.id == vendor_id


@pytest.mark.parametrize(
    "name", ["gk_consent", "session", "cart", "lang", "_gax", "ga", "fbm", "frx", "IDE2", "my_ga_ok"]
)
def test_essential_and_lookalike_cookies_are_not_trackers(name):
    assert vendor_for_cookie(name) is None


def test_every_vendor_is_well_formed():
    ids = [vendor.id for vendor in trackers.VENDORS]
    assert len(ids) == len(set(ids))
    for vendor in trackers.VENDORS:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", vendor.id)
        assert vendor.name
        assert vendor.category in trackers.CATEGORIES
        assert vendor.urls
    required = {"ga4", "google_ads", "gtm", "facebook_sdk", "meta_pixel", "microsoft_uet", "tiktok_pixel",
                "linkedin_insight", "hotjar", "pinterest_tag", "nosto"}
    assert required <= set(ids)


def test_vendors_are_immutable():
    vendor = trackers.BY_ID["ga4"]
    with pytest.raises(AttributeError):
        vendor.category = "necessary"


def test_no_dead_cookie_matchers_remain():
    """One way to match a cookie name: sites.pattern_matches for declared names and
    trackers.vendor_for_cookie for trackers; the unused copies are gone."""
    from gatekeeper import sites, trackers

    assert not hasattr(sites.Cookie, "matches") and not hasattr(trackers, "is_tracker_cookie")
    assert sites.pattern_matches("_ga_*", "_ga_X1") and trackers.vendor_for_cookie("_ga") is not None
