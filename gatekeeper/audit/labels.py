"""The words a consent banner uses, in nl, fr, en and de: the text matcher's vocabulary
(accept, reject, open the settings) and the wording rules 6 and 15 (docs/rules.md) forbid.

Every entry is a phrase matched inside a control's label on word boundaries, after
lower-casing and turning punctuation into spaces: "reject" matches "Reject all cookies",
"ok" matches "That's ok" but not "Book". Reject phrases win over accept phrases, so
"Accept only necessary" and "niet akkoord" are refusals.
"""

from __future__ import annotations

ACCEPT_LABELS = {
    "nl": ("alles accepteren", "accepteren", "accepteer", "akkoord", "ga akkoord", "alles toestaan", "toestaan",
           "prima", "oké", "ok"),
    "fr": ("tout accepter", "accepter", "j'accepte", "accepte", "tout autoriser", "autoriser", "d'accord", "ok"),
    "en": ("accept all", "accept", "allow all", "allow", "i agree", "agree", "that's ok", "ok", "got it", "yes"),
    "de": ("alle akzeptieren", "akzeptieren", "alles akzeptieren", "zustimmen", "allen zustimmen", "alle zulassen",
           "zulassen", "einverstanden", "ich stimme zu", "ok"),
}
REJECT_LABELS = {
    "nl": ("alles weigeren", "weigeren", "weiger", "alles afwijzen", "afwijzen", "wijs af", "niet akkoord",
           "niet accepteren", "alleen noodzakelijk", "alleen noodzakelijke", "alleen functionele", "nee bedankt"),
    "fr": ("tout refuser", "refuser", "je refuse", "refuse", "tout rejeter", "rejeter", "continuer sans accepter",
           "ne pas accepter", "uniquement les cookies nécessaires", "seulement les cookies nécessaires",
           "non merci"),
    "en": ("reject all", "reject", "decline all", "decline", "deny all", "deny", "refuse", "disagree",
           "do not accept", "don't accept", "only necessary", "necessary only", "necessary cookies only",
           "only essential", "essential only", "essential cookies only", "no thanks"),
    "de": ("alle ablehnen", "ablehnen", "alles ablehnen", "nur notwendige", "nur essenzielle", "nur erforderliche",
           "verweigern", "ich lehne ab", "lehne ab", "nicht zustimmen", "nicht akzeptieren", "nein danke"),
}
# The control that opens a banner's second layer (its preferences).
SETTINGS_LABELS = {
    "nl": ("instellingen", "voorkeuren", "aanpassen", "zelf kiezen", "laat me kiezen", "cookie instellingen", "beheren"),
    "fr": ("personnaliser", "paramètres", "paramétrer", "préférences", "choisir", "gérer"),
    "en": ("settings", "preferences", "customize", "customise", "let me choose", "personalize", "personalise",
           "manage", "more options", "options", "choose"),
    "de": ("einstellungen", "anpassen", "auswählen", "lass mich wählen", "präferenzen", "mehr optionen", "verwalten",
           "individuell"),
}
# Confirm-shaming (rule 6): a refusal worded as a loss or a fault of the visitor.
SHAMING_PHRASES = {
    "nl": ("ik wil geen", "slechtere ervaring", "ik mis liever", "nee ik hou niet", "ik geef niet om",
           "minder relevante", "ik wil niet", "nee bedankt", "nee ik", "ik heb liever", "ik betaal liever",
           "liever niet", "mis je", "mis niets", "mis geen", "kan me niet schelen", "maakt me niet uit",
           "minder relevant", "weet u het zeker", "weet je het zeker", "jammer"),
    "fr": ("je ne veux pas", "moins bonne expérience", "je préfère ne pas", "je n'aime pas", "je me fiche",
           "expérience dégradée", "non merci", "je préfère", "je m'en fiche", "ça m'est égal", "manquer",
           "moins pertinent", "êtes vous sûr", "dommage"),
    "en": ("i don't want", "i do not want", "i don't care", "worse experience", "miss out", "i prefer not",
           "i'd rather not", "i don't like", "i hate", "less relevant", "no thanks", "i don't", "i do not",
           "i prefer", "i'd rather", "you'll miss", "irrelevant", "are you sure", "i'm fine with"),
    "de": ("ich will nicht", "ich möchte nicht", "schlechteres erlebnis", "ich verzichte", "mir egal",
           "weniger relevante", "nein danke", "nein ich", "lieber nicht", "verpassen", "weniger relevant",
           "sind sie sicher", "schade"),
}
# Legitimate interest (rule 15): not a legal ground for cookies, never offered as one.
LEGITIMATE_INTEREST = {
    "nl": ("gerechtvaardigd belang", "gerechtvaardigde belangen", "legitiem belang", "legitieme belangen"),
    "fr": ("intérêt légitime", "intérêts légitimes", "interet legitime", "interets legitimes"),
    "en": ("legitimate interest", "legitimate interests"),
    "de": ("berechtigtes interesse", "berechtigten interesse", "berechtigte interessen", "berechtigten interessen",
           "berechtigter interessen"),
}


def phrases(table: dict[str, tuple[str, ...]]) -> list[str]:
    """Every phrase of a table, longest first (the most specific match wins)."""
    return sorted({phrase for words in table.values() for phrase in words}, key=lambda p: (-len(p), p))


def normalise(text: str) -> str:
    """A label as the matcher compares it: lower case, apostrophes straightened, punctuation as spaces."""
    text = (text or "").replace("\u2019", "'").replace("`", "'").lower()
    return " ".join("".join(ch if ch.isalnum() or ch == "'" else " " for ch in text).split())


def match(label: str, table: dict[str, tuple[str, ...]]) -> str | None:
    """The longest phrase of `table` inside `label` on word boundaries, or None."""
    padded = f" {normalise(label)} "
    return next((phrase for phrase in phrases(table) if f" {phrase} " in padded), None)
