"""The preset catalog: one `presets/<id>.toml` per vendor, the one place a vendor's facts live.

A preset holds what a shop owner cannot be expected to know: the legal entity, where it
processes data, the purpose in every language, each cookie with its lifetime, the hosts
it contacts and how its tag is loaded, with the vendor's own documentation as source.
The tracker table (gatekeeper.trackers), site files (`[[services]] preset = "hotjar"`),
the declaration page and the audit all read it from here.
"""

from __future__ import annotations

import re
import tomllib
from functools import cache
from importlib.resources import files
from types import MappingProxyType
from typing import Annotated, Literal, Mapping

import msgspec

SLUG = r"^[a-z][a-z0-9_-]{0,39}$"
LANGUAGES = ("nl", "fr", "en", "de")

Slug = Annotated[str, msgspec.Meta(pattern=SLUG)]
Url = Annotated[str, msgspec.Meta(pattern=r"^https?://\S+$")]
# Every preset text is written in all four languages; a site shows the ones it speaks.
Text = Annotated[dict[Literal["nl", "fr", "en", "de"], str], msgspec.Meta(min_length=4)]


class CatalogError(Exception):
    """A preset file that cannot be used; the message names the file and the field."""


class Struct(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    pass


class Param(Struct):
    """A loader parameter under the vendor's own name, e.g. `measurement_id`."""

    pattern: str  # the shape the vendor gives it, as a regular expression
    expect: str  # that shape in words, for error messages
    example: str
    default: str | None = None
    # How `gatekeeper scan` reads the value from the vendor's requests: a regular
    # expression searched in each request URL, group 1 (after `read_prefix`) is the value.
    read: str | None = None
    read_prefix: str = ""


class Host(Struct):
    """Where the vendor's code or beacons go. `host`: `www.clarity.ms` (exact),
    `*.hotjar.com` (the domain and every subdomain), `www.google.*` (any top-level
    domain); `path`: a regular expression matched from the start of path and query."""

    host: Annotated[str, msgspec.Meta(pattern=r"^(\*\.)?[a-z0-9.-]+(\.\*)?$")]
    path: str | None = None


class Cookie(Struct):
    name: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.\-]+\*?$")]
    lifetime_days: Annotated[int, msgspec.Meta(ge=0, le=3650)]  # 0 = session cookie
    purpose: Text
    first_party: bool = True
    # What the vendor's documentation leaves open about this cookie, said plainly.
    note: str = ""


class Loader(Struct):
    """How the gate brings the vendor in: the script URL template (`{param}` filled in),
    run by a built-in loader fed with the parameters (ga4, google_ads, facebook_sdk, gtm:
    gatekeeper.loaders) or as a plain script with optional snippets; or an embed the
    shop puts in its page itself."""

    type: Literal["ga4", "google_ads", "facebook_sdk", "gtm", "script", "embed"]
    src: str | None = None
    # Other presets whose hosts the script is served from or calls (gtag.js comes from Tag
    # Manager's host), so a request there belongs to this service too.
    via: tuple[Slug, ...] = ()
    # A built-in loader's settings for the vendor's own init call (the Facebook SDK's
    # FB.init), passed as they are beside the id.
    options: dict[str, str | bool] = {}
    init: str | None = None
    ready: str | None = None  # run once the script has loaded
    example: str | None = None  # an embed: an iframe URL of the vendor's, as a shop writes it
    kind: Literal["video", "map", "content"] = "content"  # an embed: what its placeholder loads


class Preset(Struct, kw_only=True):
    id: Slug
    name: str
    vendor: str  # the legal entity that receives the data
    location: Text
    outside_eu: bool
    privacy_url: Url
    category: Slug  # the category it proposes; a site may put it elsewhere
    purpose: Text
    sources: Annotated[tuple[Url, ...], msgspec.Meta(min_length=1)]
    notes: str = ""  # facts the sources leave open
    params: dict[Annotated[str, msgspec.Meta(pattern=r"^[a-z_]+$")], Param] = {}
    loader: Loader
    hosts: Annotated[tuple[Host, ...], msgspec.Meta(min_length=1)]
    cookies: tuple[Cookie, ...] = ()
    # Cookie names the vendor's other or older tags set (not this one): the audit names
    # the vendor when it sees them, the declaration does not list them.
    recognise: tuple[str, ...] = ()

    def fill(self, template: str, params: Mapping[str, str]) -> str:
        """`template` with each `{param}` of this preset replaced; other braces (an init
        snippet's own JavaScript) are left alone."""
        for name in self.params:
            template = template.replace("{" + name + "}", params[name])
        return template


def _check(preset: Preset, stem: str) -> None:
    if preset.id != stem:
        raise CatalogError(f"id: {preset.id!r} does not match the file name {stem!r}")
    for name, param in preset.params.items():
        try:
            pattern = re.compile(param.pattern)
        except re.error as exc:
            raise CatalogError(f"params.{name}.pattern: not a regular expression: {exc}") from None
        for value in (param.example, param.default):
            if value is not None and not pattern.fullmatch(value):
                raise CatalogError(f"params.{name}: {value!r} does not match its own pattern")
    needs_src = preset.loader.type != "embed"
    if needs_src != (preset.loader.src is not None):
        raise CatalogError("loader.src: required for every loader but an embed, and not there")
    if (preset.loader.type == "embed") != (preset.loader.example is not None):
        raise CatalogError("loader.example: required for an embed (an iframe URL), and only there")
    for host in preset.hosts:
        if host.path is not None:
            re.compile(host.path)


def parse_preset(data: str, stem: str, source: str) -> Preset:
    try:
        preset = msgspec.convert(tomllib.loads(data), Preset)
        _check(preset, stem)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{source}: not valid TOML: {exc}") from None
    except msgspec.ValidationError as exc:
        message, _, _ = str(exc).partition(" - at `")
        where = re.search(r"`\$\.([^`]*)`", str(exc))
        raise CatalogError(f"{source}: {where.group(1) if where else '(top level)'}: {message}") from None
    except (CatalogError, re.error) as exc:
        raise CatalogError(f"{source}: {exc}") from None
    return preset


@cache
def catalog() -> Mapping[str, Preset]:
    """Every preset shipped with Gatekeeper, by id."""
    root = files("gatekeeper") / "presets"
    presets = {}
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            stem = entry.name[: -len(".toml")]
            presets[stem] = parse_preset(entry.read_text("utf-8"), stem, f"presets/{entry.name}")
    for preset in presets.values():
        for other in preset.loader.via:
            if other not in presets:
                raise CatalogError(f"presets/{preset.id}.toml: loader.via: no preset {other!r}")
    return MappingProxyType(presets)


def csp_sources(preset_id: str) -> tuple[str, ...]:
    """A preset's hosts as CSP host sources. CSP cannot say "any top-level domain", so
    `www.google.*` stands for its .com host."""
    hosts = (h.host[:-2] + ".com" if h.host.endswith(".*") else h.host for h in catalog()[preset_id].hosts)
    return tuple(dict.fromkeys(f"https://{host}" for host in hosts))


def _texts(value: Mapping[str, str], languages) -> dict[str, str]:
    """A preset text in the site's languages; English where the catalog has none of them
    (the site may override the field in its own words)."""
    return {lang: text for lang, text in value.items() if lang in languages} or {"en": value["en"]}


def expand(raw: dict, where: str, languages) -> dict:
    """A site file's `[[services]]` table with `preset = "…"` completed from the catalog:
    the preset's fields, its loader filled with `params`, then the site's own overrides.
    Raises ValueError naming `where` and the field on a bad preset id or parameter."""
    presets = catalog()
    preset_id = raw.get("preset")
    preset = presets.get(preset_id) if isinstance(preset_id, str) else None
    if preset is None:
        raise ValueError(f"{where}.preset: unknown preset {preset_id!r} (expected one of {', '.join(presets)})")
    given = raw.get("params", {})
    if not isinstance(given, dict):
        raise ValueError(f"{where}.params: expected a table like {{ {_example(preset)} }}")
    for name in given:
        if name not in preset.params:
            expected = ", ".join(preset.params) or "none"
            raise ValueError(f"{where}.params.{name}: preset {preset.id!r} has no parameter {name!r} (expected {expected})")
    params = {}
    for name, param in preset.params.items():
        value = given.get(name, param.default)
        if value is None:
            raise ValueError(f"{where}.params.{name}: missing: {param.expect}, like {param.example!r}")
        if not isinstance(value, str) or not re.fullmatch(param.pattern, value):
            raise ValueError(f"{where}.params.{name}: {value!r} is not {param.expect} (like {param.example!r})")
        params[name] = value
    if preset.loader.type == "script":
        loader = {"type": "script", "src": preset.fill(preset.loader.src, params)}
        for snippet in ("init", "ready"):
            if getattr(preset.loader, snippet):
                loader[snippet] = preset.fill(getattr(preset.loader, snippet), params)
    else:
        loader = {"type": preset.loader.type, **params}
    defaults = {
        "id": preset.id,
        "name": preset.name,
        "category": preset.category,
        "vendor": preset.vendor,
        "purpose": _texts(preset.purpose, languages),
        "location": _texts(preset.location, languages),
        "outside_eu": preset.outside_eu,
        "privacy_url": preset.privacy_url,
        "loader": loader,
        "cookies": [
            {"name": c.name, "lifetime_days": c.lifetime_days, "first_party": c.first_party,
             "purpose": _texts(c.purpose, languages)}
            for c in preset.cookies
        ],
    }
    merged = {**defaults, **raw, "params": params}
    if isinstance(raw.get("loader"), dict):  # options of the preset's loader, e.g. GTM's categories
        merged["loader"] = {**loader, **raw["loader"]}
    return merged


def _example(preset: Preset) -> str:
    return ", ".join(f'{name} = "{param.example}"' for name, param in preset.params.items())
