"""`gatekeeper csp SITE`: the enforced Content-Security-Policy of a site, for shops whose
web server (nginx, Apache, Caddy) sends it instead of gatekeeper.shop's middleware.

Built by csp.py from the site file alone, as the middleware builds it: the host lists are
never typed into a server configuration by hand.
"""

from __future__ import annotations

import click

from .cli_options import fail, settings_options
from .csp import Policy
from .sites import SiteError, load_site

# How each server sends a header on every response. The policy has no quote of either
# kind besides CSP's own single quotes (the site file's sources cannot contain any); the
# Reporting-Endpoints value has double quotes, so each server quotes it its own way.
FORMATS = {
    "header": ("Content-Security-Policy: {policy}", "Reporting-Endpoints: {endpoints}"),
    "nginx": ('add_header Content-Security-Policy "{policy}" always;', "add_header Reporting-Endpoints '{endpoints}' always;"),
    "apache": ('Header always set Content-Security-Policy "{policy}"', "Header always set Reporting-Endpoints '{endpoints}'"),
    "caddy": ('header Content-Security-Policy "{policy}"', "header Reporting-Endpoints `{endpoints}`"),
}


@click.command()
@click.argument("site_id", metavar="SITE")
@settings_options("sites_dir")
@click.option("--format", "style", type=click.Choice(sorted(FORMATS)), default="header", show_default=True,
              help="Print the bare header, or the line for the nginx, Apache or Caddy configuration.")
@click.option("--nonce", default=None, metavar="VALUE",
              help="Put 'nonce-VALUE' into script-src, e.g. '$request_id' for nginx (README, \"On your own server\").")
@click.option("--report-uri", default=None, help="Where browsers report violations (default: the site's Gatekeeper).")
def csp(site_id: str, sites_dir: str, style: str, nonce: str | None, report_uri: str | None) -> None:
    """Print the enforced Content-Security-Policy of SITE.

    It allows 'self', Gatekeeper, the hosts of every service the site file declares and
    the shop's own hosts ([csp] in the site file); any other vendor cannot load.
    """
    try:
        site = load_site(sites_dir, site_id)
    except SiteError as exc:
        fail(str(exc))
    built = Policy(site, report_uri)
    policy = built.template(site.optional_categories)
    policy = policy.replace(" 'nonce-{nonce}'", "") if nonce is None else policy.replace("{nonce}", nonce)
    header, endpoints = FORMATS[style]
    click.echo(header.replace("{policy}", policy))
    click.echo(endpoints.replace("{endpoints}", built.reporting_endpoints()))
