import gzip
import hashlib
import json
import re
import time
from html.parser import HTMLParser
from pathlib import Path

import brotli
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from gatekeeper import assets
from gatekeeper.bundle import LAYER_DIGEST, LAYER_FIT, build_bundle, public_config, render_banner
from gatekeeper.error_handlers import exception_handlers
from gatekeeper.sites import load_sites, parse_site
from gatekeeper.tokens import ConsentToken, TokenSigner

SITES_DIR = Path(__file__).resolve().parent.parent / "sites"
BUDGET = 6144  # bytes gzipped before the first click (DESIGN.md, "Budgets")


def prefs_html(bundle, lang: str) -> str:
    """The preferences layer's markup, as the later layer carries it (checked below by
    test_the_later_layer_route, which finds it in the served script)."""
    return render_banner(load_sites(SITES_DIR)[bundle.site_id], lang, "prefs")


class Tags(HTMLParser):
    """Every start tag of an HTML fragment as (tag, attributes)."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def find(self, tag: str, **attrs) -> list[dict]:
        return [a for t, a in self.tags if t == tag and all(a.get(k.replace("_", "-")) == v for k, v in attrs.items())]


@pytest.fixture(scope="module")
def sites():
    return load_sites(SITES_DIR)


@pytest.fixture(scope="module")
def signer():
    return TokenSigner(["test-key"])


@pytest.fixture(scope="module")
def client(sites, signer):
    app = Starlette(routes=assets.routes, exception_handlers=exception_handlers)
    app.state.sites = sites
    # As served: with the consent token's public key, which the first click's budget includes.
    app.state.bundles = {site_id: build_bundle(site, signer.public_keys) for site_id, site in sites.items()}
    app.state.signer = signer
    return TestClient(app)


@pytest.fixture(scope="module")
def ecomarket(client):
    return client.app.state.bundles["ecomarket"]


def valid_token(signer) -> str:
    return signer.sign(ConsentToken(site="ecomarket", id="abc", granted=("analytics",), rev=1, iat=int(time.time())))


# --- what the bundle holds ----------------------------------------------------------------

@pytest.mark.parametrize("site_id", ["ecomarket", "locomail"])
def test_first_click_budget(client, site_id):
    """What one visitor downloads before the first click: the bundle in the page's
    language, as the demo shop and the README's embed ask for it (`?lang=`)."""
    bundle = client.app.state.bundles[site_id]
    for lang, asset in bundle.languages.items():
        assert len(asset.gzip) <= BUDGET, f"{site_id} {lang}: {len(asset.gzip)} bytes gzipped"


def test_a_language_bundle_holds_only_its_own_first_layer(client, ecomarket):
    response = client.get("/gk/ecomarket.js?lang=de", headers={"Accept-Encoding": "gzip"})
    assert response.content == ecomarket.languages["de"].body
    assert response.headers["etag"] == f'"{ecomarket.languages["de"].digest}-gzip"'
    body = response.text
    assert "Alle ablehnen" in body and "Alles weigeren" not in body and "Reject all" not in body
    # The settings control's label and the placeholders' texts (ECOMARKET declares no embeds)
    # travel with the later layer, in German alone.
    assert "label:" not in body and "Diesen Inhalt laden" not in body
    later = ecomarket.prefs["de"].body.decode()
    assert 'label:{de:"Cookie-Einstellungen"}' in later and "Cookie-instellingen" not in later and "Cookie settings" not in later
    assert "Diesen Inhalt laden" in later and "Load this content" not in later
    assert len(ecomarket.languages["de"].gzip) < len(ecomarket.gzip)
    # Only the bundle of every language chooses one by the page's <html lang>.
    assert "documentElement.lang" in ecomarket.body.decode() and "documentElement.lang" not in body
    # A language the site lacks (or none) gets every language, never an error.
    assert client.get("/gk/ecomarket.js?lang=it").content == ecomarket.body
    hashed = client.get(f"/gk/ecomarket.{ecomarket.languages['nl'].digest}.js?lang=nl")
    assert hashed.headers["cache-control"] == "public, max-age=31536000, immutable"


def test_compressed_bodies_decode_to_the_body(ecomarket):
    assert gzip.decompress(ecomarket.gzip) == ecomarket.body
    assert brotli.decompress(ecomarket.brotli) == ecomarket.body
    assert ecomarket.digest == hashlib.sha256(ecomarket.body).hexdigest()[:16]


def test_bundle_holds_config_and_first_layer_of_every_language(ecomarket):
    body = ecomarket.body.decode()
    # The minifier drops the quotes around an object key where it can; the values stay.
    config = {"site": '"ecomarket"', "revision": "1", "consent_days": "182",
              "categories": '["analytics","marketing","social","personalisation"]'}
    for key, value in config.items():
        assert re.search(f'"?{key}"?:{re.escape(value)}', body), key
    for label in ("Alles weigeren", "Tout refuser", "Reject all", "Alle ablehnen"):
        assert label in body
    # The preferences layer is fetched on first open, not shipped to every visitor.
    assert "Productaanbevelingen op basis van uw bezoek." not in body
    assert "Nosto Solutions Oy" not in body
    assert "sourceMappingURL" not in body and "\n\n" not in body


def test_local_names_are_renamed(ecomarket):
    """The minifier mangles the code's own names (the bytes rjsmin could not free);
    the public API and the config's keys keep theirs."""
    body = ecomarket.body.decode()
    for local in ("storedDecision", "activateWithin", "openPrefs", "focusDialog", "CONFIG", "MARKUP"):
        assert local not in body, local
    for public in ("gatekeeper", "allows", "withdraw", "consent_days", "gatekeeper:consent"):
        assert public in body, public
    # No comment is left but V8's compile hint, which only works as the very first line.
    assert body.startswith("//# allFunctionsCalledOnLoad\n")
    body = body.removeprefix("//# allFunctionsCalledOnLoad\n")
    assert "/*" not in body and "//" not in body.replace("://", "")


def test_no_hint_to_a_tracker_host_before_a_choice(ecomarket):
    body = ecomarket.body.decode()
    assert "preconnect" not in body and "dns-prefetch" not in body


def test_text_hashes_cover_exactly_what_each_language_shows(ecomarket):
    assert set(ecomarket.text_hashes) == {"nl", "fr", "en", "de"}
    for lang, digest in ecomarket.text_hashes.items():
        shown = ecomarket.texts[lang]
        assert digest == hashlib.sha256(shown.encode()).hexdigest()
        assert prefs_html(ecomarket, lang) in shown
    assert len(set(ecomarket.text_hashes.values())) == 4


def test_an_override_changes_the_text_hash(sites, ecomarket):
    source = (SITES_DIR / "ecomarket.toml").read_text("utf-8")
    changed = build_bundle(parse_site(source + '\n[texts.nl]\ntitle = "Anders"\n'))
    assert changed.text_hashes["nl"] != ecomarket.text_hashes["nl"]
    assert changed.text_hashes["fr"] == ecomarket.text_hashes["fr"]


def test_markup_is_autoescaped():
    source = (SITES_DIR / "locomail.toml").read_text("utf-8")
    source = source.replace('controller = "LocoMail"', 'controller = "<script>x</script>"')
    bundle = build_bundle(parse_site(source))
    assert "<script>x</script>" not in bundle.body.decode()
    assert "&lt;script&gt;x&lt;/script&gt;" in bundle.body.decode()


@pytest.mark.parametrize("lang", ["nl", "fr", "en", "de"])
def test_first_layer_has_three_equal_buttons_and_the_links(ecomarket, sites, lang):
    tags = Tags(ecomarket.texts[lang])
    dialog = tags.find("div", role="dialog")
    assert dialog and dialog[0]["aria-labelledby"] == "gk-title"
    for action in ("accept", "reject", "prefs", "save", "withdraw"):
        buttons = tags.find("button", data_gk=action)
        assert len(buttons) == 1, action  # one element per action: no hidden twin
        assert buttons[0].get("class") is None and buttons[0]["type"] == "button"
    hrefs = [a["href"] for a in tags.find("a")]
    assert sites["ecomarket"].policy_url in hrefs
    assert f"/gk/ecomarket/cookies?lang={lang}" in hrefs


@pytest.mark.parametrize("lang", ["nl", "fr", "en", "de"])
def test_nothing_is_pre_ticked(ecomarket, lang):
    boxes = Tags(prefs_html(ecomarket, lang)).find("input", type="checkbox")
    by_category = {b["data-category"]: b for b in boxes}
    assert list(by_category) == ["necessary", "analytics", "marketing", "social", "personalisation"]
    assert "checked" in by_category["necessary"] and "disabled" in by_category["necessary"]
    for category, box in by_category.items():
        if category != "necessary":
            assert "checked" not in box and "disabled" not in box, category


def test_preferences_list_every_service(ecomarket, sites):
    site = sites["ecomarket"]
    html = prefs_html(ecomarket, "en")
    for service in site.services:
        assert service.name in html and site.text(service.location, "en") in html
    # Locations are per-language text: a French visitor does not read "Verenigde Staten".
    assert "États-Unis" in prefs_html(ecomarket, "fr") and "Verenigde Staten" not in prefs_html(ecomarket, "fr")
    assert html.count("<dd>Yes</dd>") == 3 and html.count("<dd>No</dd>") == 1  # outside the EU


# --- how it is served ---------------------------------------------------------------------

def test_plain_url_revalidates_with_a_strong_etag(client, ecomarket):
    response = client.get("/gk/ecomarket.js", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["content-length"] == str(len(ecomarket.gzip))
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.headers["cache-control"] == "no-cache"
    assert re.fullmatch(r'"[0-9a-f]{16}-gzip"', response.headers["etag"])
    assert response.content == ecomarket.body


def test_brotli_and_identity(client, ecomarket):
    br = client.get("/gk/ecomarket.js", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert br.headers["content-encoding"] == "br"
    assert br.headers["content-length"] == str(len(ecomarket.brotli))
    plain = client.get("/gk/ecomarket.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.headers["etag"] == ecomarket.etag
    refused = client.get("/gk/ecomarket.js", headers={"Accept-Encoding": "br;q=0, gzip"})
    assert refused.headers["content-encoding"] == "gzip"


@pytest.mark.parametrize("coding", ["gzip", "br", "identity"])
def test_304_on_a_current_etag(client, coding):
    first = client.get("/gk/ecomarket.js", headers={"Accept-Encoding": coding})
    again = client.get(
        "/gk/ecomarket.js", headers={"Accept-Encoding": coding, "If-None-Match": f'"old", {first.headers["etag"]}'}
    )
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["cache-control"] == "no-cache"
    stale = client.get("/gk/ecomarket.js", headers={"Accept-Encoding": coding, "If-None-Match": '"old"'})
    assert stale.status_code == 200


def test_hashed_url_is_immutable(client, ecomarket):
    response = client.get(f"/gk/ecomarket.{ecomarket.digest}.js")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.content == ecomarket.body
    # An outdated digest still gets a working script, but not one cached for a year.
    old = client.get("/gk/ecomarket.0123456789abcdef.js")
    assert old.status_code == 200 and old.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize("path", ["/gk/nosuchshop.js", "/gk/nosuchshop.0123456789abcdef.js"])
def test_unknown_site_is_a_js_comment(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.text == "/* Gatekeeper: no site of this name here; check the id in the script's src */\n"


def test_a_forged_consent_cookie_is_cleared(client, ecomarket):
    forged = "eyJ2IjoxLCJzaXRlIjoiZWNvbWFya2V0IiwiZ3JhbnRlZCI6WyJtYXJrZXRpbmciXX0.forged"
    for headers in ({}, {"If-None-Match": ecomarket.etag, "Accept-Encoding": "identity"}):
        response = client.get("/gk/ecomarket.js", headers={**headers, "Cookie": f"gk_consent={forged}"})
        assert response.status_code in (200, 304)
        set_cookie = response.headers.get("set-cookie", "")
        assert set_cookie.startswith("gk_consent=") and "Max-Age=0" in set_cookie, (response.status_code, set_cookie)


def test_a_second_consent_cookie_beside_a_genuine_one_clears_both_scopes(sites, signer):
    """A planted duplicate (parent domain, another path) next to ours: both disagree, so the
    bundle response expires the host-only cookie and the site's cookie domain."""
    site = sites["ecomarket"]
    assert site.cookie_domain, "the example site declares a cookie domain"
    app = Starlette(routes=assets.routes)
    app.state.sites, app.state.signer = sites, signer
    app.state.bundles = {"ecomarket": build_bundle(site, signer.public_keys)}
    shop = TestClient(app, base_url=f"https://shop.{site.cookie_domain}")
    response = shop.get("/gk/ecomarket.js", headers={"Cookie": f"gk_consent={valid_token(signer)}; gk_consent=other"})
    cleared = response.headers.get_list("set-cookie")
    assert len(cleared) == 2 and all(c.startswith('gk_consent="";') and "Max-Age=0" in c for c in cleared), cleared
    assert [c for c in cleared if f"Domain={site.cookie_domain}" in c] and [c for c in cleared if "Domain" not in c]
    assert all("Path=/;" in c and "Secure" in c for c in cleared)


def test_the_bundle_carries_the_public_keys_and_is_safe_inline(signer):
    """Strings that would end or escape an inline <script>, or break older engines, are escaped."""
    source = (SITES_DIR / "locomail.toml").read_text("utf-8")
    evil = "Cookies </SCRIPT><script>alert(1)</script> <!-- \u2028\u2029"
    source += f'\n[texts.en]\nsettings = "{evil}"\nchoice = "{evil}"\n'
    bundle = build_bundle(parse_site(source), signer.public_keys)
    body = bundle.body.decode()
    assert f'["{signer.public_keys[0]}"]' in body
    later = bundle.prefs["en"].body.decode()  # where the settings label is
    assert "<\\/SCRIPT><script>alert(1)<\\/script> <\\!-- \\u2028\\u2029" in later
    for code in (body, later):  # the choice text, autoescaped markup in both
        assert not re.search("</script|<!--|\u2028|\u2029", code, re.IGNORECASE)


def test_a_genuine_consent_cookie_is_left_alone(client, signer):
    response = client.get("/gk/ecomarket.js", headers={"Cookie": f"gk_consent={valid_token(signer)}"})
    assert response.status_code == 200
    assert "set-cookie" not in response.headers


def test_the_later_layer_route(client, ecomarket):
    layer = ecomarket.prefs["fr"]
    digest = ecomarket.layer_versions["fr"]
    assert len(digest) == LAYER_DIGEST and digest[LAYER_FIT:] == layer.digest[: LAYER_DIGEST - LAYER_FIT]
    path = f"/gk/ecomarket/prefs/fr.{digest}.js"
    assert f'layer:{{fr:"{path}"}}' in ecomarket.languages["fr"].body.decode(), "the bundle names the layer it was built with"
    response = client.get(f"/gk/ecomarket/prefs/fr.{digest}.js", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.content == layer.body
    body = response.text
    assert body.split("\n")[1].startswith("gatekeeper._layer(")
    # The preferences' markup and styles travel with the layer's code, not in the bundle.
    html = prefs_html(ecomarket, "fr")
    assert 'data-category="analytics"' in html and html in body
    assert ".gk-service{" in body and ".gk-service" not in ecomarket.body.decode()
    again = client.get(f"/gk/ecomarket/prefs/fr.{digest}.js", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
    # A bundle cached from an earlier build whose layer changed only in what it says gets
    # today's layer, revalidated; one built from other code or categories gets none.
    older = client.get(f"/gk/ecomarket/prefs/fr.{digest[:LAYER_FIT]}000000.js")
    assert older.status_code == 200 and older.content == layer.body
    assert older.headers["cache-control"] == "no-cache"
    assert client.get(f"/gk/ecomarket/prefs/fr.000000{digest[LAYER_FIT:]}.js").status_code == 404
    assert client.get(f"/gk/ecomarket/prefs/it.{digest}.js").status_code == 404
    assert client.get(f"/gk/nosuchshop/prefs/fr.{digest}.js").status_code == 404


def test_the_later_layer_takes_the_bundle_s_parts_in_the_order_it_passes_them(ecomarket):
    """layer.js is a function of LAYER_ARGS, which banner.js passes by position."""
    import gatekeeper.bundle as bundle

    banner = (SITES_DIR.parent / "static" / "banner" / "banner.js").read_text()
    assert banner.count("code(LAYER_ARGS)") == 1
    assert bundle.LAYER_ARGS.count(",") >= 10 and "LAYER_ARGS" not in ecomarket.body.decode()


def test_config_places_the_settings_control_with_its_label_per_language(sites):
    config = public_config(sites["ecomarket"])
    assert config["settings"] == "bottom-left"
    assert config["label"] == {"nl": "Cookie-instellingen", "fr": "Paramètres des cookies", "en": "Cookie settings", "de": "Cookie-Einstellungen"}
    source = (SITES_DIR / "locomail.toml").read_text("utf-8").replace('name = "LocoMail"', 'name = "LocoMail"\nsettings_button = "none"')
    hidden = public_config(parse_site(source))
    assert hidden["settings"] == "none" and "label" not in hidden


def test_withdrawal_deletes_the_well_known_tracker_cookies_too(sites):
    cookies = public_config(sites["ecomarket"])["cookies"]
    assert {"_ga", "_ga_*"} <= set(cookies["analytics"])
    assert {"_gcl_*", "_fbp", "_fbc"} <= set(cookies["marketing"])
    assert "IDE" not in cookies["marketing"]  # third-party: not the shop's to delete


def test_a_one_language_config_holds_that_language_s_texts(sites):
    config = public_config(sites["ecomarket"], "fr")
    assert config["label"] == {"fr": "Paramètres des cookies"}
    assert list(config["embed"]) == ["fr"]
    assert {k: v for k, v in config.items() if k not in ("label", "embed")} == {
        k: v for k, v in public_config(sites["ecomarket"]).items() if k not in ("label", "embed")}


def test_text_hash_covers_the_public_config(sites, ecomarket):
    source = (SITES_DIR / "ecomarket.toml").read_text("utf-8").replace("consent_days = 182", "consent_days = 90")
    changed = build_bundle(parse_site(source))
    assert changed.text_hashes["nl"] != ecomarket.text_hashes["nl"]
    assert '"consent_days":90' in changed.texts["nl"]


def test_the_consent_cookie_name_and_format_version_are_written_once():
    """cookies.COOKIE_NAME and tokens.FORMAT_VERSION reach the bundle, the declaration page,
    the audit, the browser tests' harness and the benchmarks; no other source file spells them out."""
    from gatekeeper.cookies import COOKIE_NAME
    from gatekeeper.tokens import FORMAT_VERSION

    repo = SITES_DIR.parent
    sources = [*(repo / "gatekeeper").rglob("*.py"), *(repo / "gatekeeper").rglob("*.html"),
               *(repo / "static").rglob("*.js"), repo / "e2e" / "harness.py",
               *(repo / "bench").rglob("*.py")]
    spelled = {str(p.relative_to(repo)) for p in sources if re.search(r"""["'>]gk_consent["'<=]""", p.read_text())}
    assert spelled == {"gatekeeper/cookies.py"}
    gate = (repo / "static" / "banner" / "gate.js").read_text()
    assert "p.v === FORMAT" in gate and not re.search(r"\.v === \d", gate)
    code = gzip.decompress(build_bundle(load_sites(SITES_DIR)["ecomarket"]).gzip).decode()
    assert re.search(rf'(\w+)="{COOKIE_NAME}",(\w+)={FORMAT_VERSION}[;,]', code), "the bundle gets both from Python"


def test_the_later_layer_s_version_says_what_it_fits_and_what_it_holds():
    """An old bundle gets today's layer only where that fits it (assets.later_layer): the
    version's first part changes with the categories, not with the wording."""
    source = (SITES_DIR / "locomail.toml").read_text("utf-8")
    before = build_bundle(parse_site(source))
    reworded = build_bundle(parse_site(source.replace("Seeing how you use the site", "How you use the site")))
    assert reworded.prefs["en"].body != before.prefs["en"].body
    old, new = before.layer_versions["en"], reworded.layer_versions["en"]
    assert new != old and new[:LAYER_FIT] == old[:LAYER_FIT]
    more = build_bundle(parse_site(source + '\n[[categories]]\nid = "preferences"\n'
                                   'name = { nl = "Voorkeuren", en = "Preferences" }\n'
                                   'description = { nl = "Uw keuzes onthouden.", en = "Remembering your choices." }\n'))
    assert more.layer_versions["en"][:LAYER_FIT] != old[:LAYER_FIT]
