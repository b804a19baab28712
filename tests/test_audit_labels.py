"""The text matcher's vocabulary: phrases inside labels, on word boundaries, a refusal
winning over an acceptance, in nl, fr, en and de."""

import pytest

from gatekeeper.audit.labels import ACCEPT_LABELS, LEGITIMATE_INTEREST, REJECT_LABELS, SETTINGS_LABELS, SHAMING_PHRASES, match


@pytest.mark.parametrize("label, phrase", [
    ("That's ok", "that's ok"),            # Klaro
    ("OK, accept all", "accept all"),      # tarteaucitron
    ("Alles accepteren", "alles accepteren"),
    ("J’accepte", "j'accepte"),            # a curly apostrophe
    ("Alle akzeptieren", "alle akzeptieren"),
])
def test_accept_phrases_inside_labels(label, phrase):
    assert match(label, REJECT_LABELS) is None
    assert match(label, ACCEPT_LABELS) == phrase


@pytest.mark.parametrize("label, phrase", [
    ("I decline", "decline"),               # Klaro
    ("Deny all cookies", "deny all"),       # tarteaucitron
    ("Accept only necessary cookies", "only necessary"),
    ("Niet akkoord", "niet akkoord"),
    ("Continuer sans accepter →", "continuer sans accepter"),
    ("Nur notwendige Cookies", "nur notwendige"),
])
def test_reject_phrases_win_over_accept(label, phrase):
    assert match(label, REJECT_LABELS) == phrase


def test_words_match_on_word_boundaries_only():
    assert match("Book a table", ACCEPT_LABELS) is None
    assert match("Acceptance criteria", ACCEPT_LABELS) is None
    assert match("Let me choose", SETTINGS_LABELS) == "let me choose"


def test_every_table_has_the_four_languages():
    for table in (ACCEPT_LABELS, REJECT_LABELS, SETTINGS_LABELS, SHAMING_PHRASES, LEGITIMATE_INTEREST):
        assert set(table) == {"nl", "fr", "en", "de"}
    assert match("Nee, ik wil geen relevante aanbiedingen", SHAMING_PHRASES) == "ik wil geen"
    assert match("Wir verarbeiten Daten auf Grundlage berechtigter Interessen", LEGITIMATE_INTEREST) == "berechtigter interessen"
    assert match("Sur la base de notre intérêt légitime", LEGITIMATE_INTEREST) == "intérêt légitime"
