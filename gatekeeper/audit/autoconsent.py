"""DuckDuckGo's autoconsent, the rules browsers use to recognise and operate hundreds of
consent tools (vanilla-cookieconsent, Klaro, tarteaucitron, OneTrust, Cookiebot, …), as
the audit's way to recognise a banner's tool, and to reject or accept the way it offers.

The library comes from PyPI as `duckduckgo-autoconsent-py` (the `[audit]` extra): the
prebuilt `@duckduckgo/autoconsent` bundle and its rules, same version number as on npm. It
is MPL-2.0: file-level copyleft, so using its unmodified files from their own package
inside this MIT project is fine (MPL 2.0 §3.3, "Larger Work"); a change to its files
would have to be published under the MPL. Its rules are updated by releasing the package:
`pip install -U duckduckgo-autoconsent-py` brings new ones, nothing is fetched at run time.

The bundle runs in the page's own world (`isMainWorld`), detection only (`autoAction`
off, no pre-hiding, no cosmetic rules that merely hide a banner); the audit sends it
`optOut`/`optIn` when a scenario chooses, and records every click it makes.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from functools import lru_cache

from playwright.sync_api import Error, Frame, Page

# The relay the bundle talks through (window.autoconsentSendMessage), and a record of every
# click in the frame (autoconsent clicks with element.click(), which dispatches one).
_RELAY = r"""() => {
  if (window.__gkAutoconsent) return;
  const state = window.__gkAutoconsent = { messages: [], clicks: [] };
  window.autoconsentSendMessage = message => { state.messages.push(JSON.parse(JSON.stringify(message))); return Promise.resolve(); };
  addEventListener('click', event => {
    const el = event.composedPath()[0];
    if (!(el instanceof Element)) return;
    const label = (el.value || el.innerText || el.textContent || el.getAttribute('aria-label') || '').replace(/\s+/g, ' ').trim();
    state.clicks.push({ label: label.slice(0, 80), tag: el.tagName.toLowerCase(), id: el.id || null,
                        classes: typeof el.className === 'string' ? el.className.slice(0, 120) : null });
  }, true);
}"""

_INIT = """([config, rules]) => window.autoconsentReceiveMessage({ type: 'initResp', config, rules: { autoconsent: JSON.parse(rules) } })"""

_CONFIG = {
    "enabled": True,
    "autoAction": None,  # wait for the audit to say optOut or optIn
    "disabledCmps": [],
    "enablePrehide": False,  # the audit must see the banner as a visitor does
    "enableCosmeticRules": False,  # rules that only hide a banner are no choice
    "enableGeneratedRules": False,
    "detectRetries": 6,  # 3 s of searching, then the text matcher's turn
    "isMainWorld": True,
    "logs": {"lifecycle": False, "rulesteps": False, "detectionsteps": False, "evals": False, "errors": False,
             "messages": False, "waits": False},
}


@lru_cache(maxsize=1)
def _library() -> tuple[str, str, str]:
    """(bundle source, hand-written rules as JSON, version); ImportError without the [audit] extra."""
    import duckduckgo_autoconsent as library

    rules = [rule for rule in json.loads(library.rules_json()) if not rule["name"].startswith("auto_")]
    return library.bundle(), json.dumps(rules), library.__version__


def version() -> str:
    return _library()[2]


@dataclass
class Session:
    """autoconsent running in a page's frames; `found` is (frame, rule name) once a popup shows."""

    page: Page
    frames: list[Frame] = field(default_factory=list)
    found: tuple[Frame, str] | None = None
    detected: list[str] = field(default_factory=list)  # rules whose tool is in the page, popup or not
    finished: bool = False  # every frame searched without finding an open popup

    def start(self) -> Session:
        bundle, rules, _ = _library()
        for frame in self.page.frames:
            try:
                frame.evaluate(_RELAY)
                frame.evaluate(bundle)
                frame.evaluate(_INIT, [_CONFIG, rules])
                self.frames.append(frame)
            except Error:
                continue  # a frame that navigated away or forbids it
        return self

    def poll(self) -> None:
        """Read what the frames reported since the last poll."""
        done = 0
        for frame in self.frames:
            for message in _drain(frame):
                kind = message.get("type")
                if kind == "cmpDetected" and message["cmp"] not in self.detected:
                    self.detected.append(message["cmp"])
                elif kind == "popupFound" and self.found is None:
                    self.found = (frame, message["cmp"])
                elif kind == "report" and message.get("state", {}).get("lifecycle") == "nothingDetected":
                    done += 1
        self.finished = self.finished or (bool(self.frames) and done == len(self.frames))


def _drain(frame: Frame) -> list[dict]:
    try:
        return frame.evaluate("() => window.__gkAutoconsent ? window.__gkAutoconsent.messages.splice(0) : []")
    except Error:
        return []


class ChoiceFailed(Exception):
    """autoconsent could not operate the tool's reject or accept."""


def choose(frame: Frame, action: str, *, timeout: float = 10.0) -> tuple[list[dict], bool]:
    """Run the found tool's `action` ("optOut" or "optIn") as autoconsent's rule does it.
    Returns the clicks it made and whether the tool's self-test confirms the refusal
    (opt-out only; True when the rule has no self-test)."""
    result_type = f"{action}Result"
    try:
        frame.evaluate("() => window.__gkAutoconsent.clicks.splice(0)")
        frame.evaluate("action => { window.autoconsentReceiveMessage({ type: action }) }", action)
    except Error as exc:
        raise ChoiceFailed(f"autoconsent could not be reached: {str(exc).splitlines()[0]}") from None
    result = _wait_for(frame, result_type, timeout)
    if result is None or not result.get("result"):
        raise ChoiceFailed(f"autoconsent's {action} for {result and result.get('cmp')!r} did not succeed")
    clicks = frame.evaluate("() => window.__gkAutoconsent.clicks.splice(0)")
    confirmed = True
    if action == "optOut" and result.get("scheduleSelfTest"):
        frame.page.wait_for_timeout(300)
        try:
            frame.evaluate("() => { window.autoconsentReceiveMessage({ type: 'selfTest' }) }")
        except Error:
            return clicks, False  # the page navigated: nothing left to test
        test = _wait_for(frame, "selfTestResult", 3.0)
        confirmed = bool(test and test.get("result"))
    return clicks, confirmed


def _wait_for(frame: Frame, kind: str, timeout: float) -> dict | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in _drain(frame):
            if message.get("type") == kind:
                return message
        frame.page.wait_for_timeout(100)
    return None
