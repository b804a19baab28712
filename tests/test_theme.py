from pathlib import Path

import pytest

from gatekeeper.bundle import build_bundle
from gatekeeper.sites import SiteError, load_sites, parse_site
from gatekeeper.theme import Theme, contrast

SITES_DIR = Path(__file__).resolve().parent.parent / "sites"


def site_with(theme: str):
    base = (SITES_DIR / "ecomarket.toml").read_text("utf-8")
    return parse_site(base + "\n[theme]\n" + theme, "shop.toml")


def test_contrast_is_wcag_s():
    assert contrast("#000", "#fff") == pytest.approx(21.0)
    assert contrast("#fff", "#fff") == pytest.approx(1.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


def test_the_default_theme_passes_in_light_and_dark():
    assert list(Theme().problems()) == []


@pytest.mark.parametrize(
    ("theme", "message"),
    [
        ('text = "#888888"', "shop.toml: theme.text: text #888888 on background #fff has a contrast of 3.54:1; WCAG asks at least 4.5:1"),
        ('button_background = "#f2f2f2"', "shop.toml: theme.button_text: button_text #fff on button_background #f2f2f2 has a contrast of 1.12:1"),
        ('link = "#7aa7ff"', "shop.toml: theme.link: link #7aa7ff on background #fff"),
        ('[theme.dark]\nbutton_text = "#bbbbbb"', "shop.toml: theme.dark.button_text: button_text #bbbbbb on button_background #f2f2f2"),
    ],
)
def test_contrast_under_4_5_stops_start_up_naming_the_pair(theme, message):
    with pytest.raises(SiteError) as exc:
        site_with(theme)
    assert str(exc.value).startswith(message), str(exc.value)


def test_a_scheme_the_site_never_shows_is_not_checked():
    # Fixed to light: the dark defaults are never shown, so a dark-only pair cannot fail.
    site = site_with('color_scheme = "light"\n[theme.dark]\ntext = "#222222"')
    assert site.theme.color_scheme == "light"
    with pytest.raises(SiteError, match="theme.dark.text"):
        site_with('[theme.dark]\ntext = "#222222"')


@pytest.mark.parametrize(
    ("theme", "message"),
    [
        ('background = "white"', "shop.toml: theme.background: expected a colour as #rgb or #rrggbb"),
        ('background = "#fff;}body{display:none"', "shop.toml: theme.background: expected a colour"),
        ('radius = "4"', "shop.toml: theme.radius: expected a length in px, rem or em"),
        ('spacing = "calc(1rem)"', "shop.toml: theme.spacing: expected a length"),
        ('font = "Inter;} :host{display:none"', "shop.toml: theme.font: expected a font list"),
        ('font = "url(https://evil.example/x)"', "shop.toml: theme.font: expected a font list"),
        ('colour = "#fff"', "shop.toml: theme: Object contains unknown field `colour`"),
        ('[theme.dark]\nradius = "1rem"', "shop.toml: theme.dark: Object contains unknown field `radius`"),
        ('color_scheme = "night"', "shop.toml: theme.color_scheme: Invalid enum value 'night'"),
    ],
)
def test_a_value_that_is_no_colour_length_or_font_list_names_the_field(theme, message):
    with pytest.raises(SiteError) as exc:
        site_with(theme)
    assert str(exc.value).startswith(message), str(exc.value)


def test_the_theme_becomes_custom_properties_on_the_host():
    site = site_with('button_background = "#005a9c"\nfont = \'"Source Sans 3", sans-serif\'\nradius = "0"\n'
                     '[theme.dark]\nbackground = "#000000"')
    css = build_bundle(site).languages["nl"].body.decode()
    assert "--gk-button-background:#005a9c" in css and '--gk-font:"Source Sans 3",sans-serif' in css.replace(", ", ",")
    assert "--gk-radius:0" in css
    # The dark scheme follows the visitor's preference unless the site fixes one.
    assert "prefers-color-scheme:dark" in css.replace(": ", ":") and "--gk-background:#000" in css


def test_a_fixed_scheme_has_no_media_query():
    css = site_with('color_scheme = "dark"').theme.css()
    assert "prefers-color-scheme" not in css and "color-scheme:dark" in css and "--gk-background:#1f1f1f" in css


def test_one_button_style_no_per_button_colours():
    """The theme has one button style; no key could give reject and accept different looks."""
    assert not [field for field in Theme.__struct_fields__ if "accept" in field or "reject" in field]


def test_the_example_shops_themes():
    sites = load_sites(SITES_DIR)
    assert sites["ecomarket"].theme == Theme()
    assert sites["locomail"].theme.color_scheme == "light" and sites["locomail"].theme.button_background == "#b23a0e"
