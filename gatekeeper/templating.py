"""The one Jinja2 environment of Gatekeeper: every page and the banner markup use it.

Autoescaping is on for every template, whatever its name: site configuration is data
from a file someone edits, and none of it may turn into markup.
"""

from __future__ import annotations

from pathlib import Path

import jinja2
from starlette.templating import Jinja2Templates

from .cookies import COOKIE_NAME

TEMPLATES_DIR = Path(__file__).parent / "templates"

environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)
# The consent cookie's name, where a page declares it (_cookie_table.html).
environment.globals["consent_cookie"] = COOKIE_NAME
templates = Jinja2Templates(env=environment)


def template_source(name: str) -> str:
    """A template's own text, unrendered."""
    return environment.loader.get_source(environment, name)[0]


def render(name: str, **context) -> str:
    """A template rendered outside any request (the banner markup at start-up)."""
    return environment.get_template(name).render(**context)
