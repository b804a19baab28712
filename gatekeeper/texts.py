"""Banner texts: the built-in wording per language, merged with a site's overrides.

A language is one complete set of texts. The built-in files (`texts/<lang>.toml`) each
hold exactly the keys of `en.toml`; a site may replace any of them under `texts.<lang>`
in its TOML, but not invent new ones (a typo would otherwise silently show the built-in
text), and may offer a language Gatekeeper has no file for by giving every key there.
"""

from __future__ import annotations

import re
import tomllib
from functools import cache
from importlib.resources import files
from types import MappingProxyType
from typing import TYPE_CHECKING, Mapping

if TYPE_CHECKING:
    from .sites import Site

REFERENCE = "en"  # the file whose keys every language must have
_LANGUAGE_FILE = re.compile(r"^([a-z]{2,3})\.toml$")  # texts/demo.toml is the demo shop's


class TextsError(ValueError):
    """A site's texts that are incomplete or name a key no language has."""


class BuiltinTextsError(TextsError):
    """A built-in texts file that is not a complete language (its message names the file)."""


def _folder():
    return files("gatekeeper") / "texts"


@cache
def builtin_languages() -> tuple[str, ...]:
    """Every language Gatekeeper ships texts for, `en` first."""
    found = sorted(m[1] for entry in _folder().iterdir() if (m := _LANGUAGE_FILE.match(entry.name)))
    return tuple(sorted(found, key=lambda lang: lang != REFERENCE))


@cache
def text_keys() -> frozenset[str]:
    return frozenset(_read(REFERENCE))


def _read(language: str) -> dict:
    path = _folder() / f"{language}.toml"
    try:
        return tomllib.loads(path.read_text("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise BuiltinTextsError(f"{path}: not valid TOML: {exc}") from None


def _problems(texts: Mapping, where: str) -> list[str]:
    """What keeps `texts` from being a complete language, each naming its field
    (`where` + key: "texts.de." or "…/texts/de.toml: ")."""
    problems = [f"{where}{key}: unknown text key" for key in sorted(set(texts) - text_keys())]
    problems += [f"{where}{key}: missing" for key in sorted(text_keys() - set(texts))]
    problems += [f"{where}{key}: expected a non-empty string" for key, value in texts.items()
                 if key in text_keys() and not (isinstance(value, str) and value.strip())]
    return problems


@cache
def builtin_texts(language: str) -> Mapping[str, str] | None:
    """The built-in texts of `language`, or None when Gatekeeper has no file for it."""
    if language not in builtin_languages():
        return None
    texts = _read(language)
    if problems := _problems(texts, f"{_folder() / language}.toml: "):
        raise BuiltinTextsError(f"{problems[0]} (every language file holds exactly the keys of {REFERENCE}.toml; "
                         f"{len(problems)} problem(s))")
    return MappingProxyType(texts)


def check_languages(languages: tuple[str, ...], overrides: Mapping[str, Mapping[str, str]]) -> None:
    """Raise TextsError unless every language has a complete set of texts: a built-in file
    (which overrides may change key by key) or every key under `texts.<lang>`."""
    for language in languages:
        given = overrides.get(language, {})
        if builtin_texts(language) is not None:
            problems = [p for p in _problems(given, f"texts.{language}.") if not p.endswith(": missing")]
        else:
            problems = _problems(given, f"texts.{language}.")
            if problems and len(given) == 0:
                raise TextsError(
                    f"languages: no built-in texts for {language!r} (built in: {', '.join(builtin_languages())}); "
                    f"give every text key under [texts.{language}] to offer it")
        if problems:
            known = ", ".join(sorted(text_keys()))
            raise TextsError(f"{problems[0]} (expected the keys: {known})")


def site_texts(site: Site, language: str) -> Mapping[str, str]:
    """Every text of `site` in `language`, overrides applied and placeholders filled."""
    texts = dict(builtin_texts(language) or {})
    texts.update(site.texts.get(language, {}))
    # str.replace, not str.format: an override may contain braces of its own.
    fill = {"{controller}": site.controller, "{site}": site.name}
    for key, value in texts.items():
        for placeholder, replacement in fill.items():
            value = value.replace(placeholder, replacement)
        texts[key] = value
    return MappingProxyType(texts)
