"""The preset catalog: every preset file valid and usable from a site file, the tracker
table derived from it, and one precise error per kind of bad input."""

import re

import pytest

from gatekeeper import trackers
from gatekeeper.catalog import CatalogError, catalog, parse_preset
from gatekeeper.sites import GA4, GTM, Embed, GoogleAds, Script, SiteError, parse_site

REQUIRED = {
    "ga4", "google_ads", "gtm", "facebook_sdk", "meta_pixel", "hotjar", "microsoft_clarity",
    "microsoft_uet", "tiktok_pixel", "linkedin_insight", "pinterest_tag", "snapchat_pixel",
    "criteo", "matomo", "nosto", "klaviyo", "trustpilot", "youtube", "vimeo", "google_maps",
    "hubspot", "intercom",
}
# The vendors' own parameter names (issue 11).
PARAM_NAMES = {
    "ga4": {"measurement_id"}, "google_ads": {"conversion_id"}, "gtm": {"container_id"},
    "facebook_sdk": {"app_id", "locale"}, "meta_pixel": {"pixel_id"}, "tiktok_pixel": {"pixel_id"},
    "snapchat_pixel": {"pixel_id"}, "hotjar": {"site_id"}, "matomo": {"url", "site_id"},
    "microsoft_clarity": {"project_id"}, "microsoft_uet": {"tag_id"}, "pinterest_tag": {"tag_id"},
    "linkedin_insight": {"partner_id"},
}

SITE = """
id = "shop"
name = "Shop"
controller = "Shop BV"
address = "Utrecht"
policy_url = "https://shop.example/privacy"
languages = ["nl", "fr", "en"]

[[categories]]
id = "analytics"
name = "Analytics"
description = "Measuring visits."

[[categories]]
id = "marketing"
name = "Marketing"
description = "Ads."
"""


def site_with(services: str) -> str:
    return SITE + services


def example_params(preset) -> str:
    return ", ".join(f'{name} = "{p.example}"' for name, p in preset.params.items())


def test_the_catalog_holds_every_required_vendor():
    assert REQUIRED <= set(catalog())


@pytest.mark.parametrize("preset_id", sorted(REQUIRED))
def test_each_preset_is_complete_and_usable_from_a_site_file(preset_id):
    preset = catalog()[preset_id]
    assert preset.sources and all(url.startswith("https://") for url in preset.sources)
    assert set(PARAM_NAMES.get(preset_id, preset.params)) == set(preset.params)
    for cookie in preset.cookies:
        assert set(cookie.purpose) == {"nl", "fr", "en", "de"}
    category = preset.category
    text = SITE.replace('id = "marketing"', f'id = "{category}"') if category not in ("analytics", "marketing") else SITE
    site = parse_site(text + f'\n[[services]]\npreset = "{preset_id}"\nparams = {{ {example_params(preset)} }}\n', "shop.toml")
    [service] = site.services
    assert (service.id, service.preset, service.category, service.vendor) == (preset_id, preset_id, category, preset.vendor)
    assert [c.name for c in service.cookies] == [c.name for c in preset.cookies]
    assert set(service.purpose) == {"nl", "fr", "en"}  # the site's languages, not the preset's four
    if isinstance(service.loader, Script):
        assert "{" + next(iter(preset.params), "-") + "}" not in service.loader.src + (service.loader.init or "")
        assert trackers.vendor_for_url(service.loader.src) is not None or preset_id == "matomo"


@pytest.mark.parametrize("preset_id", sorted(REQUIRED))
def test_the_tracker_table_names_each_preset_from_its_own_hosts_and_cookies(preset_id):
    preset = catalog()[preset_id]
    vendor = trackers.BY_ID[preset_id]
    assert (vendor.name, vendor.category) == (preset.name, preset.category)
    for host in preset.hosts:
        if host.path is None:
            name = host.host.replace("*.", "").replace(".*", ".com")
            assert trackers.vendor_for_url(f"https://{name}/x") is vendor, name
    for cookie in preset.cookies:
        name = cookie.name.replace("*", "123")
        assert trackers.vendor_for_cookie(name) is not None, name


def test_a_preset_fills_the_builtin_loaders_and_script_templates():
    site = parse_site(site_with("""
[[services]]
preset = "ga4"
params = { measurement_id = "G-ABC1234" }

[[services]]
preset = "google_ads"
params = { conversion_id = "AW-123456" }

[[services]]
preset = "hotjar"
params = { site_id = "1234567" }

[[services]]
preset = "gtm"
params = { container_id = "GTM-ABC1234" }
loader = { categories = ["analytics", "marketing"] }
"""), "shop.toml")
    ga4, ads, hotjar, gtm = site.services
    assert ga4.loader == GA4(measurement_id="G-ABC1234")
    assert ads.loader == GoogleAds(conversion_id="AW-123456")
    assert hotjar.loader.src == "https://static.hotjar.com/c/hotjar-1234567.js?sv=6"
    assert "hjid:1234567" in hotjar.loader.init
    assert gtm.loader == GTM(container_id="GTM-ABC1234", categories=("analytics", "marketing"))
    assert gtm.loads_with == ("analytics", "marketing")


def test_any_field_of_a_preset_may_be_overridden():
    site = parse_site(site_with("""
[[services]]
id = "heatmaps"
preset = "hotjar"
params = { site_id = "1234567" }
category = "marketing"
purpose = { nl = "Eigen uitleg", fr = "Texte propre", en = "Own wording" }
"""), "shop.toml")
    [service] = site.services
    assert (service.id, service.category, site.text(service.purpose, "en")) == ("heatmaps", "marketing", "Own wording")
    assert service.vendor == "Hotjar Ltd."


def test_embeds_need_no_parameters():
    site = parse_site(site_with('\n[[services]]\npreset = "youtube"\ncategory = "marketing"\n'), "shop.toml")
    assert isinstance(site.services[0].loader, Embed)


@pytest.mark.parametrize(
    "services, message",
    [
        ('preset = "hotjr"\nparams = { site_id = "1234567" }',
         "shop.toml: services[0].preset: unknown preset 'hotjr' (expected one of "),
        ('preset = "google_ads"\nparams = { conversion_id = "G-ABC1234" }',
         "shop.toml: services[0].params.conversion_id: 'G-ABC1234' is not a Google Ads conversion id: AW- followed by digits (like 'AW-123456789')"),
        ('preset = "hotjar"',
         "shop.toml: services[0].params.site_id: missing: a Hotjar site id"),
        ('preset = "hotjar"\nparams = { site = "1234567" }',
         "shop.toml: services[0].params.site: preset 'hotjar' has no parameter 'site' (expected site_id)"),
        ('preset = "hotjar"\nparams = { site_id = 1234567 }',
         "shop.toml: services[0].params.site_id: 1234567 is not a Hotjar site id"),
        ('preset = "nosto"\nparams = { account_id = "shop-1" }',
         "shop.toml: services[0].category: unknown category 'personalisation' (expected one of analytics, marketing, necessary; preset 'nosto' proposes it: add the category or set `category`)"),
        ('preset = "ga4"\nparams = { measurement_id = "G-ABC1234" }\n\n[[services]]\npreset = "ga4"\nparams = { measurement_id = "G-XYZ9876" }',
         "shop.toml: services[1].id: duplicate service id 'ga4' (preset 'ga4' used twice: give one its own `id`)"),
        ('preset = "gtm"\nparams = { container_id = "GTM-ABC1234" }\nloader = { categories = ["ads"] }',
         "shop.toml: services[0].loader.categories: unknown category 'ads'"),
        ('preset = "gtm"\nparams = { container_id = "GTM-ABC1234" }\nloader = { categories = ["analytics", "necessary"] }',
         "shop.toml: services[0].loader.categories: a container cannot load with 'necessary' (always granted)"),
    ],
)
def test_bad_preset_use_stops_start_up_with_one_precise_error(services, message):
    with pytest.raises(SiteError) as exc:
        parse_site(site_with("\n[[services]]\n" + services + "\n"), "shop.toml")
    assert str(exc.value).startswith(message), str(exc.value)


def test_the_loader_form_keeps_working_next_to_presets():
    site = parse_site(site_with("""
[[services]]
id = "own"
name = "Own"
category = "analytics"
vendor = "Us"
purpose = "Stats"
location = "Belgium"
outside_eu = false
privacy_url = "https://shop.example/privacy"
loader = { type = "script", src = "https://stats.shop.example/s.js" }

[[services]]
preset = "hotjar"
params = { site_id = "1234567" }
"""), "shop.toml")
    assert [s.preset for s in site.services] == [None, "hotjar"]


@pytest.mark.parametrize(
    "change, message",
    [
        (('id = "hotjar"', 'id = "hotjar2"'), "presets/hotjar.toml: id: 'hotjar2' does not match the file name 'hotjar'"),
        (('example = "1234567"', 'example = "12"'), "presets/hotjar.toml: params.site_id: '12' does not match its own pattern"),
        (("sources = [", "sources = [] #"), "presets/hotjar.toml: "),
        (('purpose = { nl = "Heatmaps', 'purpose = { nx = "Heatmaps'), "presets/hotjar.toml: purpose"),
    ],
)
def test_a_broken_preset_file_is_named_with_its_field(change, message):
    text = (catalog_dir() / "hotjar.toml").read_text()
    assert change[0] in text
    with pytest.raises(CatalogError) as exc:
        parse_preset(text.replace(*change, 1), "hotjar", "presets/hotjar.toml")
    assert str(exc.value).startswith(message), str(exc.value)


def catalog_dir():
    from importlib.resources import files
    return files("gatekeeper") / "presets"


def test_paths_narrow_shared_hosts():
    assert trackers.vendor_for_url("https://connect.facebook.net/en_US/fbevents.js").id == "meta_pixel"
    assert trackers.vendor_for_url("https://connect.facebook.net/en_US/sdk.js").id == "facebook_sdk"
    assert trackers.vendor_for_url("https://www.googletagmanager.com/gtm.js?id=GTM-ABC1234").id == "gtm"
    assert trackers.vendor_for_url("https://www.google.de/maps/embed?pb=1").id == "google_maps"
    assert trackers.host_pattern("*.pinterest.*").search("ct.pinterest.co.uk")
    assert not trackers.host_pattern("*.pinterest.*").search("pinterest.evil.example")


def test_the_csp_host_lists_take_a_preset_loader_s_hosts_from_the_catalog():
    from gatekeeper.csp import service_hosts

    site = parse_site(site_with("""
[[services]]
preset = "gtm"
params = { container_id = "GTM-ABC1234" }

[[services]]
preset = "youtube"
"""), "shop.toml")
    gtm, youtube = site.services
    assert service_hosts(gtm) == ("https://*.googletagmanager.com", "https://*.googletagmanager.net")
    assert "https://*.youtube-nocookie.com" in service_hosts(youtube)


def test_a_site_in_a_language_the_catalog_lacks_gets_english_preset_texts():
    from gatekeeper.catalog import expand

    service = expand({"preset": "youtube"}, "services[0]", ("es", "it"))
    assert service["purpose"] == {"en": "Showing YouTube videos"}
    assert expand({"preset": "youtube"}, "services[0]", ("de",))["purpose"] == {"de": "YouTube-Videos anzeigen"}
