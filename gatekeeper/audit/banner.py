"""Finding the consent banner on any page and making a choice through it.

Gatekeeper's own banner is found through its API (`window.gatekeeper`, the bundle's
`/gk/<site>.js` URL, the `<gatekeeper-banner>` element's open shadow root); any other
tool by DuckDuckGo's autoconsent rules (autoconsent.py), which also reject and accept the
way the tool offers; and, as the fallback, any banner by its buttons' words in nl, fr, en
and de (textmatch.py), in every frame and open shadow root. The banner says which tool
runs it, how it was recognised, and which buttons the audit used.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin

from playwright.sync_api import Error, Frame, Page

from . import autoconsent, textmatch
from .labels import ACCEPT_LABELS, REJECT_LABELS  # noqa: F401 - the vocabulary, re-exported

GK_SCRIPT = re.compile(r"/gk/(?P<site>[a-z][a-z0-9_-]{0,39})(\.[0-9a-f]{6,})?\.js(\?|$)")
GK_BANNER = "gatekeeper-banner"
DEAD_CLICK_RETRIES = 2

class NoBanner(Exception):
    """No consent banner could be found on the page."""


class ChoiceFailed(Exception):
    """The banner's reject or accept could not be operated."""


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
    rule: str | None = None  # the autoconsent rule that recognised and operates it
    buttons_used: list[dict] = field(default_factory=list)  # what the audit clicked, in order

    @property
    def declaration_url(self) -> str | None:
        return urljoin(self.script, f"/gk/{self.site}/cookies.json") if self.script else None

    @property
    def has_reject(self) -> bool:
        """A refusal can be tried: a reject button, or a tool autoconsent knows how to refuse in."""
        return self.reject_label is not None or self.kind == "autoconsent"

    @property
    def has_accept(self) -> bool:
        return self.accept_label is not None or self.kind == "autoconsent"

    def to_json(self) -> dict:
        return {
            "kind": self.kind, "tool": self.tool, "detected_by": self.detected_by, "site": self.site,
            "script": self.script, "frame": self.frame.url, "accept_label": self.accept_label,
            "reject_label": self.reject_label, "reject_on_first_layer": self.reject_on_first_layer,
            "autoconsent_rule": self.rule, "buttons_used": self.buttons_used, "notes": self.notes,
        }


def gatekeeper_script(page: Page) -> str | None:
    """The URL of a Gatekeeper bundle the page embeds, if any."""
    try:
        sources = page.evaluate("() => Array.from(document.scripts, s => s.src).filter(Boolean)")
    except Error:
        return None
    return next((src for src in sources if GK_SCRIPT.search(src)), None)


def find(page: Page, *, timeout: float = 5.0, like: Banner | None = None) -> Banner:
    """The page's consent banner, waiting up to `timeout` seconds for it to appear. `like`:
    the banner an earlier visit found, so a banner autoconsent did not know is not searched
    for by it again."""
    script = gatekeeper_script(page)
    if script is not None:
        return _gatekeeper(page, script, timeout)
    session = autoconsent.Session(page)
    if like is None or like.kind != "generic":
        session.start()
    deadline = time.monotonic() + timeout
    text_since: float | None = None  # when the text matcher first saw a banner
    while True:
        session.poll()
        if session.found is not None:
            return _recognised(*session.found)
        now = time.monotonic()
        for frame in page.frames:
            found = textmatch.scan(frame)
            if "accept" in found or "reject" in found:
                text_since = text_since or now
                # autoconsent first, while it may still recognise the tool (it searches ~3 s)
                searching = session.frames and not session.finished and now - text_since < 1.5
                if (not searching and not session.detected) or now > deadline:
                    return _generic(frame, found, session.detected)
                break
        if now > deadline:
            raise NoBanner("no consent banner found (no Gatekeeper bundle, no tool autoconsent recognises, "
                           "no accept or reject button in nl, fr, en or de)")
        page.wait_for_timeout(250)


def remeasure(page: Page, banner: Banner) -> Banner:
    """The same banner's labels and reject visibility now (after a viewport change), without searching again."""
    if banner.kind == "gatekeeper":
        return _gatekeeper(page, banner.script, 5.0)
    found = textmatch.scan(banner.frame)
    reject, accept = found.get("reject"), found.get("accept")
    return Banner(banner.kind, banner.frame, accept_label=accept and accept["label"], reject_label=reject and reject["label"],
                  reject_on_first_layer=bool(reject and reject["in_view"]), tool=banner.tool, rule=banner.rule,
                  detected_by=banner.detected_by)


def _recognised(frame: Frame, rule: str) -> Banner:
    """A tool autoconsent recognised; its buttons' labels (and marks, for measuring) from the text matcher."""
    found = textmatch.scan(frame)
    reject, accept = found.get("reject"), found.get("accept")
    told = f" (its markup says {found['tool']})" if found.get("tool") else ""
    return Banner("autoconsent", frame, accept_label=accept and accept["label"], reject_label=reject and reject["label"],
                  reject_on_first_layer=bool(reject and reject["in_view"]), tool=found.get("tool") or rule, rule=rule,
                  detected_by=f"autoconsent {autoconsent.version()} rule {rule!r}{told}")


def _generic(frame: Frame, found: dict, detected: list[str]) -> Banner:
    reject, accept = found.get("reject"), found.get("accept")
    words = " / ".join(repr(b["label"]) for b in (accept, reject) if b)
    tool = found.get("tool") or (detected[0] if detected else "unrecognised banner")
    how = "text matcher: its buttons " + words + ("; the tool told by its markup" if found.get("tool") else "")
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


def _click(banner: Banner, locator, kind: str, label: str | None, how: str = "clicked") -> None:
    try:
        locator.first.click(timeout=5_000)
    except Error as exc:
        raise ChoiceFailed(f"the {kind} button {label!r} could not be clicked: {str(exc).splitlines()[0]}") from None
    banner.buttons_used.append({"choice": kind, "label": label, "how": how})


def _still_shown(frame: Frame, click: dict, wait_ms: int = 1_500) -> bool:
    """Whether the button a rule clicked is still on screen `wait_ms` later, so the click did
    nothing: some tools show their buttons before they bind them (tarteaucitron 1.34 binds
    its buttons in a 500 ms timeout after showing the banner, later on a busy CPU)."""
    if click.get("id"):
        target = frame.locator(f"[id={json.dumps(click['id'])}]")
    elif click.get("label"):
        target = frame.get_by_role("button", name=click["label"], exact=True)
    else:
        return False
    deadline = time.monotonic() + wait_ms / 1000
    while time.monotonic() < deadline:
        try:
            if not target.first.is_visible():
                return False
        except Error:
            return False  # the page navigated or the frame went: the click did something
        frame.page.wait_for_timeout(100)
    return True


def _operate(banner: Banner, kind: str) -> None:
    """Reject or accept on a tool autoconsent recognised, as its rule does; the text
    matcher's button when the rule cannot."""
    action = "optOut" if kind == "reject" else "optIn"
    try:
        clicks, confirmed = autoconsent.choose(banner.frame, action)
    except autoconsent.ChoiceFailed as exc:
        found = textmatch.scan(banner.frame).get(kind)
        if found is None:
            raise ChoiceFailed(f"{exc}, and no {kind} button was found by its words") from None
        _click(banner, banner.frame.locator(f"[data-gk-audit={kind}]"), kind, found["label"],
               how=f"text matcher ({exc})")
        return
    for _ in range(DEAD_CLICK_RETRIES):  # a visitor clicks a button that did nothing once more
        if not clicks or not _still_shown(banner.frame, clicks[-1]):
            break
        banner.notes.append(f"{kind}: {clicks[-1]['label']!r} was on screen but did nothing when clicked; clicked again")
        try:
            again, confirmed = autoconsent.choose(banner.frame, action)
        except autoconsent.ChoiceFailed:
            break
        clicks += again
    how = (f"autoconsent rule {banner.rule!r} ({action}): {len(clicks)} click(s)" if clicks
           else f"autoconsent rule {banner.rule!r} ({action}) through the tool's own API, no button clicked")
    banner.buttons_used.append({"choice": kind, "label": " → ".join(c["label"] for c in clicks) or None, "how": how,
                                "clicks": clicks, "confirmed": confirmed})
    if not confirmed:
        banner.notes.append(f"{kind}: the tool's own state does not show the refusal (autoconsent's self-test failed)")


def reject(page: Page, banner: Banner) -> None:
    """Refuse through the banner's own reject button, as a visitor would."""
    if banner.kind == "gatekeeper":
        _click(banner, page.locator(f"{GK_BANNER} [role=dialog] button[data-gk=reject]"), "reject", banner.reject_label)
        _gatekeeper_decided(page)
    elif banner.kind == "autoconsent":
        _operate(banner, "reject")
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
    elif banner.kind == "autoconsent":
        _operate(banner, "accept")
    else:
        _click(banner, banner.frame.locator("[data-gk-audit=accept]"), "accept", banner.accept_label)


def choose(page: Page, banner: Banner, granted: tuple[str, ...] | None) -> None:
    """Refuse (`()`), accept everything (None) or, on a Gatekeeper site, only `granted`."""
    if granted == ():
        reject(page, banner)
    else:
        accept(page, banner, granted)
