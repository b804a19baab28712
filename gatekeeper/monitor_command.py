"""`gatekeeper monitor --site S`: the consent monitor's table (the admin's "Tags that tried
to run without consent") on the terminal, or as JSON for scripts and alerts.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import click

from . import monitor
from .cli_options import fail, settings_options
from .log_commands import _site, run_on_log

COLUMNS = ("count", "vendor", "category", "blocked", "directive", "page", "decided", "disposition", "first_day", "last_day")
HEADINGS = ("count", "vendor", "category", "blocked", "directive", "page", "visitor", "browser", "first", "last")
SHOWN = {"enforce": "blocked", "report": "reported", "": "-"}


def _since(value: str | None) -> date:
    if value is None:
        return datetime.now(timezone.utc).date() - timedelta(days=30)
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        fail(f"bad date {value!r} (expected YYYY-MM-DD)")


def _table(rows: list[dict]) -> list[str]:
    cells = [HEADINGS] + [
        tuple(SHOWN.get(str(row[c]), str(row[c])) if c == "disposition" else str(row[c] or "-") for c in COLUMNS) for row in rows
    ]
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in cells]


@click.command(name="monitor")
@click.option("--site", "site_id", required=True, help="Site id, e.g. ecomarket.")
@click.option("--since", help="First day, YYYY-MM-DD (UTC); default 30 days ago.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@settings_options("database_url", "sites_dir")
def monitor_command(site_id: str, since: str | None, as_json: bool, database_url: str, sites_dir: str) -> None:
    """Tags that tried to run without consent: the CSP violations visitors' browsers reported.

    One line per vendor (from the tracker table), blocked origin, directive and page, with
    whether the visitor had decided and whether the browser blocked or only reported it.
    """
    _, site = _site(sites_dir, site_id)
    start = _since(since)
    rows, dropped = run_on_log(database_url, lambda engine: monitor.summary(engine, site.id, start))
    if as_json:
        for row in rows:
            row["first_day"], row["last_day"] = row["first_day"].isoformat(), row["last_day"].isoformat()
        click.echo(json.dumps({"site": site.id, "since": start.isoformat(), "dropped": dropped, "violations": rows}, indent=2))
        return
    click.echo(f"{site.id}: {sum(r['count'] for r in rows)} report(s) since {start.isoformat()} (UTC)"
               + (f", {dropped} more dropped over the daily cap" if dropped else ""))
    if rows:
        click.echo("\n".join(_table(rows)))
