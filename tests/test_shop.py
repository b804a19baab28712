"""gatekeeper.shop: the verifier as a shop's server uses it, both middlewares, the purge.

The ASGI middleware runs in a real Starlette app; the WSGI one is called as a WSGI server
calls it. Django and Flask are tested against the real frameworks in test_shop_frameworks.py.
"""

import os
import re
import time

import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from gatekeeper.cookies import header_cookies, one_value, withdrawn_names
from gatekeeper.shop import ConsentMiddleware, Guard, WSGIConsentMiddleware
from gatekeeper.tokens import ConsentToken, TokenSigner

from conftest import SITES_DIR

KEYS = "new-key,old-key"  # as GATEKEEPER_SECRET_KEYS lists them: newest first


def cookie(granted=("analytics",), key="new-key", site="ecomarket", rev=1, iat=None) -> str:
    token = ConsentToken(site=site, id="c0ns3nt", granted=tuple(granted), rev=rev, iat=int(iat or time.time()))
    return TokenSigner([key]).sign(token)


@pytest.fixture
def guard() -> Guard:
    return Guard(site="ecomarket", sites_dir=str(SITES_DIR), keys=KEYS)


def test_a_valid_cookie_gives_the_decision(guard):
    consent = guard.consent(f"cart=1-2; gk_consent={cookie()}; _ga=GA1.1")
    assert consent.allows("analytics") and consent.allows("necessary")
    assert not consent.allows("marketing") and not consent.allows("nonsense")
    assert consent.decision.categories == {
        "necessary": True, "analytics": True, "marketing": False, "social": False, "personalisation": False,
    }
    assert consent.decision.revision == 1 and consent.consent_id == "c0ns3nt"
    assert consent.allowed["analytics"] is True and consent.granted == ("analytics",)


@pytest.mark.parametrize(
    "header",
    ["gk_consent={v}", " gk_consent = {v} ;cart=1", "xgk_consent={v}", "gk_consent_old={v}", "a=gk_consent={v}",
     "gk_consent={v}; gk_consent={v}", "gk_consent={v};gk_consent=", "cart=1;gk_consent={v}"],
)
def test_the_consent_cookie_is_read_as_the_server_reads_it(guard, header):
    value = cookie()
    header = header.format(v=value)
    expected = one_value(header_cookies(header)[1]) == value  # the server's own reading
    assert (guard.consent(header).decision is not None) == expected


def test_an_old_key_still_verifies_a_retired_one_does_not(guard):
    assert guard.consent(f"gk_consent={cookie(key='old-key')}").decision is not None
    assert guard.consent(f"gk_consent={cookie(key='retired')}").decision is None


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(lambda: cookie()[:-2] + "xx", id="forged signature"),
        pytest.param(lambda: cookie(site="locomail"), id="another site"),
        pytest.param(lambda: cookie(rev=0), id="stale revision"),
        pytest.param(lambda: cookie(iat=time.time() - 183 * 86400), id="expired"),
        pytest.param(lambda: "garbage", id="garbage"),
        pytest.param(lambda: f"{cookie(granted=())}; gk_consent={cookie(granted=('analytics', 'marketing'))}", id="two that disagree"),
    ],
)
def test_forged_or_stale_cookies_read_as_undecided(guard, value):
    consent = guard.consent(f"gk_consent={value()}")
    assert consent.decision is None and consent.granted == ()
    assert not consent.allows("analytics") and consent.allows("necessary")


def test_a_verified_cookie_is_remembered_but_still_expires_on_time(guard, monkeypatch):
    now = time.time()
    value = cookie(iat=now - guard.site.consent_days * 86400 + 60)  # a minute left
    assert guard.consent(f"gk_consent={value}").decision is not None
    monkeypatch.setattr("gatekeeper.shop.consent.time.time", lambda: now + 61)
    assert guard.consent(f"gk_consent={value}").decision is None  # the remembered check, past its period
    assert guard._verified.cache_info().hits >= 1


def test_keys_may_be_a_list_and_a_bad_mode_is_refused():
    assert Guard(site="ecomarket", sites_dir=str(SITES_DIR), keys=["old-key"]).consent(f"gk_consent={cookie(key='old-key')}").decision
    with pytest.raises(ValueError, match="csp='strict'"):
        Guard(site="ecomarket", sites_dir=str(SITES_DIR), keys=KEYS, csp="strict")


def test_gpc_and_a_fresh_nonce_per_request(guard):
    first = guard.consent("", "1")
    second = guard.consent("")
    assert first.gpc is True and second.gpc is False
    assert len(first.csp_nonce) >= 22 and first.csp_nonce != second.csp_nonce


def test_nonces_are_never_reused_not_even_by_a_forked_worker(guard):
    nonces = [guard.consent("").csp_nonce for _ in range(600)]  # more than one read from the OS
    assert len(set(nonces)) == 600 and all(re.fullmatch("[0-9a-f]{32}", n) for n in nonces)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # a worker forked from a parent that has nonces in store
        os.write(write, guard.consent("").csp_nonce.encode())
        os._exit(0)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    assert child != guard.consent("").csp_nonce and len(child) == 32


def test_script_tag_carries_the_nonce_and_in_enforce_mode_asks_for_the_reload(guard):
    consent = guard.consent("")
    assert consent.script_tag("nl") == f'<script src="/gk/ecomarket.js?lang=nl" nonce="{consent.csp_nonce}" async></script>'
    assert consent.script_tag().__html__() == consent.script_tag()  # templates insert it as markup
    enforce = Guard(site="ecomarket", sites_dir=str(SITES_DIR), keys=KEYS, csp="enforce")
    assert " data-gk-reload " in enforce.consent("").script_tag()


def test_script_tag_loads_the_bundle_of_the_pages_language_only(guard, tmp_path):
    consent = guard.consent("")
    src = lambda tag: re.search(r'src="([^"]+)"', tag)[1]  # noqa: E731
    assert src(consent.script_tag("de-BE")) == "/gk/ecomarket.js?lang=de"  # a language tag's primary language
    assert src(consent.script_tag("FR")) == "/gk/ecomarket.js?lang=fr"
    # A language the site does not offer shows the site's first, as the every-language bundle would.
    assert src(consent.script_tag("es")) == "/gk/ecomarket.js?lang=nl"
    consent.language = "en-GB"  # what a framework knows (Django's active language)
    assert src(consent.script_tag()) == "/gk/ecomarket.js?lang=en"
    assert src(consent.script_tag("de")) == "/gk/ecomarket.js?lang=de"  # the template's word wins
    # Only a page of unknown language on a site of several gets every language's banner.
    assert src(guard.consent("").script_tag()) == "/gk/ecomarket.js"
    site = (SITES_DIR / "locomail.toml").read_text().replace('languages = ["nl", "en"]', 'languages = ["en"]')
    (tmp_path / "locomail.toml").write_text(site)
    single = Guard(site="locomail", sites_dir=str(tmp_path), keys=KEYS)
    assert src(single.consent("").script_tag()) == "/gk/locomail.js?lang=en"


# --- purge -------------------------------------------------------------------------------

def set_cookies(headers) -> list[str]:
    return [v for k, v in headers if k == "set-cookie"]


def test_refused_categories_cookies_are_expired_on_the_host_and_its_parent(guard):
    consent = guard.consent(f"gk_consent={cookie()}; _ga=1; _gcl_au=2; fbm_123=3; 2c.cId=4; cart=5; other=6")
    expired = set_cookies(guard.headers(consent, "www.ecomarket.be", True, html=False))
    # analytics is granted: _ga stays; marketing, social, personalisation are not.
    assert {v.split("=")[0] for v in expired} == {"_gcl_au", "fbm_123", "2c.cId"}
    gcl = [v for v in expired if v.startswith("_gcl_au=")]
    assert gcl == [
        '_gcl_au=""; Max-Age=0; Path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT; Secure; SameSite=Lax',
        '_gcl_au=""; Max-Age=0; Path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT; Domain=www.ecomarket.be; Secure; SameSite=Lax',
        '_gcl_au=""; Max-Age=0; Path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT; Domain=ecomarket.be; Secure; SameSite=Lax',
    ]


def test_undecided_expires_every_declared_cookie_but_never_the_consent_cookie_or_the_shops(guard):
    consent = guard.consent(f"gk_consent={cookie()[:-3]}xyz; _ga=1; _ga_ABC=2; cart=3")
    expired = set_cookies(guard.headers(consent, "127.0.0.1:8000", False, html=False))
    assert sorted(expired) == [
        '_ga=""; Max-Age=0; Path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT; SameSite=Lax',
        '_ga_ABC=""; Max-Age=0; Path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT; SameSite=Lax',
    ]  # an IP address has no parent domain


@pytest.mark.parametrize(
    "header",
    ["_ga=1", " _ga_XYZ = 2 ;cart=1", "x_ga=1; _gax=2", "cart=_ga=1", "_gcl_au=1;_fbp=2", "a=1; b=2; _ga", "_ga_=1",
     "fbm_1=; 2c.cId=4", "=_ga; _ga=1", "_ga=1; gk_consent=x"],
)
def test_the_purge_finds_exactly_the_names_the_server_would(guard, header):
    """The one-search shortcut never misses a cookie the full reading would expire."""
    consent = guard.consent(header)  # undecided: every category's cookies go
    expected = withdrawn_names(header_cookies(header)[0], guard.site, guard.optional)
    assert [name for name, domain in guard.expired(consent, "shop.test") if domain is None] == expected


def test_nothing_to_expire_adds_no_header(guard):
    consent = guard.consent(f"gk_consent={cookie(('analytics', 'marketing', 'social', 'personalisation'))}; _ga=1")
    assert guard.headers(consent, "www.ecomarket.be", True, html=False) == []


# --- the middlewares ---------------------------------------------------------------------

def starlette_app(**options) -> TestClient:
    async def page(request):
        consent = request.scope["gatekeeper"]
        return HTMLResponse(f"<p>{consent.allows('analytics')} {consent.csp_nonce}</p>")

    async def api(request):
        return JSONResponse({"analytics": request.scope["gatekeeper"].allows("analytics")})

    app = Starlette(routes=[Route("/", page), Route("/api", api)])
    app.add_middleware(ConsentMiddleware, site="ecomarket", sites_dir=str(SITES_DIR), keys=KEYS, **options)
    return TestClient(app, base_url="https://www.ecomarket.be")


def test_asgi_middleware_exposes_consent_and_sends_both_policies_on_html():
    client = starlette_app(report_uri="https://consent.ecomarket.be/api/v1/csp-report")
    response = client.get("/", headers={"Cookie": f"gk_consent={cookie()}; _gcl_aw=1"})
    allowed, nonce = response.text[3:-4].split()
    assert allowed == "True"
    enforced = response.headers["content-security-policy"]
    report_only = response.headers["content-security-policy-report-only"]
    assert f"'nonce-{nonce}'" in enforced and f"'nonce-{nonce}'" in report_only
    assert "https://*.googleadservices.com" in enforced  # declared: allowed to load at all
    assert "https://*.googleadservices.com" not in report_only  # not granted: reported
    assert "https://*.google-analytics.com" in report_only  # granted
    assert "report-uri https://consent.ecomarket.be/api/v1/csp-report?site=ecomarket&decided=1" in report_only
    assert response.headers.get_list("set-cookie")[0].startswith('_gcl_aw=""; Max-Age=0')


def test_asgi_middleware_sends_no_policy_on_json_but_still_purges():
    response = starlette_app().get("/api", headers={"Cookie": "_ga=1"})
    assert response.json() == {"analytics": False}
    assert "content-security-policy" not in response.headers
    assert response.headers.get_list("set-cookie")[0].startswith('_ga=""; Max-Age=0')


def test_enforce_mode_narrows_the_enforced_policy_and_off_sends_none():
    enforced = starlette_app(csp="enforce").get("/").headers
    assert "content-security-policy-report-only" not in enforced
    assert "googletagmanager" not in enforced["content-security-policy"]
    assert "decided=0" in enforced["content-security-policy"]
    off = starlette_app(csp="off").get("/").headers
    assert "content-security-policy" not in off and "content-security-policy-report-only" not in off


def wsgi_call(app, environ: dict) -> tuple[str, list[tuple[str, str]], bytes]:
    started = {}

    def start_response(status, headers, exc_info=None):
        started.update(status=status, headers=headers)

    body = b"".join(app({"wsgi.url_scheme": "http", "HTTP_HOST": "shop.test", **environ}, start_response))
    return started["status"], started["headers"], body


def test_wsgi_middleware_matches_the_asgi_one():
    def shop(environ, start_response):
        consent = environ["gatekeeper"]
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [f"{consent.allows('analytics')} {consent.gpc} {consent.csp_nonce}".encode()]

    app = WSGIConsentMiddleware(shop, site="ecomarket", sites_dir=str(SITES_DIR), keys=KEYS)
    status, headers, body = wsgi_call(app, {"HTTP_COOKIE": f"gk_consent={cookie()}; _fbp=1", "HTTP_SEC_GPC": "1"})
    allowed, gpc, nonce = body.decode().split()
    assert (status, allowed, gpc) == ("200 OK", "True", "True")
    names = [k for k, _ in headers]
    assert names.count("content-security-policy") == 1 and names.count("content-security-policy-report-only") == 1
    assert f"'nonce-{nonce}'" in dict(headers)["content-security-policy"]
    assert [v for k, v in headers if k == "set-cookie"][0].startswith('_fbp=""; Max-Age=0')


def test_public_keys_alone_verify_so_the_shop_holds_no_signing_secret():
    from gatekeeper.tokens import TokenSigner

    public = ",".join(TokenSigner(["new-key", "old-key"]).public_keys)  # `gatekeeper secret --public`
    guard = Guard(site="ecomarket", sites_dir=str(SITES_DIR), keys=public)
    assert guard.consent(f"gk_consent={cookie(key='old-key')}").allows("analytics")
    assert guard.consent(f"gk_consent={cookie(key='another')}").decision is None
    assert not hasattr(guard.verifier, "sign")


# --- the preload of a returning visitor's tags ---------------------------------------------

GTAG_GA4 = "https://www.googletagmanager.com/gtag/js?id=G-ECOM12345"


def preloads(headers) -> list[str]:
    return [link for value in headers.get_list("link") for link in value.split(", ")]


@pytest.mark.parametrize("csp", ["report", "enforce", "off"])
def test_a_returning_visitors_granted_tags_are_preloaded_with_the_page(csp):
    client = starlette_app(csp=csp)
    granted = client.get("/", headers={"Cookie": f"gk_consent={cookie(('analytics',))}"})
    assert preloads(granted.headers) == [f"<{GTAG_GA4}>; rel=preload; as=script"]
    everything = client.get("/", headers={"Cookie": f"gk_consent={cookie(('analytics', 'marketing', 'social', 'personalisation'))}"})
    # As gate.js adds them: each granted service's script, then one gtag.js for every Google tag.
    assert preloads(everything.headers) == [
        "<https://connect.facebook.net/nl_BE/sdk.js>; rel=preload; as=script",
        "<https://connect.nosto.com/include/ecomarket>; rel=preload; as=script",
        f"<{GTAG_GA4}>; rel=preload; as=script",
    ]
    only_ads = client.get("/", headers={"Cookie": f"gk_consent={cookie(('marketing',))}"})
    assert preloads(only_ads.headers) == ["<https://www.googletagmanager.com/gtag/js?id=AW-987654321>; rel=preload; as=script"]


@pytest.mark.parametrize("cookies", ["", f"gk_consent={cookie(())}", f"gk_consent={cookie(key='another')}",
                                     f"gk_consent={cookie(rev=0)}"])
def test_nothing_is_preloaded_without_a_current_decision_that_grants(cookies):
    """Undecided, everything refused, a forged cookie, a stale revision: no request to a vendor."""
    response = starlette_app().get("/", headers={"Cookie": cookies} if cookies else {})
    assert "link" not in response.headers


def test_preload_is_for_pages_only_and_can_be_turned_off():
    granted = {"Cookie": f"gk_consent={cookie()}"}
    assert "link" not in starlette_app().get("/api", headers=granted).headers
    assert "link" not in starlette_app(preload=False).get("/", headers=granted).headers
    assert "link" not in starlette_app(preload=False, csp="off").get("/", headers=granted).headers


def test_wsgi_middleware_preloads_too():
    def shop(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [b"<p>shop</p>"]

    app = WSGIConsentMiddleware(shop, site="ecomarket", sites_dir=str(SITES_DIR), keys=KEYS)
    _, headers, _ = wsgi_call(app, {"HTTP_COOKIE": f"gk_consent={cookie()}"})
    assert [v for k, v in headers if k == "link"] == [f"<{GTAG_GA4}>; rel=preload; as=script"]
    _, headers, _ = wsgi_call(app, {})
    assert "link" not in dict(headers)


def test_a_preloaded_url_is_the_one_a_browser_requests():
    """Percent-encoded as a browser parses the gate's src (UTF-8, and the Link's own < >)."""
    from gatekeeper.shop.consent import preload_link

    assert preload_link(["https://cdn.example/tag é.js?a=<b>&c=%20"]) == (
        "<https://cdn.example/tag%20%C3%A9.js?a=%3Cb%3E&c=%20>; rel=preload; as=script")
    # Never the placeholder the headers are split on: the response's nonce would go to the vendor.
    assert preload_link(["https://cdn.example/t.js?cb={nonce}"]) == (
        "<https://cdn.example/t.js?cb=%7Bnonce%7D>; rel=preload; as=script")


@pytest.mark.parametrize("csp", ["report", "off"])
def test_what_depends_on_the_cookie_is_never_cached_for_another_visitor(csp):
    """The CSP and the preload follow the visitor's cookie: `Vary: Cookie` keeps a browser's
    or a shared cache from replaying a returning visitor's preload after a withdrawal, or to
    a visitor who has not chosen."""
    client = starlette_app(csp=csp)
    granted = client.get("/", headers={"Cookie": f"gk_consent={cookie()}"})
    assert "Cookie" in granted.headers.get_list("vary")
    app = WSGIConsentMiddleware(lambda e, s: s("200 OK", [("Content-Type", "text/html")]) or [b""],
                                site="ecomarket", sites_dir=str(SITES_DIR), keys=KEYS, csp=csp)
    _, headers, _ = wsgi_call(app, {"HTTP_COOKIE": f"gk_consent={cookie()}"})
    assert ("vary", "Cookie") in headers
