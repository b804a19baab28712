"""`gatekeeper audit URL [URL...]`: drive real Chromium through every consent scenario
and exit 0 (clean), 1 (violations) or 2 (a page could not be audited).
"""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import urlsplit

import click

from ..extras import MissingExtra, require
from . import DEFAULT_DWELL

# Exit status when the audit cannot run at all (runner.NOT_AUDITED, which needs Playwright).
NOT_AUDITED = 2


def _check_url(ctx, param, urls: tuple[str, ...]) -> list[str]:
    for url in urls:
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
            raise click.BadParameter(f"{url!r} is not an http(s) URL", ctx=ctx, param=param)
    return list(urls)


@click.command()
@click.argument("urls", nargs=-1, required=True, metavar="URL [URL...]", callback=_check_url)
@click.option("--crawl", default=0, show_default=True, type=click.IntRange(min=0), metavar="N",
              help="Also audit up to N same-site pages found by links from each URL.")
@click.option("--dwell", default=DEFAULT_DWELL, show_default=True, type=click.FloatRange(min=0, max=600), metavar="SECONDS",
              help="Page time each scenario stays before it is judged: it scrolls to the bottom, moves the pointer and "
                   "advances the page clock this far, so tags fired by timers, scroll or idle callbacks show up "
                   "(the real wait stays a few seconds).")
@click.option("--offline-trackers", is_flag=True,
              help="Answer tracker hosts with local stand-ins that behave like the vendor scripts (for tests).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write every request, cookie, storage key and finding as JSON to FILE.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a standalone HTML report with banner screenshots to FILE.")
@click.option("-q", "--quiet", is_flag=True, help="No progress lines, only the summary.")
def audit(urls: list[str], crawl: int, dwell: float, offline_trackers: bool, json_path: Path | None,
          html_path: Path | None, quiet: bool) -> None:
    """Audit pages for consent compliance in real Chromium.

    For each URL, in a fresh browser per scenario, each dwelling like a visitor: what loads
    and what is stored before any choice (banner or not: trackers on a page offering no
    choice break rules 1 and 4); the banner, the tool running it and whether reject is on
    its first layer; after reject (with a reload and a couple of same-site pages); after
    accepting each category alone (Gatekeeper sites) or everything (other banners); and,
    on Gatekeeper sites, the observed cookies against the site's declaration. Findings
    name the vendor, the URL and the rule number of docs/rules.md (`gatekeeper rules N`).

    Exit status: 0 clean, 1 violations found, 2 a page could not be loaded or the
    browser could not start.
    """
    try:
        require("audit", "gatekeeper audit")
    except MissingExtra as exc:
        click.secho(str(exc), fg="red", err=True)
        sys.exit(NOT_AUDITED)
    from . import runner
    from .html import write_html
    from .report import summary, write_json

    progress = (lambda line: None) if quiet else (lambda line: click.echo(line, err=True))
    try:
        result = runner.run(urls, crawl=crawl, offline_trackers=offline_trackers, progress=progress, dwell=dwell)
    except runner.AuditError as exc:
        click.secho(f"gatekeeper audit: {exc}", fg="red", err=True)
        sys.exit(runner.NOT_AUDITED)
    for line in summary(result):
        click.echo(line)
    for path, write in ((json_path, write_json), (html_path, write_html)):
        if path is not None:
            try:
                write(result, path)
            except OSError as exc:
                click.secho(f"gatekeeper audit: cannot write {path}: {exc.strerror}", fg="red", err=True)
                sys.exit(runner.NOT_AUDITED)
            click.echo(f"report written to {path}")
    sys.exit(result.exit_code)
