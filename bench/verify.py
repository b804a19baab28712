"""What checking the consent token costs a returning visitor before the first tag: return
visits (a genuine gk_consent granting analytics) of the ECOMARKET demo in Chromium, at
normal speed and on a 4x-slowed CPU, measuring in the page
- verify: from the gate's first WebCrypto call (importKey) to its verify() answering;
- to tag: from the gate's first line (its Consent Mode default) to gtag.js being inserted.
Nothing leaves the machine (tracker hosts do not resolve; the tag is only inserted).

    python -m bench verify [--loads 15]
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from gatekeeper import browser as gk_browser
from gatekeeper.cookies import COOKIE_NAME
from gatekeeper.tokens import ConsentToken, TokenSigner

from .browser import percentile
from .load import free_port, gatekeeper_command, start

SITE = "ecomarket"
# Wraps SubtleCrypto before the page's scripts, and notes when gtag.js is inserted.
OBSERVE = """(() => {
  const m = window.__gkVerify = { start: null, first: null, verified: null, tag: null };
  // The gate's first act is a Consent Mode default pushed to dataLayer: its start.
  window.dataLayer = []; window.dataLayer.push = function (...a) { if (m.start === null) m.start = performance.now(); return Array.prototype.push.apply(this, a); };
  const subtle = SubtleCrypto.prototype, importKey = subtle.importKey, verify = subtle.verify;
  subtle.importKey = function (...args) { if (m.first === null) m.first = performance.now(); return importKey.apply(this, args); };
  subtle.verify = async function (...args) { const ok = await verify.apply(this, args); m.verified = performance.now(); return ok; };
  new MutationObserver(() => {
    if (m.tag === null && document.querySelector('script[src*="googletagmanager.com/gtag/js"]')) m.tag = performance.now();
  }).observe(document, { childList: true, subtree: true });
})()"""
COLLECT = """() => {
  const m = window.__gkVerify;
  return { verify: m.verified - m.first, to_tag: m.tag - m.start };
}"""


def return_visit(browser, base: str, token: str, rate: int) -> dict:
    context = browser.new_context()
    try:
        context.add_cookies([{"name": COOKIE_NAME, "value": token, "url": base}])
        page = context.new_page()
        if rate > 1:
            context.new_cdp_session(page).send("Emulation.setCPUThrottlingRate", {"rate": rate})
        page.add_init_script(OBSERVE)
        page.goto(f"{base}/demo/{SITE}", wait_until="load", timeout=20_000)
        page.wait_for_function("() => window.__gkVerify.tag !== null", timeout=20_000)
        return page.evaluate(COLLECT)
    finally:
        context.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench verify", description=__doc__.split("\n\n")[0])
    parser.add_argument("--loads", type=int, default=15, help="return visits per CPU speed")
    args = parser.parse_args(argv)

    key = secrets.token_hex(16)
    token = TokenSigner([key]).sign(
        ConsentToken(site=SITE, id="bench", granted=("analytics",), rev=1, iat=int(time.time()))
    )
    workdir = Path(tempfile.mkdtemp(prefix="gatekeeper-bench-verify-"))
    port = free_port()
    server = start(gatekeeper_command(port, f"sqlite:///{workdir}/consent.db"), port, workdir / "server.log",
                   {"GATEKEEPER_SECRET_KEYS": key})
    base = f"http://127.0.0.1:{port}"
    rows = []
    try:
        with sync_playwright() as playwright:
            browser = gk_browser.launch(playwright, offline=True)
            try:
                return_visit(browser, base, token, 1)  # warms the server
                for rate in (1, 4):
                    loads = [return_visit(browser, base, token, rate) for _ in range(args.loads)]
                    rows.append((rate, [x["verify"] for x in loads], [x["to_tag"] for x in loads]))
                version = browser.version
            finally:
                browser.close()
    finally:
        server.terminate()
        server.wait(timeout=15)
    print(f"\nChromium {version}, headless, {args.loads} return visits per row "
          f"(genuine cookie granting analytics), {os.cpu_count()} CPUs\n")
    print("| CPU | verify ms, median / p90 / max | gate starts → gtag.js inserted ms, median / p90 | verify share, median |")
    print("|---:|---:|---:|---:|")
    for rate, verify, to_tag in rows:
        share = statistics.median(v / t for v, t in zip(verify, to_tag) if t > 0)
        print(f"| {rate}x | {statistics.median(verify):.1f} / {percentile(verify, 90):.1f} / {max(verify):.1f} "
              f"| {statistics.median(to_tag):.1f} / {percentile(to_tag, 90):.1f} | {share:.0%} |")


if __name__ == "__main__":
    main()
