"""Finding and launching Chromium, shared by the browser tests and `gatekeeper audit`.

The launch flags keep Chromium from talking to anyone on its own (component updates,
sync, QUIC probes), so every request seen belongs to the page under test.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright

ENV_VAR = "GATEKEEPER_CHROMIUM"
SYSTEM_CHROMIUM = Path("/usr/bin/chromium")

QUIET_ARGS = (
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
)
# Only the machine itself resolves: a request that escapes the tests' stand-ins fails
# instead of reaching the real vendor from a CI runner. 127.0.0.2 and up are loopback too:
# a shop there is another site than a Gatekeeper on 127.0.0.1 (own cookies).
OFFLINE_ARG = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.*"


def chromium_path() -> str | None:
    """The Chromium to drive: $GATEKEEPER_CHROMIUM, else the system one, else None.

    None means Playwright's own bundled browser.
    """
    configured = os.environ.get(ENV_VAR, "").strip()
    if configured:
        found = shutil.which(configured) or (configured if Path(configured).is_file() else None)
        if found is None:
            raise FileNotFoundError(f"{ENV_VAR}={configured!r} is not an executable file")
        return found
    if SYSTEM_CHROMIUM.is_file():
        return str(SYSTEM_CHROMIUM)
    return None


def _running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def launch_options(*, headless: bool = True, offline: bool = False) -> dict[str, Any]:
    """Keyword arguments for `playwright.chromium.launch()`; `offline`: only 127.0.0.1 resolves."""
    args = list(QUIET_ARGS)
    if _running_as_root():
        # Chromium refuses to start its sandbox as root (containers, CI runners).
        args.append("--no-sandbox")
    if offline:
        args.append(OFFLINE_ARG)
    options: dict[str, Any] = {"headless": headless, "args": args}
    path = chromium_path()
    if path is not None:
        options["executable_path"] = path
    return options


def launch(playwright: Playwright, *, headless: bool = True, offline: bool = False) -> Browser:
    return playwright.chromium.launch(**launch_options(headless=headless, offline=offline))


@contextmanager
def started(error: type[Exception]) -> Iterator[Browser]:
    """Playwright and Chromium for one command (audit, scan), stopped after it. Failing to
    start either raises `error` with one line saying which."""
    from playwright.sync_api import Error, sync_playwright

    try:
        playwright = sync_playwright().start()
    except Error as exc:
        raise error(f"cannot start Playwright: {exc}") from None
    try:
        try:
            browser = launch(playwright)
        except (Error, FileNotFoundError) as exc:
            raise error(f"cannot launch Chromium: {str(exc).splitlines()[0]}") from None
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()
