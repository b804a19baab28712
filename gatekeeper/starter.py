"""A first run outside the checkout: the example sites shipped in the package, and the
commented starter site file `gatekeeper init` writes to edit.
"""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path
from string import Template

from .sites import SLUG, SiteError, parse_site

DEFAULT_SITE = "shop"


def example_sites_dir() -> Path:
    """The two reference shops (the checkout's sites/), as installed with the package."""
    installed = Path(str(files("gatekeeper") / "example_sites"))
    # An editable install (a checkout) maps the package to sites/ without copying it.
    return installed if installed.is_dir() else Path(__file__).parents[1] / "sites"


def starter_text(site_id: str) -> str:
    if not re.match(SLUG, site_id):
        raise SiteError(f"{site_id!r} is not a site id (expected lowercase letters, digits, - or _, starting with a letter)")
    template = (files("gatekeeper") / "starter_site.toml").read_text("utf-8")
    text = Template(template).substitute(site_id=site_id)
    parse_site(text, f"{site_id}.toml")  # what init writes must pass `gatekeeper check` as it stands
    return text


def write_starter(sites_dir: Path, site_id: str) -> Path:
    """Write `<sites_dir>/<site_id>.toml` (creating the folder); never overwrite a file."""
    text = starter_text(site_id)
    path = Path(sites_dir) / f"{site_id}.toml"
    if path.exists():
        raise SiteError(f"{path} already exists; edit it, or choose another site id")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
