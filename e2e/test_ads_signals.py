"""Rule 19 (docs/rules.md#rule-19): Google Ads signals only with marketing — the `AW-` config and the
ad_storage, ad_user_data and ad_personalization grants appear only when `marketing` is
granted; analytics alone brings GA4 and nothing of Google Ads.
"""

from urllib.parse import urlsplit

import pytest

from .harness import SITES, choose, data_layer, open_demo, wait_for_banner

ADS_TYPES = ("ad_storage", "ad_user_data", "ad_personalization")
GA4_PROOF = "google-analytics.com/g/collect"
ADS_PROOF = "googleads.g.doubleclick.net/pagead/viewthroughconversion/"

# (site, categories chosen in the preferences; None = the accept-all button)
CASES = [
    ("ecomarket", ("analytics",)),
    ("ecomarket", ("marketing",)),
    ("locomail", None),  # accepting everything on a site without marketing grants no ads signal
]


def ads_requests(tracker_log):
    """Requests to Google's ad hosts, or gtag.js fetched for an AW- id."""
    found = []
    for seen in tracker_log.requests:
        host = urlsplit(seen.url).hostname or ""
        by_vendor = seen.vendor is not None and seen.vendor.id == "google_ads"
        if by_vendor or "googleads" in host or "googleadservices" in host or host.endswith("doubleclick.net"):
            found.append(seen.url)
    return found


@pytest.mark.parametrize(("site", "chosen"), CASES, ids=lambda v: "-".join(v) if isinstance(v, tuple) else str(v))
def test_19_ads_signals_only_with_marketing(site, chosen, server, context, page, tracker_log):
    granted = set(SITES[site].categories if chosen is None else chosen)
    marketing = "marketing" in granted
    open_demo(page, server, site)
    wait_for_banner(page)
    choose(page, "accept") if chosen is None else choose(page, "save", chosen)
    tracker_log.wait_for(page, ADS_PROOF if marketing else GA4_PROOF)
    tracker_log.settle(page)

    entries = [e for e in data_layer(page) if isinstance(e, list) and e]
    configured = [e[1] for e in entries if e[0] == "config"]
    updates = [e[2] for e in entries if e[0] == "consent" and e[1] == "update"]
    assert len(updates) == 1, updates
    ads_signals = {k: updates[0].get(k) for k in ADS_TYPES}

    if marketing:
        assert SITES[site].google_ads in configured, configured
        assert ads_signals == {k: "granted" for k in ADS_TYPES}, updates
        assert ads_requests(tracker_log), tracker_log.describe()
    else:
        assert [c for c in configured if c.startswith("AW-")] == [], configured
        assert ads_signals == {k: "denied" for k in ADS_TYPES}, updates
        assert ads_requests(tracker_log) == [], tracker_log.describe()
    assert (SITES[site].ga4 in configured) == ("analytics" in granted), configured
