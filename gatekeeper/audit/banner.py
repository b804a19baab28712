"""Finding the consent banner on any page and making a choice through it.

Gatekeeper's own banner is found through its API (`window.gatekeeper`, the bundle's
`/gk/<site>.js` URL, the `<gatekeeper-banner>` element's open shadow root); any other
banner by its buttons' words in nl, fr, en and de (textmatch.py), in every frame and open
shadow root. The banner says which tool runs it and how it was recognised.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin

from playwright.sync_api import Error, Frame, Page

from . import textmatch
from .labels import ACCEPT_LABELS, REJECT_LABELS  # noqa: F401 - the vocabulary, re-exported

GK_SCRIPT = re.compile(r"/gk/(?P<site>[a-z][a-z0-9_-]{0,39})(\.[0-9a-f]{6,})?\.js(\?|$)")
GK_BANNER = "gatekeeper-banner"

class NoBanner(Exception):
    """No consent banner could be found on the page."""


@dataclass
class Banner:
    kind: str  # "gatekeeper", "autoconsent" (a rule of DuckDuckGo's autoconsent) or "generic" (text matcher)
    frame: Frame
    site: str | None = None  # a Gatekeeper site id
    script: str | None = None  # its bundle URL
    accept_label: str | None = None
    reject_label: str | None = None
    reject_on_first_layer: bool = False
    notes: list[str] = field(default_factory=list)
    tool: str = "unrecognised banner"  # the consent tool running it
    detected_by: str = ""  # how the audit recognised it
    buttons_used: list[dict] = field(default_factory=list)  # what the audit clicked, in order

    @property
    def declaration_url(self) -> str | None:
        return urljoin(self.script, f"/gk/{self.site}/cookies.json") if self.script else None

    @property
    def has_reject(self) -> bool:
        return self.reject_label is not None

    def to_json(self) -> dict:
        return {
            "kind": self.kind, "tool": self.tool, "detected_by": self.detected_by, "site": self.site,
            "script": self.script, "frame": self.frame.url, "accept_label": self.accept_label,
            "reject_label": self.reject_label, "reject_on_first_layer": self.reject_on_first_layer,
            "buttons_used": self.buttons_used, "notes": self.notes,
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
            found = textmatch.scan(frame)
            if "accept" in found or "reject" in found:
                return _generic(frame, found)
        if time.monotonic() > deadline:
            raise NoBanner("no consent banner found (no Gatekeeper bundle, no accept or reject button in nl, fr, en or de)")
        page.wait_for_timeout(250)


def _generic(frame: Frame, found: dict) -> Banner:
    reject, accept = found.get("reject"), found.get("accept")
    words = " / ".join(repr(b["label"]) for b in (accept, reject) if b)
    tool = found.get("tool") or "unrecognised banner"
    how = "text matcher: its buttons " + words + (f"; the tool told by its markup" if found.get("tool") else "")
    return Banner("generic", frame, accept_label=accept and accept["label"], reject_label=reject and reject["label"],
                  reject_on_first_layer=bool(reject and reject["in_view"]), tool=tool, detected_by=how)


def _gatekeeper(page: Page, script: str, timeout: float) -> Banner:
    site = GK_SCRIPT.search(script).group("site")
    try:
        page.wait_for_function("() => !!window.gatekeeper", timeout=timeout * 1000)
        page.locator(f"{GK_BANNER} [role=dialog]").first.wait_for(state="visible", timeout=timeout * 1000)
    except Error:
        raise NoBanner(f"the Gatekeeper bundle {script} did not show its banner within {timeout:.0f}s") from None
    banner = Banner("gatekeeper", page.main_frame, site=site, script=script, tool="Gatekeeper",
                    detected_by=f"its bundle {script} and window.gatekeeper")
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


def _click(banner: Banner, locator, kind: str, label: str | None) -> None:
    locator.first.click(timeout=5_000)
    banner.buttons_used.append({"choice": kind, "label": label, "how": "clicked"})


def reject(page: Page, banner: Banner) -> None:
    """Refuse through the banner's own reject button, as a visitor would."""
    if banner.kind == "gatekeeper":
        _click(banner, page.locator(f"{GK_BANNER} [role=dialog] button[data-gk=reject]"), "reject", banner.reject_label)
        _gatekeeper_decided(page)
    else:
        _click(banner, banner.frame.locator("[data-gk-audit=reject]"), "reject", banner.reject_label)


def accept(page: Page, banner: Banner, categories: tuple[str, ...] | None = None) -> None:
    """Accept everything through the banner's button, or (Gatekeeper) only `categories`."""
    if banner.kind == "gatekeeper":
        if categories is None:
            _click(banner, page.locator(f"{GK_BANNER} [role=dialog] button[data-gk=accept]"), "accept", banner.accept_label)
            _gatekeeper_decided(page)
        else:
            page.evaluate("categories => window.gatekeeper.accept(categories)", list(categories))
            banner.buttons_used.append({"choice": "accept " + ", ".join(categories), "label": None,
                                        "how": "window.gatekeeper.accept()"})
    else:
        _click(banner, banner.frame.locator("[data-gk-audit=accept]"), "accept", banner.accept_label)


def choose(page: Page, banner: Banner, granted: tuple[str, ...] | None) -> None:
    """Refuse (`()`), accept everything (None) or, on a Gatekeeper site, only `granted`."""
    if granted == ():
        reject(page, banner)
    else:
        accept(page, banner, granted)
