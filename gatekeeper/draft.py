"""A draft site file from what `gatekeeper scan` observed.

Every vendor seen is matched to its preset (by the catalog's hosts and cookie names) with
the parameters its requests carried; its categories are the presets' proposals; the
shop's own first-party cookies become the site's `cookies`; whatever matches no preset is
listed as commented TODO entries naming the host or the cookie. The draft is valid as it
stands (TODOs are comments only), so it passes `gatekeeper check` once they are resolved
or deleted.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urlsplit

from .audit.storage import CONSENT_COOKIE
from .catalog import Preset, catalog
from .scan import Observation
from .sites import pattern_matches
from .texts import builtin_languages

# Names and descriptions of the categories presets propose, per built-in language.
CATEGORY_TEXTS = {
    "analytics": {
        "nl": ("Statistieken", "Meten hoe bezoekers de winkel gebruiken, om hem te verbeteren."),
        "fr": ("Statistiques", "Mesurer comment les visiteurs utilisent la boutique, pour l'améliorer."),
        "en": ("Analytics", "Measuring how visitors use the shop, to improve it."),
        "de": ("Statistik", "Messen, wie Besucher den Shop nutzen, um ihn zu verbessern."),
    },
    "marketing": {
        "nl": ("Marketing", "Advertenties en remarketing op andere websites."),
        "fr": ("Marketing", "Publicités et remarketing sur d'autres sites."),
        "en": ("Marketing", "Advertising and remarketing on other websites."),
        "de": ("Marketing", "Werbung und Remarketing auf anderen Websites."),
    },
    "social": {
        "nl": ("Sociale media", "Inloggen en delen met sociale netwerken."),
        "fr": ("Réseaux sociaux", "Connexion et partage avec les réseaux sociaux."),
        "en": ("Social media", "Logging in and sharing with social networks."),
        "de": ("Soziale Medien", "Anmelden und Teilen mit sozialen Netzwerken."),
    },
    "personalisation": {
        "nl": ("Personalisatie", "Productaanbevelingen op basis van uw bezoek."),
        "fr": ("Personnalisation", "Recommandations de produits selon votre visite."),
        "en": ("Personalisation", "Product recommendations based on your visit."),
        "de": ("Personalisierung", "Produktempfehlungen auf Grundlage Ihres Besuchs."),
    },
    "functional": {
        "nl": ("Functioneel", "Extra functies zoals chat, kaarten, video's en beoordelingen."),
        "fr": ("Fonctionnel", "Fonctions en plus : chat, cartes, vidéos et avis."),
        "en": ("Functional", "Extra features such as chat, maps, videos and reviews."),
        "de": ("Funktional", "Zusatzfunktionen wie Chat, Karten, Videos und Bewertungen."),
    },
}


@dataclass
class Match:
    preset: Preset
    params: dict[str, str] = field(default_factory=dict)
    requests: int = 0
    cookies: list[tuple[str, float | None]] = field(default_factory=list)


@dataclass
class Draft:
    text: str
    todos: int
    vendors: list[str]


def _days(lifetime: float | None) -> int:
    return 0 if lifetime is None else max(1, math.ceil(lifetime))


def _q(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def _texts(pairs: dict, languages: list[str], index: int) -> str:
    return "{ " + ", ".join(f"{lang} = {_q(pairs.get(lang, pairs['en'])[index])}" for lang in languages) + " }"


def match(seen: Observation) -> tuple[dict[str, Match], dict[str, int], list]:
    """(preset id -> Match, unmatched third-party host -> requests, unmatched cookies)."""
    presets = catalog()
    matches: dict[str, Match] = {}
    for request in seen.requests:
        if request.vendor is not None and request.vendor.id in presets:
            m = matches.setdefault(request.vendor.id, Match(presets[request.vendor.id]))
            m.requests += 1
            for name, param in m.preset.params.items():
                found = re.search(param.read, request.url) if param.read and name not in m.params else None
                if found:
                    m.params[name] = param.read_prefix + found.group(1)
    unknown_hosts: dict[str, int] = {}
    for request in seen.requests:
        host = urlsplit(request.url).hostname or ""
        if request.vendor is None and host and urlsplit(request.url).scheme in ("http", "https") and not seen.first_party(host):
            unknown_hosts[host] = unknown_hosts.get(host, 0) + 1
    unmatched = []
    for cookie in seen.cookies:
        if cookie.name == CONSENT_COOKIE:
            continue  # Gatekeeper's own, declared by every site already
        vendor = cookie.vendor
        if vendor is not None and vendor.id in presets:
            m = matches.setdefault(vendor.id, Match(presets[vendor.id]))
            m.cookies.append((cookie.name, cookie.lifetime_days))
        else:
            unmatched.append(cookie)
    return matches, unknown_hosts, unmatched


def write_draft(seen: Observation, *, site_id: str | None = None) -> Draft:
    matches, unknown_hosts, unmatched = match(seen)
    host = urlsplit(seen.pages[0]).hostname or "shop"
    site_id = site_id or re.sub(r"[^a-z0-9]+", "-", host.removeprefix("www.").split(".")[0].lower()).strip("-")[:40] or "shop"
    if not site_id[0].isalpha():
        site_id = "shop-" + site_id
    language = seen.lang if seen.lang in builtin_languages() else "en"
    languages = [language]
    origin = f"{urlsplit(seen.pages[0]).scheme}://{urlsplit(seen.pages[0]).netloc}"
    todos = 0
    out = [
        f"# Draft site file written by `gatekeeper scan` on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"# from {', '.join(seen.pages)}.",
        *(f"#   {line}" for line in seen.banners),
        "# Review every line, resolve or delete each TODO, then run `gatekeeper check`.",
        "",
        f"id = {_q(site_id)}",
        f"name = {_q(seen.title or host)}",
        "# TODO: the shop's legal entity (the controller) and its address, as in the privacy policy.",
        f"controller = {_q(seen.title or host)}",
        'address = ""',
        "# TODO: the URL of the shop's privacy policy.",
        f"policy_url = {_q(origin + '/privacy')}",
        f"origins = [{_q(origin)}]",
        f"languages = [{_q(language)}]",
        "",
    ]
    todos += 2
    own = [c for c in unmatched if seen.first_party(c.domain)]
    for cookie in own:
        todos += 1
        out += [
            "# TODO: the shop's own cookie, seen on the shop's domain: say what it does (in each language),",
            "# or, if it is not strictly necessary, move it to the service that sets it.",
            "[[cookies]]",
            f"name = {_q(cookie.name)}",
            f"lifetime_days = {_days(cookie.lifetime_days)}  # observed",
            f"purpose = {_q('Needed for the shop to work')}",
            "",
        ]
    categories = sorted({m.preset.category for m in matches.values()})
    for category in categories:
        pairs = CATEGORY_TEXTS.get(category, {"en": (category.capitalize(), category.capitalize())})
        out += ["[[categories]]", f"id = {_q(category)}", f"name = {_texts(pairs, languages, 0)}",
                f"description = {_texts(pairs, languages, 1)}", ""]
    for preset_id in sorted(matches):
        m = matches[preset_id]
        observed = ", ".join(f"{name} ({'session' if life is None else f'{_days(life)} day(s)'})" for name, life in m.cookies)
        out.append(f"# {m.preset.name}: {m.requests} request(s)" + (f"; cookies seen: {observed}" if observed else ""))
        params = {}
        for name, param in m.preset.params.items():
            if name in m.params:
                params[name] = m.params[name]
            elif param.default is None:
                todos += 1
                out.append(f"# TODO: {name} was not seen in the requests: {param.expect}.")
                params[name] = param.example
        for name, life in m.cookies:
            declared = [c for c in m.preset.cookies if pattern_matches(c.name, name)]
            if not declared and not any(pattern_matches(r, name) for r in m.preset.recognise):
                continue
            if not declared or (life is not None and _days(life) > max(c.lifetime_days for c in declared) and max(c.lifetime_days for c in declared) > 0):
                todos += 1
                out.append(f"# TODO: {name} ({_days(life)} days observed) is not declared by the preset as seen: "
                           "add it to this service's `cookies`.")
        out += ["[[services]]", f"preset = {_q(preset_id)}"]
        if params:
            out.append("params = { " + ", ".join(f"{k} = {_q(v)}" for k, v in params.items()) + " }")
        out.append("")
    for host_name, count in sorted(unknown_hosts.items()):
        todos += 1
        slug = re.sub(r"[^a-z0-9]+", "-", host_name.lower()).strip("-")[:40]
        out += [
            f"# TODO: {host_name} ({count} request(s)) matches no preset: declare it as a service with",
            "# its vendor, category and cookies, or remove it from the shop. For instance:",
            "# [[services]]",
            f"# id = {_q(slug)}",
            f"# name = {_q(host_name)}",
            '# category = "marketing"',
            '# vendor = "…"',
            '# purpose = "…"',
            '# location = "…"',
            "# outside_eu = true",
            '# privacy_url = "https://…"',
            f'# loader = {{ type = "script", src = "https://{host_name}/…" }}',
            "",
        ]
    for cookie in unmatched:
        if seen.first_party(cookie.domain):
            continue
        todos += 1
        out.append(f"# TODO: cookie {cookie.name!r} on {cookie.domain} ({_days(cookie.lifetime_days)} days) "
                   "belongs to no preset: declare it under the service that sets it (first_party = false).")
    vendors = [f"{p}: " + ", ".join(f"{k}={v}" for k, v in matches[p].params.items()) for p in sorted(matches)]
    return Draft("\n".join(out).rstrip() + "\n", todos, vendors)
