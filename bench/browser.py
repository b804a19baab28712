"""What the banner costs a visitor: cold loads of each demo shop in Chromium, at normal
speed and on a 4x-slowed CPU (CDP Emulation.setCPUThrottlingRate), measuring in the page
the bundle's bytes as transferred, the time from navigation start to the banner being
visible, long tasks (over 50 ms) and which of them ran the bundle's code, and layout
shift. Bounded by load count and by time.

    python -m bench browser [--loads 15] [--seconds 600]

Prints a Markdown table (the README's) with the median and p90 of each measure.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import re
import secrets
import statistics
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

from gatekeeper import browser as gk_browser

from .load import free_port, gatekeeper_command, start

SITES = ("ecomarket", "locomail")
CPU_RATES = (1, 4)
SETTLE_MS = 500  # after the banner shows, for late shifts and tasks
# Bytes before the first click: the budget, 6,144 B, is asserted by tests/test_bundle.py;
# this is the goal issue 14 set below it, reported here.
GOAL = 5120

# Installed before the page's own scripts. "Visible" is when the first animation frame
# after the banner's dialog is in the document, with a box, runs: the frame that paints it.
# (Not the frame's own timestamp: that is when the frame began, often before the bundle ran.)
# Long animation frames name the scripts that ran in them, which attributes a long task
# to the bundle (the 'longtask' entry itself only names the frame).
OBSERVE = """(() => {
  const m = window.__gkBench = { inserted: null, visible: null, longtasks: [], frames: [], cls: 0 };
  const watch = (type, each) => {
    try { new PerformanceObserver((list) => list.getEntries().forEach(each)).observe({ type, buffered: true }); }
    catch (e) { m['no_' + type] = true; }
  };
  watch('longtask', (e) => m.longtasks.push([e.startTime, e.duration]));
  watch('layout-shift', (e) => { if (!e.hadRecentInput) m.cls += e.value; });
  watch('long-animation-frame', (e) => m.frames.push({
    start: e.startTime, duration: e.duration,
    scripts: e.scripts.map((s) => ({
      url: s.sourceURL, start: s.startTime, duration: s.duration, forced: s.forcedStyleAndLayoutDuration,
      invoker: s.invokerType + ' ' + s.invoker,
    })),
  }));
  // No layout is forced here: that would land in the bundle's own task. The box is read
  // in the next animation frame, whose layout the page does anyway.
  const dialog = () => {
    const host = document.querySelector('gatekeeper-banner');
    return host && !host.hidden && host.shadowRoot && host.shadowRoot.querySelector('[role=dialog]');
  };
  const frame = () => {
    if (dialog() && dialog().getBoundingClientRect().height > 0) m.visible = performance.now();
    else requestAnimationFrame(frame);
  };
  const observer = new MutationObserver(() => {
    if (m.inserted !== null || !dialog()) return;
    m.inserted = performance.now();
    observer.disconnect();
    requestAnimationFrame(frame);
  });
  observer.observe(document, { childList: true, subtree: true });
})()"""

COLLECT = """(site) => {
  const m = window.__gkBench;
  const bundle = performance.getEntriesByType('resource').find((r) => new URL(r.name).pathname === '/gk/' + site + '.js');
  // Gatekeeper's code: the bundle, and its later layer (/gk/<site>/prefs/…) where a load fetches it.
  const fromBundle = (url) => !!url && new URL(url, location.href).pathname.startsWith('/gk/' + site);
  // A long task is the bundle's when a script of the bundle ran within it.
  const bundleSpans = m.frames.flatMap((f) => f.scripts.filter((s) => fromBundle(s.url)));
  const within = ([start, duration]) => bundleSpans.filter((s) => s.start < start + duration && s.start + s.duration > start);
  const bundleTasks = m.longtasks.filter((task) => within(task).length > 0);
  return {
    // Style and layout the bundle's code forced synchronously inside those tasks.
    forced: bundleTasks.map((task) => within(task).reduce((sum, s) => sum + (s.forced || 0), 0)),
    // What of the bundle ran in each (script evaluation, a promise, a timer, an observer),
    // with its own duration: where to look when one is long.
    ran: bundleTasks.map((task) => within(task).map((s) => `${s.invoker.replace(/https?:\/\/[^ ]*\//, '')} ${Math.round(s.duration)} ms`).join(' + ')),
    visible: m.visible, inserted: m.inserted, cls: m.cls,
    longtasks: m.longtasks.map(([, d]) => d), bundle_tasks: bundleTasks.map(([, d]) => d),
    encoded: bundle ? bundle.encodedBodySize : null, transferred: bundle ? bundle.transferSize : null,
    unsupported: Object.keys(m).filter((k) => k.startsWith('no_')),
  };
}"""


@dataclass
class Series:
    site: str
    rate: int
    gzip: int = 0  # bundle bytes for a gzip-only client
    encoding: list[str] = field(default_factory=list)  # what Chromium got
    loads: list[dict] = field(default_factory=list)

    def values(self, key: str) -> list[float]:
        return [load[key] for load in self.loads if load[key] is not None]


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p90 of 15 loads is the 14th smallest)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def cold_load(browser: Browser, url: str, site: str, rate: int, encoding: list[str]) -> dict:
    """One visitor with an empty cache and no cookies, on a CPU `rate` times slower."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        if rate > 1:
            context.new_cdp_session(page).send("Emulation.setCPUThrottlingRate", {"rate": rate})
        page.add_init_script(OBSERVE)
        page.on("response", lambda r: r.url.split("?")[0].endswith(f"/gk/{site}.js") and encoding.append(
            r.headers.get("content-encoding", "identity")))
        page.goto(url, wait_until="load", timeout=20_000)
        page.wait_for_function("() => window.__gkBench && window.__gkBench.visible !== null", timeout=20_000)
        page.wait_for_timeout(SETTLE_MS)
        return page.evaluate(COLLECT, site)
    finally:
        context.close()


def gzipped(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["Content-Encoding"] == "gzip"
        return response.read()


def gzip_size(base: str, site: str, lang: str | None = None) -> int:
    """The bundle as a gzip-only client gets it (the budget's measure; Chromium takes br),
    in one language as the demo shop embeds it (`?lang=`), or with every language."""
    query = f"?lang={lang}" if lang else ""
    return len(gzipped(f"{base}/gk/{site}.js{query}"))


def later_size(base: str, site: str, lang: str) -> int | None:
    """The later layer, gzipped, at the path the one-language bundle names (its config's
    `layer`): what a visitor downloads on first opening the preferences or choosing."""
    body = gzip.decompress(gzipped(f"{base}/gk/{site}.js?lang={lang}")).decode()
    found = re.search(r'layer:\{"?' + lang + r'"?:"(/gk/[^"]+\.js)"\}', body)
    return len(gzipped(base + found[1])) if found else None


def languages(base: str, site: str) -> list[str]:
    with urllib.request.urlopen(f"{base}/gk/{site}/cookies.json", timeout=10) as response:
        return json.load(response)["languages"]


def bytes_table(base: str) -> str:
    """Bundle bytes gzipped per site: in each language (`?lang=`) and with every language."""
    lines = [f"| site | language | bundle B gzipped (before the first click) | vs the {GOAL:,} B goal "
             "| later layer B gzipped (on first use) |", "|---|---|---:|---|---:|"]

    def versus(size: int) -> str:
        return "met" if size <= GOAL else f"+{size - GOAL} B"

    for site in SITES:
        for lang in languages(base, site):
            size = gzip_size(base, site, lang)
            lines.append(f"| {site} | {lang} (`?lang={lang}`) | {size} | {versus(size)} | {later_size(base, site, lang) or '?'} |")
        size = gzip_size(base, site)
        lines.append(f"| {site} | all (no `?lang=`) | {size} | {versus(size)} | |")
    return "\n".join(lines)


def run(browser: Browser, base: str, loads: int, deadline: float) -> list[Series]:
    results = []
    for site in SITES:
        url = f"{base}/demo/{site}"
        cold_load(browser, url, site, 1, [])  # warms the server, not the browser
        for rate in CPU_RATES:
            series = Series(site, rate, gzip_size(base, site, languages(base, site)[0]))  # as the demo embeds it
            encoding: list[str] = []
            for _ in range(loads):
                if time.monotonic() > deadline:
                    print(f"bench: time limit reached; {site} at {rate}x has {len(series.loads)} loads", file=sys.stderr)
                    break
                series.loads.append(cold_load(browser, url, site, rate, encoding))
            series.encoding = sorted(set(encoding))
            results.append(series)
            unsupported = {u for load in series.loads for u in load["unsupported"]}
            if unsupported:
                print(f"bench: this Chromium lacks {sorted(unsupported)}", file=sys.stderr)
    return results


def table(results: list[Series]) -> str:
    lines = [
        (
            "| site | CPU | loads | bundle B, gzip / as sent | banner visible ms, median / p90 | long tasks, all "
            "| loads with a bundle long task | bundle long task ms, median / max | of which forced layout ms, median "
            "| CLS, median / p90 |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in results:
        visible = s.values("visible")
        cls = s.values("cls")
        sent = "/".join(str(int(b)) for b in sorted(set(s.values("encoded"))))
        all_tasks = sum(len(load["longtasks"]) for load in s.loads)
        # Per load, its longest bundle task and the forced layout within it.
        worst = [max(zip(load["bundle_tasks"], load["forced"])) for load in s.loads if load["bundle_tasks"]]
        tasks = f"{statistics.median(d for d, _ in worst):.0f} / {max(d for d, _ in worst):.0f}" if worst else "–"
        forced = f"{statistics.median(f for _, f in worst):.0f}" if worst else "–"
        lines.append(
            f"| {s.site} | {s.rate}x | {len(s.loads)} | {s.gzip} / {sent} ({'/'.join(s.encoding)}) | "
            f"{statistics.median(visible):.0f} / {percentile(visible, 90):.0f} | {all_tasks} | {len(worst)} | "
            f"{tasks} | {forced} | {statistics.median(cls):.3f} / {percentile(cls, 90):.3f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench browser", description=__doc__.split("\n\n")[0])
    parser.add_argument("--loads", type=int, default=15, help="cold loads per site and CPU speed")
    parser.add_argument("--seconds", type=float, default=600.0, help="time limit for all loads")
    args = parser.parse_args(argv)

    load_before = os.getloadavg()[0]
    workdir = Path(tempfile.mkdtemp(prefix="gatekeeper-bench-browser-"))
    port = free_port()
    env = {"GATEKEEPER_SECRET_KEYS": secrets.token_hex(16)}
    server = start(gatekeeper_command(port, f"sqlite:///{workdir}/consent.db"), port, workdir / "server.log", env)
    try:
        with sync_playwright() as playwright:
            browser = gk_browser.launch(playwright, offline=True)  # nothing a load does can leave the machine
            try:
                results = run(browser, f"http://127.0.0.1:{port}", args.loads, time.monotonic() + args.seconds)
                sizes = bytes_table(f"http://127.0.0.1:{port}")
                version = browser.version
            finally:
                browser.close()
    finally:
        server.terminate()
        server.wait(timeout=15)
    print(f"\nChromium {version}, headless, 1280x800, {args.loads} cold loads per row "
          f"(new context: empty cache, no cookies), {os.cpu_count()} CPUs, "
          f"load average {load_before:.1f} at the start and {os.getloadavg()[0]:.1f} at the end\n")
    print(table(results))
    ran = [f"- {s.site} {s.rate}x: {task}" for s in results for load in s.loads for task in load["ran"]]
    if ran:
        print("\nBundle long tasks, what of the bundle ran in each (long-animation-frame scripts over 5 ms):")
        print("\n".join(ran))
    print()
    print(sizes)


if __name__ == "__main__":
    main()
