"""The command line: `gatekeeper serve` (the main job), `gatekeeper init` and `gatekeeper check`.

Every process setting is an option here and an environment variable (GATEKEEPER_*),
both generated from settings.Settings so they cannot drift apart.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from pathlib import Path

import click
from click.core import ParameterSource

from . import logs
from .db import DatabaseError, create_engine, migrate, shown_url
from .extras import DISTRIBUTION
from .settings import Settings, SettingsError, declared, env_name
from .sites import SiteError, load_sites
from .starter import DEFAULT_SITE, example_sites_dir, write_starter

SECRET_SETTINGS = {f.name for f in dataclasses.fields(Settings) if f.metadata["secret"]}


def settings_options(*names: str):
    """Click options for the named settings, each also read from GATEKEEPER_<NAME>."""

    def decorate(command):
        for name, default, help_text in reversed([d for d in declared() if d[0] in names]):
            flag = f"--{name.replace('_', '-')}"
            # A yes/no setting is a plain switch: `--qa-fixtures`, `--no-qa-fixtures`.
            flags = (f"{flag}/--no-{flag[2:]}",) if isinstance(default, bool) else (flag,)
            command = click.option(
                *flags,
                name,
                envvar=env_name(name),
                default=default,
                type=type(default),
                show_default=name not in SECRET_SETTINGS and default != "",
                show_envvar=True,
                help=help_text,
            )(command)
        return command

    return decorate


def fail(message: str) -> None:
    click.secho(f"gatekeeper: {message}", fg="red", err=True)
    sys.exit(1)


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


@main.command()
@settings_options("sites_dir")
def check(sites_dir: str) -> None:
    """Validate the site configurations and build their bundles; exit 1 on any error."""
    from .bundle import build_bundle

    try:
        sites = load_sites(Path(sites_dir))
        bundles = {site_id: build_bundle(site) for site_id, site in sites.items()}
    except SiteError as exc:
        fail(str(exc))
    for site_id, site in sites.items():
        click.echo(
            f"ok  {site_id}: {len(site.category_ids)} categories, {len(site.services)} services, "
            f"languages {', '.join(site.languages)}, revision {site.revision}, "
            f"bundle {len(bundles[site_id].gzip)} bytes gzipped "
            f"({', '.join(f'{lang} {len(a.gzip)}' for lang, a in bundles[site_id].languages.items())} with ?lang=)"
        )


from .audit.command import audit  # noqa: E402

main.add_command(audit)


from .csp_command import csp  # noqa: E402  (it uses settings_options above)
from .monitor_command import monitor_command  # noqa: E402

main.add_command(csp)
main.add_command(monitor_command)


from .log_commands import export, purge, secret  # noqa: E402  (they use settings_options above)

main.add_command(export)
main.add_command(purge)
main.add_command(secret)

from .chain_commands import anchor, verify  # noqa: E402

main.add_command(verify)
main.add_command(anchor)
