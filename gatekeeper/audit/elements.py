"""Tracker elements in a page's DOM, split into those the browser fetches and those a
consent tool holds inert until a choice.

An element loads a tracker only if the browser would fetch it: a `<script src>` with an
executable type, `img`/`iframe`/`video`/`audio`/`source` with `src` or `srcset`, a `link`
with rel preconnect, dns-prefetch, preload, prefetch, modulepreload or stylesheet.
`<script type="text/plain" src=…>`, `data-src`/`data-srcset` and anything inside a
`<template>` are how consent tools (Gatekeeper's gate, vanilla-cookieconsent, Klaro,
Orejime, …) hold a tag back: reported as information, never as a violation.
"""

from __future__ import annotations

from dataclasses import dataclass

from playwright.sync_api import Error, Page

from ..trackers import Vendor, vendor_for_url

# Every element of the page (open shadow roots and template contents included) that points
# at a URL, with whether the browser fetches it. Script types: the HTML standard's
# "JavaScript MIME type essence matches" list, plus "" (no type) and "module".
_PROBE = r"""() => {
  const EXEC = /^(|module|(text|application)\/(x-)?(java|ecma)script|text\/(jscript|livescript)|text\/javascript1\.[0-5])$/i;
  const HINTS = /(^|\s)(preconnect|dns-prefetch|preload|prefetch|modulepreload|stylesheet)(\s|$)/i;
  const MEDIA = 'img, iframe, video, audio, source';
  const found = [];
  const add = (el, url, attribute, loads, inert) => {
    if (!url) return;
    let href;
    try { href = new URL(url, document.baseURI).href } catch (e) { return }
    found.push({ url: href, tag: el.tagName.toLowerCase(), attribute, loads: loads && !inert,
                 type: el.getAttribute('type'), inert_template: inert });
  };
  const urls = value => (value || '').split(',').map(part => part.trim().split(/\s+/)[0]).filter(Boolean);
  const visit = (root, inert) => {
    root.querySelectorAll('script').forEach(el => {
      const executable = EXEC.test((el.getAttribute('type') || '').trim());
      add(el, el.getAttribute('src'), 'src', executable, inert);
      add(el, el.getAttribute('data-src'), 'data-src', false, inert);
    });
    root.querySelectorAll(MEDIA).forEach(el => {
      add(el, el.getAttribute('src'), 'src', true, inert);
      urls(el.getAttribute('srcset')).forEach(url => add(el, url, 'srcset', true, inert));
      add(el, el.getAttribute('data-src'), 'data-src', false, inert);
      urls(el.getAttribute('data-srcset')).forEach(url => add(el, url, 'data-srcset', false, inert));
    });
    root.querySelectorAll('link').forEach(el => {
      if (HINTS.test(el.rel || '')) add(el, el.getAttribute('href'), 'href', true, inert);  // canonical, alternate: a mere reference
      add(el, el.getAttribute('data-href'), 'data-href', false, inert);
    });
    root.querySelectorAll('template').forEach(el => visit(el.content, true));
    root.querySelectorAll('*').forEach(el => { if (el.shadowRoot) visit(el.shadowRoot, inert); });
  };
  visit(document, false);
  return found;
}"""


@dataclass(frozen=True)
class TrackerElement:
    url: str
    tag: str
    attribute: str  # the attribute the URL is in: src, srcset, data-src, href, …
    loads: bool  # the browser fetches it
    vendor: Vendor
    type: str | None = None  # a script's type attribute
    in_template: bool = False

    def describe(self) -> str:
        kind = f' type="{self.type}"' if self.type is not None else ""
        where = " in a <template>" if self.in_template else ""
        return f"<{self.tag}{kind} {self.attribute}=…>{where}"

    def to_json(self, held_by: str | None = None) -> dict:
        return {"url": self.url, "element": self.describe(), "tag": self.tag, "attribute": self.attribute,
                "vendor": self.vendor.id, "category": self.vendor.category, "loads": self.loads, "held_by": held_by}


def probe(page: Page) -> list[TrackerElement]:
    """Every element of the page pointing at a tracker, loading or held (empty if the page is gone)."""
    try:
        found = page.evaluate(_PROBE)
    except Error:
        return []
    elements = []
    for item in found:
        vendor = vendor_for_url(item["url"])
        if vendor is not None:
            elements.append(TrackerElement(item["url"], item["tag"], item["attribute"], item["loads"], vendor,
                                           item["type"], item["inert_template"]))
    return elements


def tracker_elements(page: Page) -> list[str]:
    """URLs of the tracker elements the browser fetches (scripts, media, frames, resource hints)."""
    return [element.url for element in probe(page) if element.loads]


def held_elements(page: Page) -> list[TrackerElement]:
    """Tracker elements held inert (type="text/plain", data-src, <template>)."""
    return [element for element in probe(page) if not element.loads]
