from gatekeeper.bundle import render_banner


def test_declaration_json_comes_from_the_site_config(client):
    response = client.get("/gk/ecomarket/cookies.json")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    declaration = response.json()
    assert declaration["site"] == "ecomarket" and declaration["revision"] == 1
    assert declaration["categories"] == ["necessary", "analytics", "marketing", "social", "personalisation"]
    assert declaration["consent_cookie"] == {"name": "gk_consent", "lifetime_days": 182, "category": "necessary"}
    services = {s["id"]: s for s in declaration["services"]}
    assert services["google-analytics"]["trackers"] == ["ga4", "gtm"]
    assert services["facebook-login"]["trackers"] == ["facebook_sdk"]
    assert services["nosto"]["trackers"] == ["nosto"]  # a plain script loader, classified by its URL
    ga = {c["name"]: c for c in services["google-analytics"]["cookies"]}
    assert ga["_ga_*"]["lifetime_days"] == 730 and ga["_ga"]["purpose"]["fr"] == "Distingue les visiteurs"
    assert {c["name"]: c["first_party"] for c in services["google-ads"]["cookies"]}["IDE"] is False


def test_declaration_json_of_an_unknown_site_is_404(client):
    response = client.get("/gk/nosuchshop/cookies.json")
    assert response.status_code == 404


def test_the_shops_own_necessary_cookies_are_declared_under_necessary(client):
    services = client.get("/gk/ecomarket/cookies.json").json()["services"]
    own = services[0]
    assert (own["id"], own["category"], own["trackers"]) == ("own-cookies", "necessary", [])
    assert own["cookies"] == [{"name": "cart", "lifetime_days": 0, "first_party": True,
                               "purpose": {"nl": "Onthoudt wat in uw winkelmandje zit", "fr": "Retient le contenu de votre panier",
                                           "en": "Remembers what is in your cart", "de": "Merkt sich den Inhalt Ihres Warenkorbs"}}]
    page = client.get("/gk/ecomarket/cookies?lang=en").text
    necessary = page[page.index('id="category-necessary"'):page.index('id="category-analytics"')]
    assert 'data-cookie="cart"' in necessary and "Remembers what is in your cart" in necessary
    prefs = render_banner(client.app.state.sites["ecomarket"], "en", "prefs")  # the later layer's markup
    necessary = prefs[prefs.index('data-category="necessary"'):prefs.index('data-category="analytics"')]
    assert "cart" in necessary and "ECOMARKET" in necessary


def test_a_trackers_cookie_cannot_pass_as_the_shops_own():
    import pytest

    from gatekeeper.sites import SiteError, parse_site
    from tests.test_sites import MINIMAL

    with pytest.raises(SiteError, match=r"^shop.toml: cookies\[0\].name: '_ga' is a cookie of Google Analytics 4; declare it under that service"):
        parse_site(MINIMAL.replace("[[categories]]", '[[cookies]]\nname = "_ga"\nlifetime_days = 730\npurpose = "x"\n\n[[categories]]', 1), "shop.toml")
