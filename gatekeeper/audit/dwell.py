"""A visitor's dwell before the audit judges a page, so late tags show up: tag managers
fire tags on timers, scroll depth, idle callbacks and the first interaction, and
regulators' crawlers wait and scroll.

The dwell pauses the page's clock (Playwright's clock, installed in every audit context),
scrolls to the bottom, moves the pointer, then advances the clock through checkpoints up to
`seconds` of page time, which fires timers and idle callbacks without waiting for them in
real time, and lets it run on. Every request is stamped with what the visitor was doing
and the page time (for a timer: the checkpoint it fired by).
"""

from __future__ import annotations

import time

from playwright.sync_api import BrowserContext, Error, Page

from . import DEFAULT_DWELL  # noqa: F401 - seconds of page time a visitor stays before the audit judges
from .network import TrackerLog

REAL_BUDGET = 4.0  # seconds of real time the clock steps may take; then one last jump to the end
# page-time checkpoints: half seconds to 3 s, seconds to 15 s, then coarser
CHECKPOINTS = (*(n / 2 for n in range(1, 6)), *range(3, 15), *range(15, 60, 3), *range(60, 601, 10))

_AT_BOTTOM = "() => scrollY + innerHeight >= document.documentElement.scrollHeight - 2"
_TO_BOTTOM = "() => window.scrollTo(0, document.documentElement.scrollHeight)"


class PageClock:
    """Page time of the page being visited, as its (installed) clock counts it: real time
    while it runs, plus what the dwell advanced it by. Tells the tracker log when, and
    after what, a request was sent."""

    def __init__(self, log: TrackerLog):
        self.base = 0.0  # page time when it last stopped or started running
        self.running_since: float | None = None  # real time it started running; None: paused, or not opened
        self.opened = False
        self.trigger = "load"
        self.step_end: float | None = None  # while the clock jumps: page time at the jump's end
        log.moment = self.moment

    def open(self) -> None:
        self.base, self.running_since, self.opened, self.trigger, self.step_end = 0.0, time.monotonic(), True, "load", None

    def now(self) -> float | None:
        if not self.opened:
            return None
        return self.base + (time.monotonic() - self.running_since if self.running_since is not None else 0.0)

    def pause(self) -> None:
        self.base, self.running_since = self.now() or 0.0, None

    def resume(self) -> None:
        self.running_since = time.monotonic()

    def moment(self) -> tuple[str, float | None]:
        at = self.step_end if self.step_end is not None else self.now()
        return self.trigger, None if at is None else round(at, 1)


def dwell(page: Page, context: BrowserContext, clock: PageClock, seconds: float) -> None:
    """Scroll to the bottom, move the pointer, and run the page clock to `seconds` of page time.
    The clock stands still until the timer phase, so what scroll and pointer cause is told
    apart from what a timer fires."""
    paused = _pause(page, context, clock)
    clock.trigger = "scroll"
    _scroll_to_bottom(page)
    clock.trigger = "pointer"
    _move_pointer(page)
    clock.trigger = "timer"
    deadline = time.monotonic() + REAL_BUDGET
    for checkpoint in (*(c for c in CHECKPOINTS if c < seconds), seconds):
        now = clock.now() or 0.0
        if checkpoint <= now:
            continue
        if time.monotonic() > deadline:  # out of real time: one jump to the end, a coarser trigger time
            checkpoint = seconds
        _run_clock(page, context, clock, checkpoint - now)
        if checkpoint == seconds:
            break
    if paused:
        try:
            context.clock.resume()
        except Error:
            pass
        clock.resume()
    clock.trigger = "after dwell"


def _pause(page: Page, context: BrowserContext, clock: PageClock) -> bool:
    """Stop the page clock where it is (a hair later: pausing cannot go back in time)."""
    try:
        context.clock.pause_at((page.evaluate("() => Date.now()") + 20) / 1000)  # seconds since the epoch
    except Error:
        return False
    clock.pause()
    clock.base += 0.02
    return True


def _run_clock(page: Page, context: BrowserContext, clock: PageClock, step: float) -> None:
    clock.step_end = (clock.now() or 0.0) + step
    try:
        context.clock.run_for(max(1, round(step * 1000)))
        clock.base += step
        page.wait_for_timeout(20)  # the requests the timers sent reach the log
    except Error:
        pass
    finally:
        clock.step_end = None


def _scroll_to_bottom(page: Page, *, steps: int = 12) -> None:
    try:
        for _ in range(steps):
            page.mouse.wheel(0, 900)
            page.wait_for_timeout(40)
            if page.evaluate(_AT_BOTTOM):
                break
        page.evaluate(_TO_BOTTOM)  # a modal banner may lock wheel scrolling; a script scroll still fires
        page.wait_for_timeout(120)
    except Error:
        pass


def _move_pointer(page: Page) -> None:
    size = page.viewport_size or {"width": 1280, "height": 800}
    try:
        for x, y in ((0.2, 0.3), (0.5, 0.5), (0.8, 0.4), (0.5, 0.2)):
            page.mouse.move(size["width"] * x, size["height"] * y, steps=3)
        page.wait_for_timeout(80)
    except Error:
        pass
