"""Click-to-load placeholders: what the bundle needs to stand in for an embed.

An `<iframe data-category data-src>` whose category is not granted gets a placeholder of
the same size in the page's language, naming the vendor and the cookies it sets (from
the site's embed services, i.e. the presets youtube, vimeo, google_maps), with "load this
one" and "always allow <category>". Texts: the `embed_*` keys of each language's texts
(texts.py), so a site may override them and a language of its own must give them.
"""

from __future__ import annotations

from .catalog import catalog
from .sites import Embed, Site
from .texts import site_texts

KINDS = ("video", "map", "content")


def _hosts(preset_id: str | None) -> list[str]:
    preset = catalog().get(preset_id or "")
    if preset is None:
        return []
    return [h.host.removeprefix("*.").replace(".*", ".com") for h in preset.hosts]


def embed_config(site: Site) -> tuple[dict, list]:
    """(texts, services). `texts`: per language ["always allow", notice, and a "load" label per kind of
    KINDS], labels only for the kinds of embeds the site has and "content" (any iframe);
    `services`: each embed service's category, name, hosts, cookies and kind. The category
    names come from the banner's own first layer."""
    embeds = [s for s in site.services if isinstance(s.loader, Embed)]
    kinds = {"content"} | {_kind(s.preset) for s in embeds}
    texts = {}
    for lang in site.languages:
        words = site_texts(site, lang)
        texts[lang] = [words["embed_always"], words["embed_notice"], *(words["embed_" + k] if k in kinds else 0 for k in KINDS)]
    services = [
        {"c": s.category, "n": s.name, "h": _hosts(s.preset), "k": ", ".join(c.name for c in s.cookies), "v": 2 + KINDS.index(_kind(s.preset))}
        for s in embeds
    ]
    return texts, services


def _kind(preset_id: str | None) -> str:
    preset = catalog().get(preset_id or "")
    return preset.loader.kind if preset else "content"
