"""Inert is not loaded: the audit's DOM probe counts a tracker element as loading only if
the browser fetches it, and reports held ones (type="text/plain", data-src, <template>) as
information — checked against what Chromium really requested."""

from gatekeeper.audit.elements import held_elements, probe, tracker_elements

GA = "https://www.googletagmanager.com/gtag/js?id=G-INERT{}"
PAGE = f"""<!doctype html><html><head>
<script src="{GA.format(1)}"></script>
<script type="module" src="{GA.format(2)}"></script>
<link rel="preconnect" href="https://www.google-analytics.com">
<link rel="stylesheet" href="https://connect.facebook.net/inert.css">
<link rel="canonical" href="https://www.facebook.com/shop">
</head><body>
<script type="text/plain" data-category="analytics" src="{GA.format(3)}"></script>
<script type="text/plain" data-name="google-ads" data-src="https://www.googletagmanager.com/gtag/js?id=AW-1"></script>
<iframe data-category="social" data-src="https://www.facebook.com/plugins/page.php"></iframe>
<img data-src="https://www.facebook.com/tr?id=1&ev=Held">
<img srcset="https://www.facebook.com/tr?id=1&ev=Srcset 2x">
<video src="https://googleads.g.doubleclick.net/video.mp4"></video>
<template data-purpose="social"><script src="https://connect.facebook.net/en_US/sdk.js"></script></template>
<a href="https://www.facebook.com/shop">Follow us</a>
</body></html>"""


def test_only_what_the_browser_fetches_counts_as_loading(page, tracker_log):
    page.set_content(PAGE)
    tracker_log.settle(page)
    loading = set(tracker_elements(page))
    assert loading == {
        GA.format(1), GA.format(2), "https://www.google-analytics.com/", "https://connect.facebook.net/inert.css",
        "https://www.facebook.com/tr?id=1&ev=Srcset", "https://googleads.g.doubleclick.net/video.mp4",
    }
    held = {(e.tag, e.attribute, e.in_template): e.url for e in held_elements(page)}
    assert held == {
        ("script", "src", False): GA.format(3),
        ("script", "data-src", False): "https://www.googletagmanager.com/gtag/js?id=AW-1",
        ("iframe", "data-src", False): "https://www.facebook.com/plugins/page.php",
        ("img", "data-src", False): "https://www.facebook.com/tr?id=1&ev=Held",
        ("script", "src", True): "https://connect.facebook.net/en_US/sdk.js",
    }
    # What Chromium really asked for: every held URL stayed unrequested.
    requested = {seen.url for seen in tracker_log.requests}
    assert not requested & set(held.values()), tracker_log.describe()
    assert {GA.format(1), GA.format(2), "https://connect.facebook.net/inert.css"} <= requested
    assert all(e.vendor is not None for e in probe(page))
