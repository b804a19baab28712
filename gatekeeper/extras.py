"""The optional extras of the `gatekeeper-consent` distribution, and the one line that says
how to install one when a command needs it.

The base install serves (server, bundle, API, admin, consent log on SQLite). PostgreSQL
needs `[postgres]` (asyncpg); a real browser (`gatekeeper audit`, `gatekeeper scan`, the
pytest plugin) needs `[audit]` (Playwright). Those import their library lazily and call
`require` first, so a missing extra is one clear line, never a traceback.
"""

from __future__ import annotations

import importlib.util

DISTRIBUTION = "gatekeeper-consent"

# extra -> (the module it brings, what that module is called in a message)
EXTRAS = {
    "postgres": ("asyncpg", "asyncpg"),
    "audit": ("playwright", "Playwright"),
}


class MissingExtra(ImportError):
    """An optional extra is not installed; the message says what to install."""


def install_hint(extra: str) -> str:
    return f"pip install '{DISTRIBUTION}[{extra}]'"


def missing_message(extra: str, needed_by: str) -> str:
    _, library = EXTRAS[extra]
    return f"{needed_by} needs {library}, which is not installed: {install_hint(extra)}"


def installed(extra: str) -> bool:
    module, _ = EXTRAS[extra]
    return importlib.util.find_spec(module) is not None


def require(extra: str, needed_by: str) -> None:
    """Raise MissingExtra (one line) unless `extra`'s library can be imported."""
    if not installed(extra):
        raise MissingExtra(missing_message(extra, needed_by))
