"""The command line: `gatekeeper serve` (the main job), `init`, `check` and `secret`; the
other commands live in their own modules and are added to the group here.

Every process setting is an option and an environment variable (GATEKEEPER_*; cli_options.py),
both generated from settings.Settings so they cannot drift apart.
"""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

import click
from click.core import ParameterSource

from . import logs
from .audit.command import audit
from .chain_commands import anchor, verify
from .cli_options import fail, settings_options
from .csp_command import csp
from .db import DatabaseError, create_engine, migrate, shown_url
from .extras import DISTRIBUTION
from .http_protocol import GatekeeperProtocol
from .limits import MAX_HEAD_BYTES
from .log_commands import export, purge
from .monitor_command import monitor_command
from .rules import rules
from .scan_command import scan
from .settings import Settings, SettingsError, declared
from .sites import SiteError, load_sites
from .starter import DEFAULT_SITE, example_sites_dir, write_starter

@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name=DISTRIBUTION)
def main() -> None:
    """Gatekeeper: a cookie consent banner and tag gatekeeper for EU web shops."""


def sites_folder(ctx: click.Context, sites_dir: str, tell) -> Path:
    """The sites folder to use: the one given, or, when none was given and ./sites does not
    exist, the example sites shipped in the package (saying so in one line)."""
    folder = Path(sites_dir)
    if folder.exists() or ctx.get_parameter_source("sites_dir") is not ParameterSource.DEFAULT:
        return folder
    tell(
        f"No {sites_dir}/ folder here: serving the example sites shipped with Gatekeeper; "
        f"`gatekeeper init` writes a site file of your own to edit."
    )
    return example_sites_dir()


@main.command()
@settings_options(*[name for name, _, _ in declared()])
@click.pass_context
def serve(ctx: click.Context, **options) -> None:
    """Serve the banner bundles, the consent API and the demo shops.

    With no options it serves the sites in ./sites (the example sites shipped with
    Gatekeeper when there is no such folder) on an embedded SQLite file.
    """
    import uvicorn

    from .app import create_app

    try:
        settings = Settings(**options)
    except SettingsError as exc:
        fail(str(exc))
    logs.configure(settings.log_level, settings.log_format)
    tell = logs.teller(settings.log_format)
    try:
        sites = load_sites(sites_folder(ctx, settings.sites_dir, tell))
        engine = create_engine(settings.database_url)
        asyncio.run(_migrate_once(engine))
        app = create_app(settings, sites)
    except (SiteError, SettingsError, DatabaseError, ValueError) as exc:
        fail(str(exc))
    base = f"http://{settings.host}:{settings.port}"
    tell(f"Gatekeeper serving {len(sites)} site(s) on {base}  (consent log: {shown_url(settings.database_url)})")
    for site_id in sites:
        tell(f"  {site_id:<12} demo shop   {base}/demo/{site_id}")
        tell(f"  {'':<12} script tag  <script src=\"{base}/gk/{site_id}.js\" async></script>")
    # The app reads the proxy headers itself (proxy.py), trusting --forwarded-allow-ips, and
    # logs each request itself (logs.py) with the truncated address; uvicorn's loggers go
    # through the same handler and format.
    uvicorn.run(
        app, host=settings.host, port=settings.port, log_level=settings.log_level, server_header=False,
        proxy_headers=False, access_log=False, log_config=None,
        # The request's head is bounded in the protocol (limits.py), before it is buffered whole;
        # each answer goes out in one send (http_protocol.py).
        http=GatekeeperProtocol, h11_max_incomplete_event_size=MAX_HEAD_BYTES,
    )


async def _migrate_once(engine) -> None:
    try:
        await migrate(engine)
    finally:
        await engine.dispose()


@main.command()
@click.argument("site_id", metavar="[SITE]", default=DEFAULT_SITE)
@settings_options("sites_dir")
def init(site_id: str, sites_dir: str) -> None:
    """Write a commented starter site file, SITES_DIR/SITE.toml (default: sites/shop.toml), to edit."""
    try:
        path = write_starter(Path(sites_dir), site_id)
    except (SiteError, OSError) as exc:
        fail(str(exc))
    click.echo(f"wrote {path}: edit it, then `gatekeeper check` and `gatekeeper serve`")


@click.command()
@click.option(
    "--public",
    is_flag=True,
    help="Instead, print the public key of each configured signing key, newest first: what a "
    "backend that only verifies consent tokens needs (tokens.TokenVerifier).",
)
@click.option("--receipt", is_flag=True, help="Instead, a new receipt signing key (Ed25519) for GATEKEEPER_RECEIPT_KEYS.")
@settings_options("secret_keys", "secret_file")
def secret(public: bool, receipt: bool, secret_keys: str, secret_file: str) -> None:
    """Print a new random signing key for GATEKEEPER_SECRET_KEYS (see the README on rotation).

    Each key is a random secret from which the consent token's ECDSA P-256 key pair is derived.
    """
    if receipt:
        from .receipt_tokens import new_key

        click.echo(new_key())
        return
    if not public:
        click.echo(secrets.token_urlsafe(32))
        return
    from .settings import resolve_secret_keys
    from .tokens import TokenSigner, split_keys

    keys = resolve_secret_keys(Settings(secret_keys=secret_keys, secret_file=secret_file))
    click.echo("\n".join(TokenSigner(keys).public_keys))


@main.command("rules")
@click.argument("numbers", nargs=-1, type=int, metavar="[N...]")
def rules_command(numbers: tuple[int, ...]) -> None:
    """Print the consent rules the audit cites (docs/rules.md): all titles, or rule N in full."""
    known = rules()
    if not numbers:
        for number, found in known.items():
            click.echo(f"{number:>2}  {found.title}")
        return
    for number in numbers:
        if number not in known:
            fail(f"no rule {number} (rules are numbered 1 to {max(known)})")
        found = known[number]
        click.echo(f"Rule {number}: {found.title}\n\n{found.text}\n")


@main.command()
@settings_options("sites_dir", "secret_keys", "secret_file")
def check(sites_dir: str, secret_keys: str, secret_file: str) -> None:
    """Validate the site configurations and build their bundles as `serve` would; exit 1 on any error."""
    from .bundle import build_bundles
    from .tokens import TokenSigner, split_keys

    # The sizes are the served ones: the bundle carries a public key per signing key. With
    # none set yet, `serve` would generate one: a stand-in of that size counts for it.
    secret = Path(secret_file)
    development = secret.read_text().strip() if secret.is_file() else ""
    keys = split_keys(secret_keys) or [development or "stand-in for the key serve generates"]
    try:
        sites = load_sites(Path(sites_dir))
        bundles = build_bundles(sites, TokenSigner(keys).public_keys)
    except SiteError as exc:
        fail(str(exc))
    for site_id, site in sites.items():
        click.echo(
            f"ok  {site_id}: {len(site.category_ids)} categories, {len(site.services)} services, "
            f"languages {', '.join(site.languages)}, revision {site.revision}, "
            f"bundle {len(bundles[site_id].gzip)} bytes gzipped "
            f"({', '.join(f'{lang} {len(a.gzip)}' for lang, a in bundles[site_id].languages.items())} with ?lang=)"
        )


for command in (audit, scan, csp, monitor_command, export, purge, secret, verify, anchor):
    main.add_command(command)
