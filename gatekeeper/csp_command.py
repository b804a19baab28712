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

# How each server sends the header on every response. The policy has no double quote (the
# site file's sources cannot contain one), so it is safe inside these quotes.
FORMATS = {
    "header": "Content-Security-Policy: {policy}",
    "nginx": 'add_header Content-Security-Policy "{policy}" always;',
    "apache": 'Header always set Content-Security-Policy "{policy}"',
    "caddy": 'header Content-Security-Policy "{policy}"',
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
    policy = Policy(site, report_uri).template(site.optional_categories)
    policy = policy.replace(" 'nonce-{nonce}'", "") if nonce is None else policy.replace("{nonce}", nonce)
    click.echo(FORMATS[style].replace("{policy}", policy))
