"""gatekeeper.shop in the real frameworks: the Django middleware and context processor
through Django's test client, the Flask extension through Flask's, each rendering a
template that asks the Consent, and FastAPI's dependency through its test client (the
browser tests run the README's example shops)."""

import time

import pytest

from gatekeeper.tokens import ConsentToken, TokenSigner

from conftest import REPO, SITES_DIR

KEYS = "shop-key"


def cookie(granted=("analytics",), key=KEYS) -> str:
    return TokenSigner([key]).sign(ConsentToken(site="ecomarket", id="c1", granted=granted, rev=1, iat=int(time.time())))


OPTIONS = {"site": "ecomarket", "sites_dir": SITES_DIR, "keys": KEYS, "csp": "report"}


# --- Django ------------------------------------------------------------------------------

TEMPLATE = (
    "{% if gatekeeper.allowed.analytics %}analytics{% else %}no-analytics{% endif %} "
    "{{ gatekeeper.csp_nonce }} {{ gatekeeper.script_tag }}"
)


@pytest.fixture(scope="module")
def django_client():
    import django
    from django.conf import settings
    from django.http import HttpResponse, JsonResponse
    from django.shortcuts import render
    from django.urls import path

    def page(request):
        response = render(request, "page.html")
        response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"  # the shop's own policy stays
        return response

    def api(request):
        return JsonResponse({"marketing": request.gatekeeper.allows("marketing"), "gpc": request.gatekeeper.gpc})

    urls = type("urls", (), {"urlpatterns": [path("page", page), path("api", api), path("plain", lambda r: HttpResponse("x"))]})
    if not settings.configured:
        settings.configure(
            DEBUG=False, ALLOWED_HOSTS=["www.ecomarket.be", "testserver"], ROOT_URLCONF=urls, GATEKEEPER=OPTIONS,
            MIDDLEWARE=["gatekeeper.shop.django.ConsentMiddleware", "django.middleware.locale.LocaleMiddleware"],
            LANGUAGE_CODE="en-us", LANGUAGES=[("en", "English"), ("de", "Deutsch")],
            TEMPLATES=[{
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "OPTIONS": {"context_processors": ["gatekeeper.shop.django.consent"],
                            "loaders": [("django.template.loaders.locmem.Loader", {"page.html": TEMPLATE})]},
            }],
        )
        django.setup()
    from django.test import Client

    return Client(HTTP_HOST="www.ecomarket.be")


def test_django_template_sees_the_consent_and_the_response_gets_both_policies(django_client):
    django_client.cookies["gk_consent"] = cookie()
    response = django_client.get("/page")
    allowed, nonce, tag = response.content.decode().split(" ", 2)
    assert allowed == "analytics"
    # The bundle of the page's language: Django's (LANGUAGE_CODE "en-us" here), not escaped.
    assert tag == f'<script src="/gk/ecomarket.js?lang=en" nonce="{nonce}" async></script>'
    german = django_client.get("/page", HTTP_ACCEPT_LANGUAGE="de-BE,de;q=0.9")  # LocaleMiddleware's choice
    assert 'src="/gk/ecomarket.js?lang=de"' in german.content.decode()
    # Without LocaleMiddleware Django's language is only its LANGUAGE_CODE setting, which need
    # not be the page's: every language's bundle, which follows the page's <html lang>.
    from django.test import Client, override_settings

    with override_settings(MIDDLEWARE=["gatekeeper.shop.django.ConsentMiddleware"]):
        unknown = Client(HTTP_HOST="www.ecomarket.be").get("/page", HTTP_ACCEPT_LANGUAGE="de-BE,de;q=0.9")
    assert 'src="/gk/ecomarket.js" nonce=' in unknown.content.decode()
    policy = response.headers["Content-Security-Policy"]
    assert policy.startswith("frame-ancestors 'none', script-src 'self' " + f"'nonce-{nonce}'")
    assert "https://*.googleadservices.com" not in response.headers["Content-Security-Policy-Report-Only"]
    assert "report-uri /api/v1/csp-report?site=ecomarket&decided=1" in response.headers["Content-Security-Policy-Report-Only"]


def test_django_middleware_expires_refused_cookies_on_each_domain_and_a_forged_cookie_reads_undecided(django_client):
    django_client.cookies["gk_consent"] = cookie()[:-4] + "AAAA"
    django_client.cookies["_ga"] = "GA1.1.1"
    django_client.cookies["_gcl_au"] = "1.1"
    response = django_client.get("/api", HTTP_SEC_GPC="1")
    assert response.json() == {"marketing": False, "gpc": True}
    assert "Content-Security-Policy" not in response.headers  # JSON: no policy
    set_cookies = [m.output(header="").strip() for m in response.cookies.values()]
    for name in ("_ga", "_gcl_au"):
        mine = sorted(c for c in set_cookies if c.startswith(f'{name}=""'))
        assert len(mine) == 3, set_cookies  # host-only, www.ecomarket.be, ecomarket.be
        assert all("Max-Age=0" in c and "expires=Thu, 01 Jan 1970 00:00:00 GMT" in c for c in mine)
        assert {c.split("Domain=")[1].split(";")[0] for c in mine if "Domain=" in c} == {"www.ecomarket.be", "ecomarket.be"}


# --- Flask -------------------------------------------------------------------------------

@pytest.fixture
def flask_app():
    from flask import Flask, jsonify, render_template_string

    from gatekeeper.shop.flask import Gatekeeper, consent

    app = Flask(__name__)
    app.config["GATEKEEPER"] = {**OPTIONS, "csp": "enforce"}
    Gatekeeper(app)

    @app.get("/page")
    def page():
        return render_template_string(
            "{% if gatekeeper.allows('analytics') %}analytics{% else %}no-analytics{% endif %} "
            "{{ gatekeeper.csp_nonce }} {{ gatekeeper.script_tag() }}"
        )

    @app.get("/api")
    def api():
        return jsonify(analytics=consent().allows("analytics"), decided=consent().decision is not None)

    return app


def test_flask_extension_exposes_consent_to_views_and_templates(flask_app):
    client = flask_app.test_client()
    client.set_cookie("gk_consent", cookie(), domain="localhost")
    assert client.get("/api").json == {"analytics": True, "decided": True}
    response = client.get("/page")
    allowed, nonce, tag = response.text.split(" ", 2)
    assert allowed == "analytics" and tag == f'<script src="/gk/ecomarket.js" nonce="{nonce}" data-gk-reload async></script>'
    enforced = response.headers["Content-Security-Policy"]
    assert f"'nonce-{nonce}'" in enforced and "https://*.google-analytics.com" in enforced
    assert "https://*.googleadservices.com" not in enforced  # enforce mode: narrowed to the decision
    assert "Content-Security-Policy-Report-Only" not in response.headers


def test_flask_undecided_visitor_gets_the_http_only_cookie_expired(flask_app):
    client = flask_app.test_client()
    client.set_cookie("_ga_ABC123", "GS1.1", domain="localhost", httponly=True)
    response = client.get("/api")
    assert response.json == {"analytics": False, "decided": False}
    assert response.headers.getlist("Set-Cookie") == ['_ga_ABC123=""; Max-Age=0; Path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT; SameSite=Lax']


# --- FastAPI -----------------------------------------------------------------------------

def fastapi_client(middleware: bool = True):
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from gatekeeper.shop.fastapi import ConsentMiddleware, RequestConsent

    app = FastAPI()
    if middleware:
        app.add_middleware(ConsentMiddleware, **OPTIONS)

    @app.get("/api")
    async def api(consent: RequestConsent):
        return {"analytics": consent.allows("analytics"), "decided": consent.decision is not None, "gpc": consent.gpc}

    return TestClient(app, base_url="https://www.ecomarket.be", raise_server_exceptions=True)


def test_fastapi_routes_get_the_consent_as_a_dependency():
    client = fastapi_client()
    client.cookies["gk_consent"] = cookie()
    client.cookies["_fbp"] = "fb.1.2"
    response = client.get("/api", headers={"Sec-GPC": "1"})
    assert response.json() == {"analytics": True, "decided": True, "gpc": True}
    assert response.headers.get_list("set-cookie")[0].startswith('_fbp=""; Max-Age=0')  # marketing: not granted
    client.cookies["gk_consent"] = cookie(key="someone-else")
    assert client.get("/api").json() == {"analytics": False, "decided": False, "gpc": False}


def test_fastapi_without_the_middleware_says_what_is_missing():
    with pytest.raises(RuntimeError, match="add gatekeeper.shop.ConsentMiddleware"):
        fastapi_client(middleware=False).get("/api")


# --- the README shows the shops the browser tests run ------------------------------------

@pytest.mark.parametrize("example", ["templates/product.html", "flask_shop.py", "django_shop.py", "starlette_shop.py", "fastapi_shop.py"])
def test_readme_shows_each_example_shop_exactly(example):
    readme = (REPO / "README.md").read_text()
    language = "jinja" if example.endswith(".html") else "python"
    marker = f"<!-- examples/{example} -->\n```{language}\n"
    assert marker in readme, f"README has no block for examples/{example}"
    shown = readme.split(marker, 1)[1].split("\n```\n", 1)[0] + "\n"
    assert shown == (REPO / "examples" / example).read_text()
