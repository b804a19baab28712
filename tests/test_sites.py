import pytest

from gatekeeper.sites import FacebookSDK, GA4, GoogleAds, Script, SiteError, load_sites, parse_site

MINIMAL = """
id = "shop"
name = "Shop"
controller = "Shop BV"
address = "Utrecht"
policy_url = "https://shop.example/privacy"
languages = ["nl", "en"]

[[categories]]
id = "analytics"
name = "Analytics"
description = "Measuring visits."

[[services]]
id = "ga"
name = "Google Analytics"
category = "analytics"
vendor = "Google"
purpose = "Traffic analysis"
location = "United States"
outside_eu = true
privacy_url = "https://policies.google.com/privacy"
loader = { type = "ga4", measurement_id = "G-ABC1234" }
"""


def test_example_sites_follow_their_policies(sites):
    eco = sites["ecomarket"]
    assert eco.languages == ("nl", "fr", "en", "de")
    assert eco.category_ids == ("necessary", "analytics", "marketing", "social", "personalisation")
    loaders = {s.category: type(s.loader) for s in eco.services}
    assert loaders == {"analytics": GA4, "marketing": GoogleAds, "social": FacebookSDK, "personalisation": Script}
    assert all(s.outside_eu for s in eco.services if s.vendor.startswith(("Google", "Meta")))
    assert all(s.cookies for s in eco.services)
    loco = sites["locomail"]
    assert loco.languages == ("nl", "en")
    assert loco.category_ids == ("necessary", "analytics")
    assert [type(s.loader) for s in loco.services] == [GA4]


def test_minimal_site_gets_defaults():
    site = parse_site(MINIMAL, "shop.toml")
    assert (site.revision, site.consent_days, site.default_language) == (1, 182, "nl")
    assert site.settings_button == "bottom-left"
    assert site.text({"nl": "Hallo", "en": "Hello"}, "fr") == "Hallo"


@pytest.mark.parametrize(
    "change, message",
    [
        (("category = \"analytics\"", "category = \"tracking\""), "shop.toml: services[0].category: unknown category 'tracking'"),
        (("G-ABC1234", "UA-1234"), "shop.toml: services[0].loader.measurement_id: Expected `str` matching regex"),
        (("outside_eu = true", "outside_eu = \"yes\""), "shop.toml: services[0].outside_eu: Expected `bool`, got `str`"),
        (('languages = ["nl", "en"]', 'languages = ["nl", "EN"]'), "shop.toml: languages[1]: Expected `str` matching regex"),
        (('languages = ["nl", "en"]', 'languages = ["nl", "it"]'), "shop.toml: languages: no built-in texts for 'it' (built in: en, de, fr, nl); give every text key under [texts.it] to offer it"),
        (('id = "shop"', 'id = "Shop!"'), "shop.toml: id: Expected `str` matching regex"),
        (('name = "Shop"', 'name = "Shop"\ncolour = "red"'), "shop.toml: (top level): Object contains unknown field `colour`"),
        (("[[services]]", "[[categories]]\nid = \"analytics\"\nname = \"x\"\ndescription = \"y\"\n\n[[services]]"),
         "shop.toml: categories[1].id: duplicate category id 'analytics'"),
        (('name = "Shop"', 'name = "Shop"\nsettings_button = "top"'), "shop.toml: settings_button: Invalid enum value 'top'"),
        (('loader = { type = "ga4"', 'loader = { type = "pixel"'), "shop.toml: services[0].loader.type: Invalid value 'pixel' (expected one of ga4, google_ads, facebook_sdk, gtm, script, embed)"),
    ],
)
def test_errors_name_file_field_and_expectation(change, message):
    with pytest.raises(SiteError) as exc:
        parse_site(MINIMAL.replace(*change), "shop.toml")
    assert str(exc.value).startswith(message), str(exc.value)


def test_malformed_toml_names_the_file():
    with pytest.raises(SiteError, match=r"^broken.toml: not valid TOML"):
        parse_site("id = ", "broken.toml")


def test_duplicate_site_ids_across_files_stop_loading(tmp_path):
    (tmp_path / "shop.toml").write_text(MINIMAL)
    (tmp_path / "zshop.toml").write_text(MINIMAL)
    with pytest.raises(SiteError, match="zshop.toml: id: duplicate site id 'shop'"):
        load_sites(tmp_path)


def test_file_name_must_match_id(tmp_path):
    (tmp_path / "other.toml").write_text(MINIMAL)
    with pytest.raises(SiteError, match="does not match the file name"):
        load_sites(tmp_path)


def test_empty_or_missing_directory(tmp_path):
    with pytest.raises(SiteError, match="no site configurations"):
        load_sites(tmp_path)
    with pytest.raises(SiteError, match="sites directory not found"):
        load_sites(tmp_path / "nope")


def test_sites_are_immutable(sites):
    with pytest.raises(AttributeError):
        sites["ecomarket"].revision = 2


def test_location_is_per_language_text(sites):
    ga = sites["ecomarket"].services[0]
    eco = sites["ecomarket"]
    assert [eco.text(ga.location, lang) for lang in eco.languages] == ["Verenigde Staten", "États-Unis", "United States", "Vereinigte Staaten"]
