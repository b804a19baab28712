"""The per-site bundle: banner code, banner markup, CSS and public config in one script.

Built once at start-up, minified and precompressed. `/gk/<site>.js` holds the first
layer of every language (the page's language is then only known in the browser);
`/gk/<site>.js?lang=<lang>`, for shops that know their page's language, holds that one
only. What only a visitor who goes past the first layer needs (the preferences layer, the
longest text, with its code and styles, the withdrawal note, and placeholders where the
site declares no embeds) is the later layer, a script fetched in the banner's language on
first use from `/gk/<site>/prefs/<lang>.<digest>.js`.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from types import MappingProxyType
from typing import Mapping, Sequence

import brotli
import minify
import zopfli.gzip

from .cookies import COOKIE_NAME, withdrawal_patterns
from .embeds import embed_config
from .loaders import Embed, browser_config, gate_features
from .sites import Site
from .templating import render, template_source
from .texts import site_texts
from .tokens import FORMAT_VERSION


@dataclass(frozen=True)
class Asset:
    """One precompressed file with a strong ETag per content coding."""

    body: bytes
    gzip: bytes
    brotli: bytes
    digest: str

    @classmethod
    def of(cls, body: bytes) -> Asset:
        return cls(
            body=body,
            # Zopfli: a gzip stream any client decodes, ~2% smaller than zlib's best (110 B
            # of ECOMARKET's bundle), for ~16 ms once per file at start-up.
            gzip=zopfli.gzip.compress(body, numiterations=5),
            brotli=brotli.compress(body, quality=11),
            digest=hashlib.sha256(body).hexdigest()[:16],
        )

    @property
    def etag(self) -> str:
        return f'"{self.digest}"'

    def encoded(self, coding: str | None) -> tuple[bytes, str]:
        """The body and the ETag of this file in `coding` ("br", "gzip" or None)."""
        if coding == "br":
            return self.brotli, f'"{self.digest}-br"'
        if coding == "gzip":
            return self.gzip, f'"{self.digest}-gzip"'
        return self.body, self.etag


@dataclass(frozen=True, kw_only=True)
class Bundle(Asset):
    site_id: str
    # Language -> everything shown in it (first layer, preferences, config), and its sha256.
    texts: Mapping[str, str]
    text_hashes: Mapping[str, str]
    # Language -> the later layer (layer.js with the preferences' markup and CSS), served
    # from /gk/<site>/prefs/<lang>.<digest>.js on first use.
    prefs: Mapping[str, Asset]
    # Language -> the later layer's version in its URL (LAYER_FIT, then its own digest).
    layer_versions: Mapping[str, str]
    # Language -> the bundle with that language's first layer only (/gk/<site>.js?lang=).
    languages: Mapping[str, Asset]

    def in_language(self, language: str | None) -> Asset:
        """The bundle for a page in `language`; every language's when it names none we have."""
        return self.languages.get(language or "", self)


def _static(name: str) -> str:
    try:
        root = files("gatekeeper.banner_static")
    except ModuleNotFoundError:  # editable installs do not map static/banner to the package
        root = Path(__file__).parents[1] / "static" / "banner"
    return (root / name).read_text("utf-8")


# tdewolff/minify (the minify-go wheel: a Go library, no Node): local names are renamed,
# which whitespace stripping alone could not do (README, "How the bundle is minified").
minify.config({"js-keep-var-names": False, "css-precision": 0})


def _minified_js(source: str) -> str:
    return minify.string("application/javascript", source)


def _minified_css(source: str) -> str:
    return minify.string("text/css", source)


def _compact(html: str) -> str:
    # Templates keep each tag on its own line, so a line break never separates words.
    return re.sub(r"\s*\n\s*", "", html).strip()


CONSENT_TYPES = ("ad_storage", "ad_user_data", "ad_personalization", "analytics_storage", "personalization_storage")


def consent_modes(site: Site) -> dict[str, list[str]]:
    """Consent Mode type -> the categories that grant it (any one). The ad and analytics
    types are always listed, so a site without such a category still denies them."""
    modes: dict[str, list[str]] = {t: [] for t in CONSENT_TYPES}
    for category in site.categories:
        for consent_type in category.consent_types:
            modes.setdefault(consent_type, []).append(category.id)
    return modes


def features(site: Site) -> set[str]:
    """The optional parts of gate.js this site's services need (/*@name*/…/*@*/ blocks)."""
    return gate_features(s.loader for s in site.services)


def _only(source: str, wanted: set[str]) -> str:
    """Keeps a /*@name*/…/*@*/ block when `name` is wanted, a /*@!name*/ one when it is not."""
    def keep(m: re.Match) -> str:
        return m.group(3) if (m.group(2) in wanted) != bool(m.group(1)) else ""
    return re.sub(r"/\*@(!?)(\w+)\*/(.*?)/\*@\*/", keep, source, flags=re.S)


def public_config(site: Site, language: str | None = None) -> dict:
    """What the browser may know about a site: nothing secret, nothing it does not use.
    With `language`, the texts in the config (placeholders, the settings control's label)
    are that language's only, as the one-language bundle needs."""
    optional = site.optional_categories
    texts, embeds = embed_config(site)
    languages = [language] if language else list(site.languages)
    config = {
        "site": site.id,
        "revision": site.revision,
        "consent_days": site.consent_days,
        "categories": list(optional),
        "services": [
            {"category": s.category, **browser_config(s.loader), **({"any": list(s.loads_with)} if s.loads_with != (s.category,) else {})}
            for s in site.services if s.category in optional and not isinstance(s.loader, Embed)
        ],
        # Declared first-party cookie names and patterns, deleted when a category is refused.
        "cookies": {c: withdrawal_patterns(site, c) for c in optional},
        "modes": consent_modes(site),
        "embed": {lang: texts[lang] for lang in languages},
        "settings": site.settings_button,
    }
    if embeds:
        config["embeds"] = embeds
    if site.settings_button != "none":
        config["label"] = {lang: site_texts(site, lang)["settings"] for lang in languages}
    return config


def render_banner(site: Site, language: str, layer: str) -> str:
    categories = [c for c in site.categories if c.id != "necessary"]
    texts = site_texts(site, language)
    return _compact(render("banner.html", site=site, lang=language, t=texts, categories=categories, layer=layer))


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# Safe even pasted inside an inline <script>: no "</script" or "<!--" ends or escapes it, and
# U+2028/U+2029 (line terminators in older JavaScript engines) appear only as escapes.
# Applied to the minified code, since a minifier undoes escapes it thinks unnecessary;
# they can only occur inside string, template or regular-expression literals there, where
# the escaped forms mean the same.
_ENDS_SCRIPT = re.compile(r"<(/script|!--)", re.IGNORECASE)
_LINE_SEPARATORS = str.maketrans({"\u2028": "\\u2028", "\u2029": "\\u2029"})


def _inline_safe(code: str) -> str:
    return _ENDS_SCRIPT.sub(lambda m: "<\\" + m[1], code).translate(_LINE_SEPARATORS)


# V8's explicit compile hint (Chrome 136+; https://v8.dev/blog/explicit-compile-hints): all
# functions are compiled with the script, off the main thread while it streams in, instead
# of each on its first call inside the bundle's tasks (measured: fewer slowed loads with a
# bundle task over 50 ms). Only a comment, and only at the very top; other engines skip it.
COMPILE_HINT = "//# allFunctionsCalledOnLoad\n"

# The later layer's URL names what it must fit and what it holds: the first LAYER_FIT
# characters of a hash of everything the bundle and the layer agree on (their code, the
# parts passed between them, the banner's template, the site's categories), then the
# first of the layer's own digest. A bundle cached from an earlier deploy (a year, under
# the hashed URL) whose layer changed only in wording or services gets today's layer
# (assets.py); one built from other code or categories gets a 404, never a layer that
# does not fit it.
LAYER_FIT = 6
LAYER_DIGEST = 12


def _shown(first: str, prefs: str, config: str) -> str:
    """Everything a visitor in one language can be shown, the sha256 of which each record
    carries: the first layer, the preferences layer and the public config (categories,
    services, the settings control's label) the bundle acted on."""
    config = config.replace("</", "<\\/")
    return first + prefs + f'<script type="application/json" data-gk-config>{config}</script>'


# The bundle's parts the later layer uses, passed by banner.js (`later`) to the function
# layer.js is wrapped in, by position: the two lists are this one, so they cannot drift.
LAYER_ARGS = "CONFIG,MARKUP,CSS,allows,decide,withdraw,show,hide,focusDialog,load,local,sheet,shadow,attach,$,gatekeeper,gpc"


def _script(source: str) -> Asset:
    return Asset.of((COMPILE_HINT + _inline_safe(_minified_js(source))).encode("utf-8"))


def build_bundle(site: Site, public_keys: Sequence[str] = ()) -> Bundle:
    """`public_keys`: the consent token's verification keys (tokens.py); with none, no stored
    decision verifies and every visit shows the banner."""
    first = {lang: render_banner(site, lang, "first") for lang in site.languages}
    prefs_html = {lang: render_banner(site, lang, "prefs") for lang in site.languages}
    buttons = {lang: render_banner(site, lang, "buttons") for lang in site.languages}
    css = _minified_css(site.theme.css() + _static("banner.css"))
    prefs_css = _minified_css(_static("layer.css"))
    wanted = features(site)
    # Placeholders ride in the bundle where the site declares embeds (they must be in the
    # first paint of pages that have them); elsewhere an undeclared embed fetches them.
    placeholders = _only(_static("placeholders.js"), wanted)
    layer_code = _static("layer.js") + ("" if "embeds" in wanted else placeholders)

    def code_of(every: bool) -> str:
        """The bundle's code; with `every` language, the choice of one by the page's (the
        /*@every*/ blocks), which a one-language bundle does without."""
        parts = wanted | {"every"} if every else wanted
        code = f'{_only(_static("gate.js"), parts)}\n{_only(_static("banner.js"), parts)}\n'.replace("LAYER_ARGS", LAYER_ARGS)
        return code + placeholders if "embeds" in wanted else code
    keys = _json(list(public_keys))

    def config_of(language: str | None) -> tuple[dict, dict]:
        """The bundle's config and what only the later layer needs of it."""
        config = public_config(site, language)
        # The settings control's place and label, and the placeholders' texts where they
        # are not in the bundle, are used by the later layer alone; the bundle only needs
        # to know whether there is a control.
        later = {key: config.pop(key) for key in ("label", *(() if "embeds" in wanted else ("embed",))) if key in config}
        later["pos"] = config["settings"]
        config["settings"] = config["settings"] != "none"
        return config, later

    def layer(lang: str) -> Asset:
        later = config_of(lang)[1]
        extra = f"Object.assign(CONFIG,{_json(later)});" if later else ""
        return _script(
            f'gatekeeper._layer(({LAYER_ARGS})=>{{"use strict";const w=window,doc=document,lang={_json(lang)},optional=CONFIG.categories,HTML={_json(prefs_html[lang])},'
            f"BUTTONS={_json(buttons[lang])},STYLE={_json(prefs_css)};let hold;{extra}\n{layer_code}\nreturn(action,arg)=>actions[action](arg)}});\n"
        )

    layers = {lang: layer(lang) for lang in site.languages}
    public = public_config(site)
    fit = hashlib.sha256("\0".join(
        (code_of(True), layer_code, LAYER_ARGS, template_source("banner.html"), _json(public["categories"]))
    ).encode("utf-8")).hexdigest()[:LAYER_FIT]
    versions = {lang: fit + asset.digest[: LAYER_DIGEST - LAYER_FIT] for lang, asset in layers.items()}

    def script(markup: dict[str, str], language: str | None = None) -> Asset:
        config = config_of(language)[0]
        config["layer"] = {lang: f"/gk/{site.id}/prefs/{lang}.{versions[lang]}.js" for lang in markup}
        return _script(
            f'(()=>{{"use strict";const CONFIG={_json(config)},KEYS={keys},MARKUP={_json(markup)},CSS={_json(css)},'
            f"COOKIE={_json(COOKIE_NAME)},FORMAT={FORMAT_VERSION};\n{code_of(language is None)}}})();\n"
        )

    asset = script(first)
    config = _json(public)
    shown = {lang: _shown(first[lang], prefs_html[lang] + buttons[lang], config) for lang in site.languages}
    return Bundle(
        **vars(asset),
        site_id=site.id,
        texts=MappingProxyType(shown),
        text_hashes=MappingProxyType({lang: hashlib.sha256(html.encode("utf-8")).hexdigest() for lang, html in shown.items()}),
        prefs=MappingProxyType(layers),
        layer_versions=MappingProxyType(versions),
        languages=MappingProxyType({lang: script({lang: html}, lang) for lang, html in first.items()}),
    )


def build_bundles(sites: Mapping[str, Site], public_keys: Sequence[str]) -> dict[str, Bundle]:
    """Every site's bundle as the server serves it: with the consent token's public keys,
    which `gatekeeper check`'s sizes count too."""
    return {site_id: build_bundle(site, public_keys) for site_id, site in sites.items()}
