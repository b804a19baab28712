"""Banner texts: the built-in wording per language, merged with a site's overrides.

The built-in files (`texts/<lang>.toml`) all hold the same keys; a site may replace any
of them under `texts.<lang>` in its TOML, but not invent new ones (a typo would otherwise
silently show the built-in text).
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib.resources import files
from types import MappingProxyType
from typing import Mapping

from gatekeeper.sites import SUPPORTED_LANGUAGES, Site, SiteError


@cache
def builtin_texts(language: str) -> Mapping[str, str]:
    if language not in SUPPORTED_LANGUAGES:
        raise SiteError(f"languages: no built-in texts for {language!r}")
    data = (files("gatekeeper") / "texts" / f"{language}.toml").read_text("utf-8")
    return MappingProxyType(tomllib.loads(data))


def site_texts(site: Site, language: str) -> Mapping[str, str]:
    """Every text of `site` in `language`, overrides applied and placeholders filled."""
    texts = dict(builtin_texts(language))
    for key, value in site.texts.get(language, {}).items():
        if key not in texts:
            known = ", ".join(sorted(texts))
            raise SiteError(f"{site.id}: texts.{language}.{key}: unknown text key (expected one of {known})")
        texts[key] = value
    # str.replace, not str.format: an override may contain braces of its own.
    fill = {"{controller}": site.controller, "{site}": site.name}
    for key, value in texts.items():
        for placeholder, replacement in fill.items():
            value = value.replace(placeholder, replacement)
        texts[key] = value
    return MappingProxyType(texts)
