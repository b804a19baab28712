"""HTML pages: the demo shop of each example site and its cookie declaration.

The demo shop embeds the bundle exactly as a shop would (one script tag) and works with
nothing accepted: browse, add to cart with a plain form, reach checkout. Its only cookie
is `cart`, which the shop needs to work.
"""

from __future__ import annotations

import secrets
import tomllib
from functools import cache
from importlib.resources import files
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from . import errors
from .limits import bounded_int
from .loaders import preset_of
from .sites import Site, known_site
from .templating import templates
from .texts import site_texts

CART_COOKIE = "cart"
# ?csp=1 sends a strict nonce-only policy: the banner and every tag it releases must pass.
STRICT_CSP = "script-src 'nonce-{0}'; style-src 'nonce-{0}'; object-src 'none'; base-uri 'none'"


@cache
def demo_data() -> dict:
    return tomllib.loads((files("gatekeeper") / "texts" / "demo.toml").read_text("utf-8"))


def _site(request: Request) -> Site:
    return known_site(request.app.state.sites, request.path_params["site"])


def _language(request: Request, site: Site) -> str:
    lang = request.query_params.get("lang", "")
    return lang if lang in site.languages else site.default_language


def _products(site: Site, lang: str) -> list[dict]:
    return [
        {"n": n, "name": site.text(p["name"], lang), "text": site.text(p["text"], lang), "price": p["price"]}
        for n, p in enumerate(demo_data()["products"].get(site.id, []), start=1)
    ]


def _cart(request: Request) -> list[int]:
    items = (bounded_int(n) for n in request.cookies.get(CART_COOKIE, "")[:1000].split("-"))
    return [n for n in items if n is not None]


def _link(site: Site, lang: str, path: str = "") -> str:
    """A demo shop URL that keeps the page's language (the default one needs no query)."""
    suffix = "" if lang == site.default_language else f"?lang={lang}"
    return f"/demo/{site.id}{path}{suffix}"


def _render(request: Request, template: str, site: Site, lang: str, **context) -> Response:
    nonce = secrets.token_urlsafe(16)
    products = _products(site, lang)
    cart = [p for n in _cart(request) for p in products if p["n"] == n]
    response = templates.TemplateResponse(
        request,
        template,
        {
            "site": site,
            "lang": lang,
            "t": site_texts(site, lang),
            # A language the demo shop has no words for (a site's own) shows it in English.
            "ui": demo_data()["ui"].get(lang) or demo_data()["ui"]["en"],
            "nonce": nonce,
            "products": products,
            "cart": cart,
            "total": sum(p["price"] for p in cart),
            "link": lambda path="": _link(site, lang, path),
            "facebook": any(preset_of(s.loader) == "facebook_sdk" for s in site.services),
            **context,
        },
    )
    if request.query_params.get("csp") == "1":
        response.headers["Content-Security-Policy"] = STRICT_CSP.format(nonce)
    return response


def _product(site: Site, lang: str, n: int | None) -> dict:
    for product in _products(site, lang):
        if product["n"] == n:
            return product
    raise errors.NotFound("no such product in this demo shop")


async def home(request: Request) -> Response:
    site = _site(request)
    lang = _language(request, site)
    return _render(request, "demo.html", site, lang, page="home")


async def product(request: Request) -> Response:
    site = _site(request)
    lang = _language(request, site)
    item = _product(site, lang, bounded_int(request.path_params["n"]))
    return _render(request, "demo.html", site, lang, page="product", product=item)


async def cart(request: Request) -> Response:
    site = _site(request)
    lang = _language(request, site)
    if request.method == "GET":
        return _render(request, "demo.html", site, lang, page="cart")
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    n = bounded_int(form.get("product", [""])[0])
    _product(site, lang, n)
    response = RedirectResponse(_link(site, lang, "/cart"), status_code=303)
    items = "-".join(str(i) for i in [*_cart(request), n][-50:])
    response.set_cookie(CART_COOKIE, items, path=f"/demo/{site.id}", httponly=True, samesite="lax")
    return response


async def checkout(request: Request) -> Response:
    site = _site(request)
    lang = _language(request, site)
    if request.method == "GET":
        return _render(request, "demo.html", site, lang, page="checkout")
    response = _render(request, "demo.html", site, lang, page="ordered")
    response.delete_cookie(CART_COOKIE, path=f"/demo/{site.id}", httponly=True, samesite="lax")
    return response


async def cookie_declaration(request: Request) -> Response:
    site = _site(request)
    lang = _language(request, site)
    categories = [c for c in site.categories if c.id != "necessary"]
    return templates.TemplateResponse(
        request,
        "cookies.html",
        {"site": site, "lang": lang, "t": site_texts(site, lang), "categories": categories, "nonce": ""},
    )


routes: list[BaseRoute] = [
    Route("/demo/{site}", home),
    Route("/demo/{site}/product/{n}", product),
    Route("/demo/{site}/cart", cart, methods=["GET", "POST"]),
    Route("/demo/{site}/checkout", checkout, methods=["GET", "POST"]),
    Route("/gk/{site}/cookies", cookie_declaration),
]
