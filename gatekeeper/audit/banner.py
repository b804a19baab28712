"""Finding the consent banner on any page and making a choice through it.

Gatekeeper's own banner is found through its API (`window.gatekeeper`, the bundle's
`/gk/<site>.js` URL, the `<gatekeeper-banner>` element's open shadow root); any other
banner by its buttons' text in nl, fr, en and de, in every frame and open shadow root.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin

from playwright.sync_api import Error, Frame, Page

GK_SCRIPT = re.compile(r"/gk/(?P<site>[a-z][a-z0-9_-]{0,39})(\.[0-9a-f]{6,})?\.js(\?|$)")
GK_BANNER = "gatekeeper-banner"

ACCEPT_LABELS = {
    "nl": ("alles accepteren", "alle cookies accepteren", "accepteren", "accepteer", "accepteer alle cookies",
           "akkoord", "ik ga akkoord", "alles toestaan", "alle cookies toestaan", "toestaan"),
    "fr": ("tout accepter", "accepter", "accepter tout", "j'accepte", "accepter et fermer",
           "tout autoriser", "autoriser tous les cookies", "accepter les cookies"),
    "en": ("accept all", "accept", "accept all cookies", "accept cookies", "allow all", "allow all cookies",
           "i agree", "agree", "i accept", "agree and close", "ok", "got it"),
    "de": ("alle akzeptieren", "akzeptieren", "alles akzeptieren", "alle cookies akzeptieren", "zustimmen",
           "allen zustimmen", "alle zulassen", "einverstanden", "ich stimme zu"),
}
REJECT_LABELS = {
    "nl": ("alles weigeren", "weigeren", "alles afwijzen", "afwijzen", "weiger", "niet akkoord",
           "alleen noodzakelijk", "alleen noodzakelijke cookies", "alleen functionele cookies"),
    "fr": ("tout refuser", "refuser", "refuser tout", "tout rejeter", "rejeter", "continuer sans accepter",
           "refuser les cookies", "uniquement les cookies nécessaires"),
    "en": ("reject all", "reject", "reject all cookies", "decline", "decline all", "deny", "deny all", "refuse",
           "only necessary", "necessary only", "only necessary cookies", "use necessary cookies only",
           "only essential cookies", "essential only"),
    "de": ("alle ablehnen", "ablehnen", "alles ablehnen", "nur notwendige", "nur notwendige cookies",
           "nur essenzielle cookies", "nur erforderliche cookies", "verweigern"),
}
_ACCEPT = sorted({label for labels in ACCEPT_LABELS.values() for label in labels})
_REJECT = sorted({label for labels in REJECT_LABELS.values() for label in labels})

# Marks the first visible accept and reject control of a frame (open shadow roots
# included) with data-gk-audit, so Playwright can click it like a visitor would.
_MARK = """([accept, reject]) => {
  const norm = t => (t || '').replace(/[\\u2019`]/g, "'").replace(/[^\\p{L}\\p{N}' ]+/gu, ' ')
    .replace(/\\s+/g, ' ').trim().toLowerCase();
  const found = {};
  const shown = el => {
    const box = el.getBoundingClientRect(), style = getComputedStyle(el);
    return box.width > 0 && box.height > 0 && style.visibility !== 'hidden' && style.display !== 'none'
      && Number(style.opacity) > 0;
  };
  const inView = el => {
    const box = el.getBoundingClientRect();
    return box.bottom > 0 && box.right > 0 && box.top < innerHeight && box.left < innerWidth;
  };
  const visit = root => {
    root.querySelectorAll('button, [role=button], a, input[type=button], input[type=submit]').forEach(el => {
      const text = norm(el.value || el.innerText || el.textContent || el.getAttribute('aria-label'));
      for (const [kind, labels] of [['accept', accept], ['reject', reject]]) {
        if (found[kind] || !labels.includes(text) || !shown(el)) continue;
        el.setAttribute('data-gk-audit', kind);
        found[kind] = { label: text, tag: el.tagName.toLowerCase(), in_view: inView(el) };
      }
    });
    root.querySelectorAll('*').forEach(el => { if (el.shadowRoot) visit(el.shadowRoot); });
  };
  document.querySelectorAll('[data-gk-audit]').forEach(el => el.removeAttribute('data-gk-audit'));
  visit(document);
  return found;
}"""


class NoBanner(Exception):
    """No consent banner could be found on the page."""


@dataclass
class Banner:
    kind: str  # "gatekeeper" or "generic"
    frame: Frame
    site: str | None = None  # a Gatekeeper site id
    script: str | None = None  # its bundle URL
    accept_label: str | None = None
    reject_label: str | None = None
    reject_on_first_layer: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def declaration_url(self) -> str | None:
        return urljoin(self.script, f"/gk/{self.site}/cookies.json") if self.script else None

    @property
    def has_reject(self) -> bool:
        return self.reject_label is not None

    def to_json(self) -> dict:
        return {
            "kind": self.kind, "site": self.site, "script": self.script, "frame": self.frame.url,
            "accept_label": self.accept_label, "reject_label": self.reject_label,
            "reject_on_first_layer": self.reject_on_first_layer, "notes": self.notes,
        }


def gatekeeper_script(page: Page) -> str | None:
    """The URL of a Gatekeeper bundle the page embeds, if any."""
    try:
        sources = page.evaluate("() => Array.from(document.scripts, s => s.src).filter(Boolean)")
    except Error:
        return None
    return next((src for src in sources if GK_SCRIPT.search(src)), None)


def find(page: Page, *, timeout: float = 5.0) -> Banner:
    """The page's consent banner, waiting up to `timeout` seconds for it to appear."""
    script = gatekeeper_script(page)
    if script is not None:
        return _gatekeeper(page, script, timeout)
    deadline = time.monotonic() + timeout
    while True:
        for frame in page.frames:
            try:
                found = frame.evaluate(_MARK, [_ACCEPT, _REJECT])
            except Error:
                continue
            if "accept" in found or "reject" in found:
                reject = found.get("reject")
                return Banner(
                    "generic", frame,
                    accept_label=found.get("accept", {}).get("label"),
                    reject_label=reject and reject["label"],
                    reject_on_first_layer=bool(reject and reject["in_view"]),
                )
        if time.monotonic() > deadline:
            raise NoBanner("no consent banner found (no Gatekeeper bundle, no accept or reject button in nl, fr, en or de)")
        page.wait_for_timeout(250)


def _gatekeeper(page: Page, script: str, timeout: float) -> Banner:
    site = GK_SCRIPT.search(script).group("site")
    try:
        page.wait_for_function("() => !!window.gatekeeper", timeout=timeout * 1000)
        page.locator(f"{GK_BANNER} [role=dialog]").first.wait_for(state="visible", timeout=timeout * 1000)
    except Error:
        raise NoBanner(f"the Gatekeeper bundle {script} did not show its banner within {timeout:.0f}s") from None
    banner = Banner("gatekeeper", page.main_frame, site=site, script=script)
    for kind in ("accept", "reject"):
        button = page.locator(f"{GK_BANNER} [role=dialog] button[data-gk={kind}]").first
        if button.count() and button.is_visible():
            label = " ".join(button.inner_text().split())
            box = button.bounding_box()
            viewport = page.viewport_size or {"width": 1280, "height": 800}
            in_view = bool(box) and box["y"] + box["height"] <= viewport["height"] and box["x"] + box["width"] <= viewport["width"]
            if kind == "accept":
                banner.accept_label = label
            else:
                banner.reject_label, banner.reject_on_first_layer = label, in_view
    return banner


def _gatekeeper_decided(page: Page) -> None:
    page.wait_for_function("() => window.gatekeeper && window.gatekeeper.decision", timeout=5_000)


def reject(page: Page, banner: Banner) -> None:
    """Refuse through the banner's own reject button, as a visitor would."""
    if banner.kind == "gatekeeper":
        page.locator(f"{GK_BANNER} [role=dialog] button[data-gk=reject]").first.click(timeout=5_000)
        _gatekeeper_decided(page)
    else:
        banner.frame.locator("[data-gk-audit=reject]").first.click(timeout=5_000)


def accept(page: Page, banner: Banner, categories: tuple[str, ...] | None = None) -> None:
    """Accept everything through the banner's button, or (Gatekeeper) only `categories`."""
    if banner.kind == "gatekeeper":
        if categories is None:
            page.locator(f"{GK_BANNER} [role=dialog] button[data-gk=accept]").first.click(timeout=5_000)
            _gatekeeper_decided(page)
        else:
            page.evaluate("categories => window.gatekeeper.accept(categories)", list(categories))
    else:
        banner.frame.locator("[data-gk-audit=accept]").first.click(timeout=5_000)


def choose(page: Page, banner: Banner, granted: tuple[str, ...] | None) -> None:
    """Refuse (`()`), accept everything (None) or, on a Gatekeeper site, only `granted`."""
    if granted == ():
        reject(page, banner)
    else:
        accept(page, banner, granted)
