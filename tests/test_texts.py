from pathlib import Path

import pytest

from gatekeeper.sites import SUPPORTED_LANGUAGES, SiteError, load_sites, parse_site
from gatekeeper.texts import builtin_texts, site_texts

SITES_DIR = Path(__file__).resolve().parent.parent / "sites"
LABELS = {
    "nl": ("Alles accepteren", "Alles weigeren", "Voorkeuren", "Voorkeuren opslaan"),
    "fr": ("Tout accepter", "Tout refuser", "Préférences", "Enregistrer mes choix"),
    "en": ("Accept all", "Reject all", "Preferences", "Save preferences"),
}
FORBIDDEN = ("legitimate interest", "gerechtvaardigd belang", "intérêt légitime", "interet legitime")
SHAMING = ("no thanks", "nee, bedankt", "non merci", "i don't", "i prefer", "je préfère", "ik wil geen", "are you sure")


@pytest.fixture(scope="module")
def sites():
    return load_sites(SITES_DIR)


def with_overrides(overrides: str):
    base = (SITES_DIR / "locomail.toml").read_text("utf-8")
    return parse_site(base + "\n[texts.nl]\n" + overrides, "override.toml")


@pytest.mark.parametrize("lang", SUPPORTED_LANGUAGES)
def test_labels_are_the_agreed_ones(lang):
    texts = builtin_texts(lang)
    assert (texts["accept"], texts["reject"], texts["prefs"], texts["save"]) == LABELS[lang]


@pytest.mark.parametrize("lang", SUPPORTED_LANGUAGES)
def test_every_language_has_every_text(lang):
    assert set(builtin_texts(lang)) == set(builtin_texts("en"))
    assert all(value.strip() for value in builtin_texts(lang).values())


@pytest.mark.parametrize("lang", SUPPORTED_LANGUAGES)
def test_wording_is_neutral(lang):
    words = " ".join(builtin_texts(lang).values()).lower()
    assert not [phrase for phrase in FORBIDDEN + SHAMING if phrase in words]


def test_placeholders_are_filled_from_the_site(sites):
    texts = site_texts(sites["ecomarket"], "fr")
    assert texts["intro"].startswith("ECOMARKET SRL ")
    assert texts["title"] == "Cookies sur ECOMARKET"
    assert not any("{" in value for value in texts.values())


def test_site_overrides_replace_only_their_keys():
    site = with_overrides('title = "Uw cookies bij {site}"\n')
    texts = site_texts(site, "nl")
    assert texts["title"] == "Uw cookies bij LocoMail"
    assert texts["reject"] == "Alles weigeren"
    assert site_texts(site, "en")["title"] == "Cookies on LocoMail"


def test_an_unknown_override_key_is_an_error_naming_it():
    site = with_overrides('titel = "typo"\n')
    with pytest.raises(SiteError, match=r"texts\.nl\.titel: unknown text key"):
        site_texts(site, "nl")
