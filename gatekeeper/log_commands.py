"""The consent-log commands: `gatekeeper export` and `gatekeeper purge`.

Bad input (unknown site, bad date, a database that cannot be reached) ends with one
line on stderr and exit status 1, never a traceback.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click
import sqlalchemy as sa

from . import export as exports
from . import retention
from .cli_options import fail, settings_options
from .db import DatabaseError, create_engine, shown_url
from .sites import SiteError, load_sites


def _site(sites_dir: str, site_id: str | None):
    try:
        sites = load_sites(Path(sites_dir))
    except SiteError as exc:
        fail(str(exc))
    if site_id is None:
        return sites, None
    if site_id not in sites:
        fail(f"unknown site {site_id!r} (expected one of {', '.join(sorted(sites))})")
    return sites, sites[site_id]


def run_on_log(database_url: str, work, fail=fail):
    """Run `work(engine)`; a database problem becomes one clear line, through `fail`."""
    try:
        engine = create_engine(database_url)
    except DatabaseError as exc:
        fail(str(exc))

    async def main():
        try:
            return await work(engine)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except (OSError, asyncio.TimeoutError, sa.exc.SQLAlchemyError) as exc:
        reason = getattr(exc, "orig", None) or exc
        first_line = (str(reason).strip().splitlines() or [type(reason).__name__])[0]
        if "no such table" in first_line or "does not exist" in first_line:
            first_line = "no consent log there (start `gatekeeper serve` on it once to create it)"
        fail(f"cannot read the consent log at {shown_url(database_url)}: {first_line}")


@click.command()
@click.option("--site", "site_id", required=True, help="Site id, e.g. ecomarket.")
@click.option("--since", help="First day to export, YYYY-MM-DD (UTC); default every record.")
@click.option("--format", "fmt", type=click.Choice(exports.FORMATS), default="csv", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), help="File to write; default stdout.")
@settings_options("database_url", "sites_dir")
def export(site_id: str, since: str | None, fmt: str, output: str | None, database_url: str, sites_dir: str) -> None:
    """Export one site's consent records as CSV or JSON lines, streamed, with progress on stderr."""
    _, site = _site(sites_dir, site_id)
    try:
        start = exports.parse_since(since)
    except exports.ExportError as exc:
        fail(str(exc))

    async def work(engine):
        total, last_id = await exports.count(engine, site, start)
        out = open(output, "w", encoding="utf-8", newline="") if output else sys.stdout
        try:
            with click.progressbar(length=total, label=f"Exporting {site.id}", file=sys.stderr) as bar:
                async for chunk in exports.stream(engine, site, start, fmt, last_id=last_id, progress=bar.update):
                    out.write(chunk)
            out.flush()
        finally:
            if output:
                out.close()
        return total

    total = run_on_log(database_url, work)
    click.echo(f"exported {total} record(s) of {site.id}, {exports.described(start)}", err=True)


@click.command()
@click.option("--site", "site_id", help="Only this site; default every site.")
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; delete nothing.")
@settings_options("database_url", "sites_dir")
def purge(site_id: str | None, dry_run: bool, database_url: str, sites_dir: str) -> None:
    """Delete consent records older than each site's retention_days, and report how many."""
    sites, site = _site(sites_dir, site_id)
    chosen = [site] if site else list(sites.values())
    results = run_on_log(database_url, lambda engine: retention.purge(engine, chosen, dry_run=dry_run))
    verb = "would delete" if dry_run else "deleted"
    for done in results:
        oldest = done.oldest_kept.strftime("%Y-%m-%d %H:%M UTC") if done.oldest_kept else "none"
        click.echo(
            f"{done.site}: {verb} {done.deleted} record(s) from before {done.cutoff:%Y-%m-%d} "
            f"(retention {done.retention_days} days); {done.kept} kept, oldest kept {oldest}"
        )
