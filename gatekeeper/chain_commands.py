"""`gatekeeper verify` and `gatekeeper anchor`: proving the consent log was not changed.

verify exits 0 when every chain walked is intact, 1 naming the first broken entry and
how it broke, 2 when the database cannot be read (or the input is unusable).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import sqlalchemy as sa

from . import anchors
from .cli_options import settings_options
from .db import chain_heads
from .export import ExportError, parse_since
from .log_commands import run_on_log
from .sites import SiteError, load_sites
from .verify import verify_site

UNREADABLE = 2


def _stop(message: str, status: int) -> None:
    click.secho(f"gatekeeper: {message}", fg="red", err=True)
    sys.exit(status)


def _sites(sites_dir: str, site_id: str | None, engine_sites: list[str]) -> list[str]:
    """The sites to walk: the one named, or every configured site and every site in the log."""
    try:
        configured = list(load_sites(Path(sites_dir)))
    except SiteError:
        configured = []  # the log can be checked without the site files
    if site_id is None:
        return sorted(set(configured) | set(engine_sites))
    if site_id not in configured and site_id not in engine_sites:
        _stop(f"unknown site {site_id!r} (the log has {', '.join(sorted(engine_sites)) or 'no site'})", UNREADABLE)
    return [site_id]


def _run(database_url: str, work):
    return run_on_log(database_url, work, fail=lambda message: _stop(message, UNREADABLE))


async def _logged_sites(engine) -> list[str]:
    async with engine.connect() as connection:
        return list((await connection.execute(sa.select(chain_heads.c.site))).scalars())


@click.command()
@click.option("--site", "site_id", help="Only this site; default every site.")
@click.option("--since", help="Start at the first record on or after this day, YYYY-MM-DD (UTC); default the whole chain.")
@click.option("--anchor", "anchor_line", help="A line printed by `gatekeeper anchor`: also prove the log still holds it.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@settings_options("database_url", "sites_dir")
def verify(site_id, since, anchor_line, quiet, database_url, sites_dir) -> None:
    """Walk each site's hash chain; exit 0 intact, 1 broken (naming the first broken record), 2 unreadable."""
    try:
        start = parse_since(since) if since else None
        anchor = anchors.parse_anchor(anchor_line) if anchor_line else None
    except (ExportError, anchors.AnchorError) as exc:
        _stop(str(exc), UNREADABLE)
    if anchor and site_id and anchor.site != site_id:
        _stop(f"the anchor is of site {anchor.site!r}, not {site_id!r}", UNREADABLE)

    async def work(engine):
        chosen = _sites(sites_dir, anchor.site if anchor else site_id, await _logged_sites(engine))
        outcomes = []
        for site in chosen:
            with click.progressbar(length=1, label=f"Verifying {site}", file=sys.stderr, hidden=quiet) as bar:
                def total(n, bar=bar):
                    bar.length = max(1, n)

                outcome = await verify_site(engine, site, start, anchor, progress=bar.update, on_total=total)
            outcomes.append(outcome)
            try:
                await anchors.record_outcome(engine, outcome)
            except sa.exc.SQLAlchemyError as exc:  # a read-only copy of the log can still be verified
                click.echo(f"(not stored: {exc.__class__.__name__})", err=True)
        return outcomes

    outcomes = _run(database_url, work)
    for o in outcomes:
        if o.ok:
            click.echo(f"{o.site}: intact — {o.checked} entries from {o.start} to position {o.reached.seq} "
                       f"(record_hash {o.reached.record_hash})")
        else:
            click.echo(f"{o.site}: BROKEN — {o.problem} ({o.checked} entries intact from {o.start} before it)")
        if o.anchor_note:
            click.echo(f"{o.site}: note — {o.anchor_note}")
        elif anchor and o.site == anchor.site and o.ok:
            click.echo(f"{o.site}: the anchored entry at position {anchor.seq} is in the log, unchanged")
    sys.exit(0 if all(o.ok for o in outcomes) else 1)


@click.command()
@click.option("--site", "site_id", help="Only this site; default every site (one line each).")
@settings_options("database_url", "sites_dir")
def anchor(site_id, database_url, sites_dir) -> None:
    """Print each site's chain head as one JSON line to publish (and store it)."""

    async def work(engine):
        chosen = _sites(sites_dir, site_id, await _logged_sites(engine))
        return [await anchors.anchor(engine, site) for site in chosen]

    for line in _run(database_url, work):
        click.echo(json.dumps(line, separators=(",", ":")))
