"""Process settings: each declared once with its default and help.

The CLI turns every field into an option that also reads `GATEKEEPER_<NAME>` from the
environment (the one place the environment is read), and the README's settings table is
checked against this list by a test. A value outside a setting's choices is one line.
Site configuration (sites/*.toml) is a separate concern: see sites.py.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from .tokens import split_keys

ENV_PREFIX = "GATEKEEPER"
log = logging.getLogger("gatekeeper")


def _setting(default, help: str, secret: bool = False, choices: tuple[str, ...] = ()):
    # A secret stays out of repr(), so logging or printing the settings cannot leak it.
    return field(default=default, repr=not secret, metadata={"help": help, "secret": secret, "choices": choices})


@dataclass(frozen=True)
class Settings:
    host: str = _setting("127.0.0.1", "Interface to listen on.")
    port: int = _setting(8000, "Port to listen on.")
    sites_dir: str = _setting("sites", "Folder of site configurations, one <id>.toml per site.")
    database_url: str = _setting(
        "sqlite:///gatekeeper.db",
        "Consent log database: sqlite:///path/file.db or postgresql://user:password@host/db.",
    )
    secret_keys: str = _setting(
        "",
        "Comma-separated cookie signing keys, newest first: the newest signs, all verify. "
        "Empty: a development key is generated once into --secret-file.",
        secret=True,
    )
    secret_file: str = _setting(
        ".gatekeeper-secret", "Where the development signing key is kept when no secret keys are set."
    )
    receipt_keys: str = _setting(
        "",
        "Comma-separated Ed25519 receipt signing keys (`gatekeeper secret --receipt`), newest first: the "
        "newest signs, all are published at /.well-known/jwks.json. Empty: a development key is generated "
        "once into --receipt-key-file.",
        secret=True,
    )
    receipt_key_file: str = _setting(
        ".gatekeeper-receipt-key", "Where the development receipt key is kept when no receipt keys are set."
    )
    log_level: str = _setting(
        "info", "Log level: debug, info, warning or error.", choices=("debug", "info", "warning", "error")
    )
    log_format: str = _setting(
        "text",
        "Log lines as text, or json: one JSON object per line, one line per request, with the "
        "visitor's truncated address only and no header or cookie values.",
        choices=("text", "json"),
    )
    forwarded_allow_ips: str = _setting(
        "127.0.0.1",
        "Comma-separated addresses or networks (10.0.0.0/8) of the reverse proxies whose "
        "X-Forwarded-For, X-Forwarded-Proto and Forwarded headers are believed; * believes any peer.",
    )
    qa_fixtures: bool = _setting(
        False, "Also serve the deliberately broken QA pages under /qa/ (to try `gatekeeper audit`); never in production."
    )
    admin_password: str = _setting(
        "",
        "Password of the user `admin` of the dashboard at /admin (hashed at start-up). "
        "Empty, and no --admin-users: the admin is off.",
        secret=True,
    )
    admin_users: str = _setting(
        "", "Admin accounts as comma-separated user:password pairs (hashed at start-up).", secret=True
    )

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            choices = f.metadata["choices"]
            if choices and getattr(self, f.name) not in choices:
                raise SettingsError(
                    f"{env_name(f.name)} (--{f.name.replace('_', '-')}): {getattr(self, f.name)!r} is not one of "
                    f"{', '.join(choices)}"
                )


class SettingsError(Exception):
    """A process setting that cannot be used; the message names it."""


def env_name(name: str) -> str:
    return f"{ENV_PREFIX}_{name.upper()}"


def declared() -> list[tuple[str, object, str]]:
    """(name, default, help) of every setting, in declaration order."""
    return [(f.name, f.default, f.metadata["help"]) for f in dataclasses.fields(Settings)]


def resolve_secret_keys(settings: Settings) -> list[str]:
    """The cookie signing keys, newest first; in development one generated key kept in a file.

    Never a fresh key per process: that would silently invalidate every visitor's
    consent cookie at each restart and differ between workers.
    """
    return split_keys(settings.secret_keys) or [
        _development_key(Path(settings.secret_file), "secret_keys", "signing key", lambda: secrets.token_urlsafe(32))
    ]


def resolve_receipt_keys(settings: Settings) -> list[str]:
    """The receipt signing keys (Ed25519 seeds), newest first; in development one kept in a file,
    so receipts handed out stay verifiable against the JWKS across restarts."""
    from .receipt_tokens import new_key

    return split_keys(settings.receipt_keys) or [
        _development_key(Path(settings.receipt_key_file), "receipt_keys", "receipt signing key", new_key)
    ]


def _development_key(path: Path, setting: str, what: str, make) -> str:
    if path.exists():
        key = path.read_text().strip()
        if key:
            log.warning("Using the development %s in %s; set %s in production.", what, path, env_name(setting))
            return key
    key = make()
    path.touch(mode=0o600)
    path.write_text(key + "\n")
    log.warning("No %s set: generated a development %s into %s. Set your own keys in production.",
                env_name(setting), what, path)
    return key
