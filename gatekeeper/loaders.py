"""Loaders: how the gate brings a service's tag into the page, the one place a loader is known.

A built-in loader (`loader = { type = "ga4", measurement_id = "G-…" }`, or a preset of that
type) takes its fields, their shapes and its script URL from its catalog preset
(gatekeeper/presets/<type>.toml); this module adds only how gate.js runs it. Sites (the
`loader` field), the bundle (what the browser is told), the declaration (the vendors a
loader contacts), the CSP (its hosts) and the demo pages all ask here. gate.js reads the
`type`, `src`, `id` and `opts` it is given and knows no vendor's URL or settings.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Annotated, Union

import msgspec

from .catalog import Slug, Url, catalog
from .trackers import vendor_for_url


class Struct(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    pass


@dataclass(frozen=True)
class BuiltIn:
    """A loader gate.js has its own code for: `run` names that code (one of gate.js's
    `release` branches), `id` the field it passes to it, `options` the loader's own
    fields beside the preset's parameters."""

    name: str  # the struct's class name
    run: str
    id: str | None = None
    options: tuple[tuple[str, object, object], ...] = ()


BUILT_INS = {
    # gtag.js: one script for every Google tag, then `gtag('config', id)` for each.
    "ga4": BuiltIn("GA4", "gtag", "measurement_id"),
    "google_ads": BuiltIn("GoogleAds", "gtag", "conversion_id"),
    # Initialised from window.fbAsyncInit with the app id, then the shop's own.
    "facebook_sdk": BuiltIn("FacebookSDK", "facebook_sdk", "app_id"),
    # The container comes after Consent Mode's default. `categories`: any one of them,
    # granted, loads it (default: the service's own); its tags read Consent Mode for the rest.
    "gtm": BuiltIn("GTM", "gtm", options=(("categories", tuple[Slug, ...], ()),)),
}


def _built_in(type_: str, spec: BuiltIn) -> type:
    """The loader struct of a built-in type: its preset's parameters, with their patterns
    and defaults, as fields."""
    params = catalog()[type_].params
    fields = [
        (name, Annotated[str, msgspec.Meta(pattern=p.pattern)], *(() if p.default is None else (p.default,)))
        for name, p in sorted(params.items(), key=lambda item: item[1].default is not None)
    ]
    return msgspec.defstruct(spec.name, [*fields, *spec.options], bases=(Struct,), tag=type_, module=__name__)


GA4, GoogleAds, FacebookSDK, GTM = (_built_in(type_, spec) for type_, spec in BUILT_INS.items())


class Script(Struct, tag="script"):
    src: Url
    init: str | None = None  # a vendor's inline snippet, run just before the script
    ready: str | None = None  # and one run once it has loaded


class Embed(Struct, tag="embed"):
    """Content the shop embeds itself (<iframe data-category data-src>): the gate shows a
    click-to-load placeholder naming this service until its category is granted."""


Loader = Union[GA4, GoogleAds, FacebookSDK, GTM, Script, Embed]  # type: ignore[valid-type]
LOADER_TYPES = (*BUILT_INS, "script", "embed")


def type_of(loader) -> str:
    return type(loader).__struct_config__.tag


def preset_of(loader) -> str | None:
    """The catalog preset a built-in loader is (its type), else None."""
    type_ = type_of(loader)
    return type_ if type_ in BUILT_INS else None


def src(loader) -> str | None:
    """The script URL a loader loads: a script's own, a built-in's preset URL filled with
    its fields; None for an embed (the shop's page holds the iframe)."""
    if isinstance(loader, Script):
        return loader.src
    preset = preset_of(loader)
    if preset is None:
        return None
    template = catalog()[preset].loader.src
    return catalog()[preset].fill(template, msgspec.structs.asdict(loader))


def tracker_vendors(loader, preset: str | None = None) -> list[str]:
    """The tracker vendor ids a loader contacts: its service's preset, the loader's own, the
    vendors the preset says its script comes through (gtag.js through Tag Manager's host),
    and the vendor of its script URL."""
    own = preset_of(loader)
    vendors = [v for v in (preset, own) if v]
    for preset_id in dict.fromkeys(vendors):
        vendors += catalog()[preset_id].loader.via
    url = src(loader)
    vendor = vendor_for_url(url) if url else None
    return list(dict.fromkeys([*vendors, *([vendor.id] if vendor else [])]))


def browser_config(loader) -> dict:
    """What gate.js is told about a loader: how to run it, its URL, and the id it passes."""
    if isinstance(loader, Script):
        snippets = {k: v for k, v in (("init", loader.init), ("ready", loader.ready)) if v}
        return {"type": "script", "src": loader.src, **snippets}
    spec = BUILT_INS[type_of(loader)]
    options = catalog()[type_of(loader)].loader.options
    return {"type": spec.run, "src": src(loader), **({"id": getattr(loader, spec.id)} if spec.id else {}),
            **({"opts": dict(options)} if options else {})}


def released_scripts(services, optional: Collection[str], granted: Collection[str]) -> list[str]:
    """The script URLs gate.js's `release` adds for a visitor who granted `granted`, in its
    order: each service of an optional category (embeds aside) that any of its
    `loads_with` categories releases, and one gtag.js, the first Google tag's, for all of
    them. gatekeeper.shop preloads these for a returning visitor."""
    scripts, gtag = [], None
    for service in services:
        if service.category not in optional or isinstance(service.loader, Embed):
            continue
        if not any(c in granted for c in service.loads_with):
            continue
        config = browser_config(service.loader)
        if config["type"] == "gtag":
            gtag = gtag or config["src"]
        else:
            scripts.append(config["src"])
    return list(dict.fromkeys([*scripts, *([gtag] if gtag else [])]))


def gate_features(loaders) -> set[str]:
    """The optional parts of gate.js these loaders need (its /*@name*/…/*@*/ blocks)."""
    found = set()
    for loader in loaders:
        if isinstance(loader, Embed):
            found.add("embeds")
        elif isinstance(loader, Script):
            found |= {"snippets"} if loader.init or loader.ready else set()
        elif BUILT_INS[type_of(loader)].run == "gtm":
            found.add("gtm")
    return found
