"""Deliberately broken shop pages for trying `gatekeeper audit` and the pytest plugin.

Served under /qa/ only when the `qa_fixtures` setting is on (never in production). Each
page breaks one rule of docs/rules.md the way real shops do; the audit must catch each one.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from . import errors
from .templating import templates

# name -> (what is wrong, the rule the audit reports); each page is templates/qa_<name>.html
PAGES = {
    "hardcoded-gtag": ("gtag.js hard-coded in the page, outside the gate", 1),
    "pixel-ignores-decision": ("a Meta pixel that loads after any decision, refusals included", 8),
    "no-reject": ("a home-made banner without a reject button on its first layer", 4),
    "undeclared-cookie": ("a Hotjar cookie set after analytics consent but missing from the declaration", 13),
    "no-banner": ("a page without any consent banner and without trackers (it needs none: clean, with a note)", None),
    "trackers-no-banner": ("gtag.js hard-coded on a page that offers no choice at all", "1 and 4"),
    "dark-patterns": ("a German banner with a shaming, grey reject link, legitimate-interest wording and marketing "
                      "pre-ticked in its settings", "5, 6, 7 and 15"),
    "late-tags": ("trackers fired by a 1.5 s and a 12 s timer, an idle callback and scroll depth, before any choice", 1),
}
SITE = "locomail"  # the Gatekeeper site the broken pages embed


async def index(request: Request) -> Response:
    return templates.TemplateResponse(request, "qa_index.html", {"pages": PAGES, "lang": "en"})


async def page(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in PAGES:
        raise errors.NotFound(f"no QA fixture page {name!r}")
    context = {"name": name, "problem": PAGES[name][0], "site": SITE, "lang": "nl", "n": request.query_params.get("page", "1")}
    return templates.TemplateResponse(request, f"qa_{name.replace('-', '_')}.html", context)


routes: list[BaseRoute] = [Route("/qa/", index), Route("/qa/{name}", page)]
