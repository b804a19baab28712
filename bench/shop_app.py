"""The shop page `python -m bench shop` serves: a Starlette product page as a shop renders
one, bare (`page`) or behind gatekeeper.shop's ConsentMiddleware in report mode (`guarded`).

The page is Jinja2 (Starlette's Jinja2Templates) with a base layout: navigation of ten
categories, breadcrumb, four images, three size variants, description, specs, five
reviews, eight related products and a footer, about 16 KB of HTML. Its data is in memory
(no database), so the bare page is as cheap as a real product page can be and the
middleware's share the largest it can be.
"""

import os
from decimal import Decimal
from pathlib import Path

from markupsafe import Markup
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from gatekeeper.shop import ConsentMiddleware

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.filters["euros"] = lambda amount: f"€{amount:,.2f}".replace(",", " ")

SHOP = {
    "name": "Ecomarket", "host": "www.ecomarket.be", "year": 2026, "vat": "BE0123.456.789", "free_shipping": Decimal(50),
    "categories": [{"slug": s.lower().replace(" ", "-"), "name": s} for s in (
        "Olive oil", "Vinegar", "Pasta", "Rice", "Spices", "Tea", "Coffee", "Chocolate", "Gifts", "Offers")],
    "footer": [{"href": f"/{s.lower().replace(' ', '-')}", "label": s} for s in (
        "About us", "Delivery", "Returns", "Contact", "Privacy", "Cookies", "Terms", "Imprint")],
}
LINE = "Cold-pressed within four hours of the harvest, from a family grove near Kalamata, filtered once and bottled in dark glass."
PRODUCTS = {
    n: {
        "name": f"Organic extra virgin olive oil no. {n}", "summary": LINE, "rating": 4.6, "price": Decimal("14.90"),
        "was": Decimal("17.50"), "delivery_days": "2–3",
        "breadcrumb": [{"href": "/", "label": "Home"}, {"href": "/c/olive-oil", "label": "Olive oil"}],
        "images": [{"src": f"/media/p{n}-{i}.webp", "alt": f"Bottle, view {i}"} for i in range(1, 5)],
        "variants": [{"sku": f"OO{n}-{size}", "label": f"{size} ml", "price": Decimal(price), "stock": stock}
                     for size, price, stock in ((250, "8.90", 40), (500, "14.90", 3), (1000, "26.50", 0))],
        "description": [LINE] * 4,
        "specs": [("Origin", "Messenia, Greece"), ("Variety", "Koroneiki"), ("Harvest", "October 2025"), ("Acidity", "≤ 0.3%"),
                  ("Certification", "EU organic, BE-BIO-01"), ("Storage", "Cool and dark"), ("Allergens", "None")],
        "reviews": [{"title": f"Review {i}", "stars": 5 - i % 2, "author": f"Customer {i}", "date": "2026-11-0" + str(i), "text": LINE}
                    for i in range(1, 6)],
    }
    for n in range(1, 21)
}
RELATED = [{"id": n, "name": f"Product {n}", "image": f"/media/p{n}-1.webp", "price": Decimal("9.95") + n} for n in range(1, 9)]
CART = {"count": 2, "total": Decimal("23.80")}
TAG = Markup('<script src="/gk/ecomarket.js" async></script>')  # Gatekeeper's tag, as the bare page includes it


async def product(request: Request):
    consent = request.scope.get("gatekeeper")
    return templates.TemplateResponse(request, "product.html", {
        "shop": SHOP, "cart": CART, "product": PRODUCTS[request.path_params["n"] % 20 + 1], "related": RELATED,
        "current_category": "olive-oil",
        "gatekeeper_tag": consent.script_tag() if consent is not None else TAG,
        "measured": consent is not None and consent.allows("analytics"),
    })


async def healthz(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


def shop() -> Starlette:
    return Starlette(routes=[Route("/product/{n:int}", product), Route("/healthz", healthz)])


page = shop()
guarded = ConsentMiddleware(
    shop(), site="ecomarket", sites_dir=os.environ["GATEKEEPER_SITES_DIR"], keys=os.environ["GATEKEEPER_SECRET_KEYS"],
)
