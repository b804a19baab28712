"""`gatekeeper scan URL [URL...]`: observe a shop in real Chromium and write a draft site
file. Exit 0 (every vendor matched, every parameter read), 1 (a draft with TODOs to
resolve) or 2 (a page could not be scanned), like the audit's 0 / 1 / 2.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .audit.command import _check_url
from .extras import MissingExtra, require

DRAFTED, TODOS, NOT_SCANNED = 0, 1, 2


@click.command()
@click.argument("urls", nargs=-1, required=True, metavar="URL [URL...]", callback=_check_url)
@click.option("--crawl", default=0, show_default=True, type=click.IntRange(min=0), metavar="N",
              help="Also scan up to N same-site pages found by links from each URL.")
@click.option("--offline-trackers", is_flag=True,
              help="Answer tracker hosts with local stand-ins that behave like the vendor scripts (for tests).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the draft to FILE (e.g. sites/<id>.toml) instead of standard output.")
@click.option("--site-id", metavar="ID", help="The draft's site id (default: from the first URL's host).")
@click.option("-q", "--quiet", is_flag=True, help="No progress lines.")
def scan(urls: list[str], crawl: int, offline_trackers: bool, output: Path | None, site_id: str | None, quiet: bool) -> None:
    """Draft a site file from what a shop's pages really load.

    Drives real Chromium like `gatekeeper audit`: accepts everything on a banner it
    recognises (or carries on without one), scrolls, follows links with --crawl, and
    matches every vendor seen to a preset with the ids its requests carried (measurement
    ids, pixel ids). Categories come from the presets; the shop's own cookies are drafted
    with their observed lifetimes; anything unmatched is listed as a commented TODO naming
    the host or the cookie. Resolve or delete the TODOs, then run `gatekeeper check`.

    Exit status: 0 draft complete, 1 draft written with TODOs, 2 a page could not be
    scanned (unreachable, an HTTP error, never settled) or the browser could not start.
    """
    try:
        require("audit", "gatekeeper scan")
    except MissingExtra as exc:
        click.secho(str(exc), fg="red", err=True)
        sys.exit(NOT_SCANNED)
    from .draft import write_draft
    from .scan import ScanError, observe

    progress = (lambda line: None) if quiet else (lambda line: click.echo(line, err=True))
    try:
        seen = observe(urls, crawl=crawl, offline_trackers=offline_trackers, progress=progress)
    except ScanError as exc:
        click.secho(f"gatekeeper scan: {exc}", fg="red", err=True)
        sys.exit(NOT_SCANNED)
    draft = write_draft(seen, site_id=site_id)
    if output is None:
        click.echo(draft.text, nl=False)
    else:
        try:
            output.write_text(draft.text, encoding="utf-8")
        except OSError as exc:
            click.secho(f"gatekeeper scan: cannot write {output}: {exc.strerror}", fg="red", err=True)
            sys.exit(NOT_SCANNED)
        progress(f"draft written to {output}")
    for vendor in draft.vendors:
        progress(f"  {vendor}")
    progress(f"{len(draft.vendors)} vendor(s) matched to presets, {draft.todos} TODO(s) to resolve")
    sys.exit(TODOS if draft.todos else DRAFTED)
