from pathlib import Path

import pytest

from gatekeeper import texts as texts_module
from gatekeeper.audit import labels
from gatekeeper.sites import SiteError, load_sites, parse_site
from gatekeeper.texts import builtin_languages, builtin_texts, site_texts, text_keys

SITES_DIR = Path(__file__).resolve().parent.parent / "sites"
LABELS = {
    "nl": ("Alles accepteren", "Alles weigeren", "Voorkeuren", "Voorkeuren opslaan"),
    "fr": ("Tout accepter", "Tout refuser", "Préférences", "Enregistrer mes choix"),
    "en": ("Accept all", "Reject all", "Preferences", "Save preferences"),
    "de": ("Alle akzeptieren", "Alle ablehnen", "Einstellungen", "Auswahl speichern"),
}


@pytest.fixture(scope="module")
def sites():
    return load_sites(SITES_DIR)


def with_overrides(overrides: str):
    base = (SITES_DIR / "locomail.toml").read_text("utf-8")
    return parse_site(base + "\n[texts.nl]\n" + overrides, "override.toml")


def test_gatekeeper_ships_nl_fr_en_and_de():
    assert set(builtin_languages()) == {"nl", "fr", "en", "de"}


@pytest.mark.parametrize("lang", sorted(LABELS))
def test_labels_are_the_agreed_ones(lang):
    texts = builtin_texts(lang)
    assert (texts["accept"], texts["reject"], texts["prefs"], texts["save"]) == LABELS[lang]


@pytest.mark.parametrize("lang", sorted(LABELS))
def test_every_language_has_every_text(lang):
    assert set(builtin_texts(lang)) == set(builtin_texts("en"))
    assert all(value.strip() for value in builtin_texts(lang).values())


@pytest.mark.parametrize("lang", sorted(LABELS))
def test_wording_is_neutral(lang):
    """No confirm-shaming and no legitimate interest (docs/rules.md, rules 6 and 15), in the audit's
    words for every language (gatekeeper/audit/labels.py)."""
    words = "\n".join(builtin_texts(lang).values())
    assert labels.match(words, labels.SHAMING_PHRASES) is None
    assert labels.match(words, labels.LEGITIMATE_INTEREST) is None


def test_placeholders_are_filled_from_the_site(sites):
    texts = site_texts(sites["ecomarket"], "fr")
    assert texts["intro"].startswith("ECOMARKET SRL ")
    assert texts["title"] == "Cookies sur ECOMARKET"
    # {vendor} and {category} in the placeholders' texts are the bundle's to fill.
    assert not any("{" in value.replace("{vendor}", "").replace("{category}", "") for value in texts.values())


def test_site_overrides_replace_only_their_keys():
    site = with_overrides('title = "Uw cookies bij {site}"\n')
    texts = site_texts(site, "nl")
    assert texts["title"] == "Uw cookies bij LocoMail"
    assert texts["reject"] == "Alles weigeren"
    assert site_texts(site, "en")["title"] == "Cookies on LocoMail"


def test_an_unknown_override_key_stops_loading_naming_file_and_field():
    with pytest.raises(SiteError, match=r"^override\.toml: texts\.nl\.titel: unknown text key \(expected the keys: .*title"):
        with_overrides('titel = "typo"\n')


def test_an_empty_override_is_refused():
    with pytest.raises(SiteError, match=r"texts\.nl\.title: expected a non-empty string"):
        with_overrides('title = " "\n')


def site_in(language: str, texts: dict[str, str] | None) -> str:
    base = (SITES_DIR / "locomail.toml").read_text("utf-8").replace('languages = ["nl", "en"]', f'languages = ["{language}"]')
    if texts is None:
        return base
    return base + f"\n[texts.{language}]\n" + "".join(f'{key} = "{value}"\n' for key, value in texts.items())


def test_any_language_with_a_complete_set_of_texts():
    polish = {key: f"pl {key}" for key in text_keys()} | {"reject": "Odrzuć wszystkie", "title": "Pliki cookie w {site}"}
    site = parse_site(site_in("pl", polish), "pl.toml")
    texts = site_texts(site, "pl")
    assert texts["reject"] == "Odrzuć wszystkie" and texts["title"] == "Pliki cookie w LocoMail"


def test_a_language_without_texts_names_what_is_missing():
    with pytest.raises(SiteError, match=r"^pl\.toml: languages: no built-in texts for 'pl' \(built in: en, de, fr, nl\); "
                                        r"give every text key under \[texts\.pl\]"):
        parse_site(site_in("pl", None), "pl.toml")
    incomplete = {key: "x" for key in text_keys() if key != "gpc"}
    with pytest.raises(SiteError, match=r"^pl\.toml: texts\.pl\.gpc: missing \(expected the keys: "):
        parse_site(site_in("pl", incomplete), "pl.toml")


def test_a_language_code_is_checked():
    with pytest.raises(SiteError, match=r"languages\[0\]"):
        parse_site(site_in("Deutsch", None), "x.toml")


def test_a_built_in_file_missing_a_key_stops_start_up_naming_the_file(tmp_path, monkeypatch):
    for lang in ("en", "de"):
        (tmp_path / f"{lang}.toml").write_text((texts_module._folder() / f"{lang}.toml").read_text("utf-8"), "utf-8")
    broken = (tmp_path / "de.toml").read_text("utf-8").replace('reject = "Alle ablehnen"\n', "")
    (tmp_path / "de.toml").write_text(broken + 'ablehnen = "x"\n', "utf-8")
    monkeypatch.setattr(texts_module, "_folder", lambda: tmp_path)
    for cached in (texts_module.builtin_languages, texts_module.text_keys, texts_module.builtin_texts):
        cached.cache_clear()
    try:
        with pytest.raises(SiteError, match=rf"^{tmp_path}/de\.toml: ablehnen: unknown text key"):
            parse_site(site_in("de", None), "x.toml")
    finally:
        monkeypatch.undo()
        for cached in (texts_module.builtin_languages, texts_module.text_keys, texts_module.builtin_texts):
            cached.cache_clear()
