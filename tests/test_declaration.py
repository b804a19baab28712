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
