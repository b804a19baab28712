"""Site configuration: one `sites/<id>.toml` per shop, validated into frozen objects.

Validation is msgspec's (types, patterns, unknown fields); the few rules that span
fields (duplicate ids, services in unknown categories) are checked after it. Every
error names the file, the field and what was expected.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal, Union

import msgspec

from . import catalog, errors, texts
from .csp_table import CspTable
from .loaders import GA4, GTM, LOADER_TYPES, Embed, FacebookSDK, GoogleAds, Loader, Script  # noqa: F401 (re-exported)
from .theme import Theme, expected as theme_expected
from .trackers import vendor_for_cookie

SLUG = r"^[a-z][a-z0-9_-]{0,39}$"

Slug = Annotated[str, msgspec.Meta(pattern=SLUG)]
# An ISO 639 code; offered only with a complete set of texts (gatekeeper/texts.py).
Language = Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2,3}$")]
DEFAULT_LANGUAGES = ("en",)
Url = Annotated[str, msgspec.Meta(pattern=r"^https?://\S+$")]
Origin = Annotated[str, msgspec.Meta(pattern=r"^https?://[^/\s]+$")]
# Per-language text: a plain string (used for every language) or a table per language.
Text = Union[str, dict[Language, str]]


class SiteError(Exception):
    """A site configuration that cannot be used; the message says where and why."""


class Struct(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    pass


class Cookie(Struct):
    name: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.\-]+\*?$")]
    lifetime_days: Annotated[int, msgspec.Meta(ge=0, le=3650)]  # 0 = session cookie
    purpose: Text
    first_party: bool = True


def pattern_matches(pattern: str, name: str) -> bool:
    """A cookie name against a declared name, or a prefix pattern ending in `*`."""
    return name.startswith(pattern[:-1]) if pattern.endswith("*") else name == pattern


def pattern_regex(pattern: str) -> str:
    """The same rule as a regular expression (for matching many patterns at once)."""
    return re.escape(pattern[:-1]) + ".*" if pattern.endswith("*") else re.escape(pattern)


class Service(Struct):
    id: Slug
    name: str
    category: Slug
    vendor: str
    purpose: Text
    location: Text  # where the vendor processes the data, e.g. { nl = "Verenigde Staten", … }
    outside_eu: bool
    privacy_url: Url
    loader: Loader
    cookies: tuple[Cookie, ...] = ()
    preset: Slug | None = None  # the catalog entry this service was completed from
    params: dict[str, str] = {}

    @property
    def loads_with(self) -> tuple[str, ...]:
        """The categories any one of which, granted, releases this service."""
        return getattr(self.loader, "categories", ()) or (self.category,)


ConsentType = Literal[
    "ad_storage", "ad_user_data", "ad_personalization", "analytics_storage",
    "functionality_storage", "personalization_storage", "security_storage",
]
# Google Consent Mode types each usual category grants, unless the site says otherwise.
DEFAULT_CONSENT_MODE: dict[str, tuple[str, ...]] = {
    "analytics": ("analytics_storage",),
    "statistics": ("analytics_storage",),
    "marketing": ("ad_storage", "ad_user_data", "ad_personalization"),
    "advertising": ("ad_storage", "ad_user_data", "ad_personalization"),
    "personalisation": ("personalization_storage",),
    "personalization": ("personalization_storage",),
    "preferences": ("functionality_storage",),
    "functional": ("functionality_storage",),
}


class Category(Struct):
    id: Slug
    name: Text
    description: Text
    # The Consent Mode types this category grants; None: DEFAULT_CONSENT_MODE by id.
    consent_mode: tuple[ConsentType, ...] | None = None

    @property
    def consent_types(self) -> tuple[str, ...]:
        if self.consent_mode is not None:
            return self.consent_mode
        return DEFAULT_CONSENT_MODE.get(self.id, ())


class Site(Struct, dict=True):  # dict: room for the cached properties below
    id: Slug
    name: str
    controller: str
    address: str
    policy_url: Url
    revision: Annotated[int, msgspec.Meta(ge=1)] = 1
    consent_days: Annotated[int, msgspec.Meta(ge=1, le=395)] = 182
    retention_days: Annotated[int, msgspec.Meta(ge=1)] = 730
    origins: tuple[Origin, ...] = ()
    cookie_domain: str | None = None
    languages: Annotated[tuple[Language, ...], msgspec.Meta(min_length=1)] = DEFAULT_LANGUAGES
    categories: tuple[Category, ...] = ()
    services: tuple[Service, ...] = ()
    # The shop's own necessary cookies (cart, session, language, CSRF), declared like a
    # vendor's and shown under "necessary".
    cookies: tuple[Cookie, ...] = ()
    # The bundle's own "cookie settings" control, in a corner of every page. "none" only
    # when the shop links gatekeeper.show() or [data-gk-open] itself on every page.
    settings_button: Literal["bottom-left", "bottom-right", "none"] = "bottom-left"
    # Per-language overrides of the built-in banner texts: texts.nl.title = "…"
    texts: dict[Language, dict[str, str]] = {}
    # The shop's own hosts for the Content-Security-Policy (csp_table.py, README "On your own server").
    csp: CspTable = CspTable()
    # The banner's colours, radius, font and spacing (theme.py, README "Themes").
    theme: Theme = Theme()

    @property
    def default_language(self) -> str:
        return self.languages[0]

    @cached_property  # asked several times by every consent POST; a site never changes
    def category_ids(self) -> tuple[str, ...]:
        """Every category of the site, `necessary` first."""
        return ("necessary",) + tuple(c.id for c in self.categories if c.id != "necessary")

    @cached_property
    def optional_categories(self) -> tuple[str, ...]:
        return self.category_ids[1:]

    def text(self, value: Text, language: str) -> str:
        """A per-language text in `language`, falling back to the site's first language."""
        if isinstance(value, str):
            return value
        return value.get(language) or value.get(self.default_language) or next(iter(value.values()))

    def services_in(self, category: str) -> tuple[Service, ...]:
        return tuple(s for s in self.services if s.category == category)


def _check_rules(site: Site) -> None:
    """Rules that span fields; msgspec has checked each field on its own."""
    seen: set[str] = set()
    for i, category in enumerate(site.categories):
        if category.id in seen:
            raise SiteError(f"categories[{i}].id: duplicate category id {category.id!r}")
        seen.add(category.id)
    known = set(site.category_ids)
    seen = set()
    for i, service in enumerate(site.services):
        if service.id in seen:
            hint = f" (preset {service.preset!r} used twice: give one its own `id`)" if service.preset else ""
            raise SiteError(f"services[{i}].id: duplicate service id {service.id!r}{hint}")
        seen.add(service.id)
        extra = getattr(service.loader, "categories", ())
        for field, category in (("category", service.category), *(("loader.categories", c) for c in extra)):
            if category not in known:
                hint = f"; preset {service.preset!r} proposes it: add the category or set `category`" if service.preset else ""
                raise SiteError(
                    f"services[{i}].{field}: unknown category {category!r} "
                    f"(expected one of {', '.join(sorted(known))}{hint})"
                )
        if service.category == "necessary" and not isinstance(service.loader, Script):
            raise SiteError(f"services[{i}].category: a tracker loader cannot be 'necessary'")
        if "necessary" in extra:  # it is always granted: the container would load before any choice
            raise SiteError(f"services[{i}].loader.categories: a container cannot load with 'necessary' (always granted)")
    for i, cookie in enumerate(site.cookies):
        vendor = vendor_for_cookie(cookie.name.rstrip("*"))
        if vendor is not None:
            raise SiteError(
                f"cookies[{i}].name: {cookie.name!r} is a cookie of {vendor.name}; declare it under that "
                "service (preset), not among the shop's own necessary cookies"
            )
    if len(set(site.languages)) != len(site.languages):
        raise SiteError("languages: a language is listed twice")
    for language in site.texts:
        if language not in site.languages:
            raise SiteError(f"texts.{language}: language not in languages {list(site.languages)}")
    for field, why in site.csp.problems():
        raise SiteError(f"{field}: {why}")
    for field, why in site.theme.problems():
        raise SiteError(f"{field}: {why}")


def explain(exc: msgspec.ValidationError, whole: str) -> tuple[str, str]:
    """(field, message) of a msgspec validation error; `whole` names the field when the
    error is about the document itself. msgspec says "Expected `int`, got `str` - at
    `$.services[0].category`"."""
    message, _, where = str(exc).partition(" - at `$.")
    return where.rstrip("`") or whole, message


def parse_site(data: bytes | str, source: str = "<site>") -> Site:
    """One site from TOML text; `source` names it in errors."""
    try:
        raw = tomllib.loads(data.decode() if isinstance(data, bytes) else data)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SiteError(f"{source}: not valid TOML: {exc}") from None
    # A preset's texts in the languages the site speaks (validated with the rest below).
    languages = raw.get("languages", DEFAULT_LANGUAGES)
    languages = [lang for lang in languages if isinstance(lang, str)] if isinstance(languages, list | tuple) else []
    try:
        for i, service in enumerate(raw.get("services", ())):
            if isinstance(service, dict) and "preset" in service:
                raw["services"][i] = catalog.expand(service, f"services[{i}]", languages)
    except ValueError as exc:
        raise SiteError(f"{source}: {exc}") from None
    try:
        site = msgspec.convert(raw, Site)
    except msgspec.ValidationError as exc:
        field, message = explain(exc, "(top level)")
        if field.endswith("loader.type"):
            message += f" (expected one of {', '.join(LOADER_TYPES)})"
        message = theme_expected(field, message) or message
        raise SiteError(f"{source}: {field}: {message}") from None
    try:
        _check_rules(site)
        texts.check_languages(site.languages, site.texts)
    except texts.BuiltinTextsError as exc:
        raise SiteError(str(exc)) from None
    except (SiteError, texts.TextsError) as exc:
        raise SiteError(f"{source}: {exc}") from None
    return site


def known_site(sites: Mapping[str, Site], site_id: str | None) -> Site:
    """The site a request names; an id no site has answers 404 unknown_site."""
    site = sites.get(site_id or "")
    if site is None:
        raise errors.UnknownSite(f"unknown site {site_id!r}")
    return site


def load_site(directory: Path | str, site_id: str) -> Site:
    """One site of `directory`, validated with all the others (ids must stay unique)."""
    sites = load_sites(Path(directory))
    if site_id not in sites:
        raise SiteError(f"{directory}: no site {site_id!r} (found {', '.join(sorted(sites))})")
    return sites[site_id]


def load_sites(directory: Path) -> dict[str, Site]:
    """Every `*.toml` in `directory`, by site id; raises SiteError on the first problem."""
    directory = Path(directory)
    if not directory.is_dir():
        raise SiteError(f"{directory}: sites directory not found")
    sites: dict[str, Site] = {}
    for path in sorted(directory.glob("*.toml")):
        site = parse_site(path.read_bytes(), str(path))
        if site.id in sites:
            raise SiteError(f"{path}: id: duplicate site id {site.id!r} (also in another file)")
        if path.stem != site.id:
            raise SiteError(f"{path}: id: {site.id!r} does not match the file name {path.stem!r}")
        sites[site.id] = site
    if not sites:
        raise SiteError(f"{directory}: no site configurations (*.toml) found")
    return sites
