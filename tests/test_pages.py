import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from gatekeeper import assets, pages
from gatekeeper.bundle import build_bundle
from gatekeeper.error_handlers import exception_handlers
from gatekeeper.sites import load_sites, parse_site
from gatekeeper.tokens import TokenSigner
from gatekeeper.trackers import vendor_for_url

SITES_DIR = Path(__file__).resolve().parent.parent / "sites"


class Tags(HTMLParser):
    """Start tags as (tag, attributes) and the text inside each <script>."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[tuple[dict, str]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self.scripts.append((dict(attrs), ""))

    def handle_data(self, data):
        if self.cdata_elem == "script":  # inside a <script>: its text
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)

    def find(self, tag: str) -> list[dict]:
        return [a for t, a in self.tags if t == tag]


def make_client(sites) -> TestClient:
    app = Starlette(routes=[*assets.routes, *pages.routes], exception_handlers=exception_handlers)
    app.state.sites = sites
    app.state.bundles = {site_id: build_bundle(site) for site_id, site in sites.items()}
    app.state.signer = TokenSigner(["test-key"])
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def client():
    return make_client(load_sites(SITES_DIR))


# --- the demo shop ------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("path", "lang"),
    [("/demo/ecomarket", "nl"), ("/demo/ecomarket?lang=fr", "fr"), ("/demo/ecomarket/product/2?lang=en", "en"),
     ("/demo/ecomarket?lang=de", "de"), ("/demo/ecomarket?lang=it", "nl"), ("/demo/locomail/cart?lang=en", "en"),
     ("/demo/locomail/checkout", "nl")],
)
def test_demo_pages_embed_exactly_one_tag_in_their_language(client, path, lang):
    response = client.get(path)
    assert response.status_code == 200
    tags = Tags(response.text)
    assert tags.find("html")[0]["lang"] == lang
    site = path.split("/")[2].split("?")[0]
    scripts_with_src = [s for s in tags.find("script") if "src" in s]
    # The bundle in the page's language only: what one visitor needs (README, "Languages").
    assert scripts_with_src == [{"src": f"/gk/{site}.js?lang={lang}", "async": None, "nonce": scripts_with_src[0]["nonce"]}]


def test_one_shop_own_tag_per_category(client):
    tags = Tags(client.get("/demo/ecomarket").text)
    own = {a["data-category"]: text for a, text in tags.scripts if a.get("type") == "text/plain"}
    assert own == {
        c: f'document.documentElement.dataset.own{c.capitalize()}="loaded"'
        for c in ("analytics", "marketing", "social", "personalisation")
    }
    locomail = Tags(client.get("/demo/locomail").text)
    assert [a["data-category"] for a, _ in locomail.scripts if a.get("type") == "text/plain"] == ["analytics"]


def test_facebook_login_spot_only_where_the_site_has_facebook(client):
    spots = [a for a in Tags(client.get("/demo/ecomarket").text).find("div") if a.get("class") == "fb-login-button"]
    assert len(spots) == 1 and spots[0]["data-category"] == "social"
    assert "fb-login-button" not in client.get("/demo/locomail").text


@pytest.mark.parametrize("path", ["/demo/ecomarket", "/demo/ecomarket/product/1", "/demo/ecomarket/cart"])
def test_no_tracker_url_in_the_page(client, path):
    html = client.get(path).text
    urls = re.findall(r"""(?:src|href)=["']([^"']+)""", html)
    assert [u for u in urls if vendor_for_url(u if "//" in u else f"https://x{u}")] == []
    assert "preconnect" not in html and "dns-prefetch" not in html


def test_the_shop_works_with_nothing_accepted(client):
    added = client.post("/demo/ecomarket/cart?lang=fr", data={"product": "3"}, follow_redirects=False)
    assert added.status_code == 303
    assert added.headers["location"] == "/demo/ecomarket/cart?lang=fr"
    assert added.headers["set-cookie"].startswith("cart=3;")
    assert "Path=/demo/ecomarket" in added.headers["set-cookie"] and "HttpOnly" in added.headers["set-cookie"]
    cart = client.get("/demo/ecomarket/cart?lang=fr")
    assert "Shampoing solide" in cart.text and 'href="/demo/ecomarket/checkout?lang=fr"' in cart.text
    checkout = client.get("/demo/ecomarket/checkout?lang=fr")
    assert checkout.status_code == 200 and "Passer la commande" in checkout.text
    ordered = client.post("/demo/ecomarket/checkout?lang=fr", data={"name": "A", "email": "a@b.c", "address": "x"})
    assert ordered.status_code == 200 and "Merci" in ordered.text
    assert 'cart=""' in ordered.headers["set-cookie"]


def test_a_cart_cookie_int_cannot_read_is_ignored(raw_status):
    assert raw_status("GET", "/demo/ecomarket/cart", [(b"cookie", b"cart=1-\xb2")]) == 200  # "²"


def test_no_cookie_without_a_cart(client):
    for path in ("/demo/ecomarket", "/demo/ecomarket/product/1", "/demo/ecomarket/cart", "/gk/ecomarket/cookies"):
        assert "set-cookie" not in client.get(path).headers, path


def test_unknown_site_product_and_cart_item_are_404(client):
    assert client.get("/demo/nosuchshop").status_code == 404
    assert client.get("/demo/ecomarket/product/99").status_code == 404
    assert client.post("/demo/ecomarket/cart", data={"product": "99"}).status_code == 404
    assert client.post("/demo/ecomarket/cart", data={"product": "²"}).status_code == 404  # a digit int() refuses
    assert client.get("/gk/nosuchshop/cookies").status_code == 404


def test_strict_csp_on_request_carries_the_page_nonce(client):
    response = client.get("/demo/ecomarket?csp=1")
    nonce = Tags(response.text).find("script")[0]["nonce"]
    assert response.headers["content-security-policy"].startswith(f"script-src 'nonce-{nonce}';")
    assert "content-security-policy" not in client.get("/demo/ecomarket").headers


# --- the cookie declaration ---------------------------------------------------------------

@pytest.mark.parametrize("lang", ["nl", "fr", "en", "de"])
def test_cookie_declaration_lists_every_service_and_cookie(client, lang):
    site = load_sites(SITES_DIR)["ecomarket"]
    response = client.get(f"/gk/ecomarket/cookies?lang={lang}")
    assert response.status_code == 200
    assert "x-frame-options" not in response.headers  # embeddable
    html = response.text
    assert f'<html lang="{lang}">' in html
    for service in site.services:
        for fact in (service.name, service.vendor, site.text(service.location, lang), f'href="{service.privacy_url}"'):
            assert fact.replace("'", "&#39;") in html, fact
        for cookie in service.cookies:
            row = re.search(rf'<tr data-cookie="{re.escape(cookie.name)}">(.*?)</tr>', html).group(1)
            assert site.text(cookie.purpose, lang).replace("'", "&#39;") in row
            if cookie.lifetime_days:
                assert f"{cookie.lifetime_days} " in row
    assert "gk_consent" in html and "182" in html
    # Outside-EU: three US services, one Finnish.
    yes, no = {"nl": ("Ja", "Nee"), "fr": ("Oui", "Non"), "en": ("Yes", "No"), "de": ("Ja", "Nein")}[lang]
    assert html.count(f"<td>{yes}</td>") == 3 and html.count(f"<td>{no}</td>") == 1


def test_pages_are_autoescaped():
    source = (SITES_DIR / "locomail.toml").read_text("utf-8")
    source = source.replace('controller = "LocoMail"', 'controller = "<script>x</script>"')
    client = make_client({"locomail": parse_site(source)})
    for path in ("/demo/locomail", "/gk/locomail/cookies"):
        html = client.get(path).text
        assert "<script>x</script>" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in client.get("/demo/locomail").text
