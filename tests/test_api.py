import json

import pytest
from starlette.testclient import TestClient

from gatekeeper.app import create_app
from gatekeeper.settings import Settings

from gatekeeper.cookies import COOKIE_NAME

ORIGIN = "http://testserver"
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"
ALL_OFF = {"analytics": False, "marketing": False, "social": False, "personalisation": False}


def post(client, body, origin=ORIGIN, content_type="application/json", ua=CHROME, base="", headers=None, **kwargs):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    headers = {"Content-Type": content_type, "User-Agent": ua, **(headers or {})}
    if origin:
        headers["Origin"] = origin
    return client.post(f"{base}/api/v1/consent", content=data, headers=headers, **kwargs)


def decision(categories=None, site="ecomarket", revision=1, **extra):
    return {"site": site, "categories": ALL_OFF | (categories or {}), "revision": revision, "language": "nl", **extra}


def test_grant_is_recorded_signed_and_set_as_cookie(client, records):
    response = post(client, decision({"analytics": True}))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "recorded" and body["action"] == "grant"
    assert body["decision"]["categories"] == {"necessary": True, **ALL_OFF, "analytics": True}
    set_cookie = response.headers["set-cookie"]
    assert set_cookie.startswith(f"{COOKIE_NAME}={body['token']};")
    assert "Max-Age=15724800" in set_cookie and "SameSite=Lax" in set_cookie and "Path=/" in set_cookie
    assert "HttpOnly" not in set_cookie  # the bundle reads it without a round trip
    assert "Domain" not in set_cookie  # testserver is not within ecomarket.be
    [row] = records()
    assert row["consent_id"] == body["consent_id"] and row["site"] == "ecomarket" and row["action"] == "grant"
    assert json.loads(row["categories"]) == body["decision"]["categories"]
    assert (row["revision"], row["language"], row["source"]) == (1, "nl", "banner")
    assert (row["ua_browser"], row["ua_os"], row["ua_device"]) == ("Chrome", "Linux", "desktop")
    assert len(row["text_hash"]) == 64
    assert row["created_at"]


def test_cookie_domain_applies_on_the_shops_own_host(make_client):
    client = make_client()
    response = post(client, decision(), origin="https://www.ecomarket.be", base="https://www.ecomarket.be")
    assert response.status_code == 201
    assert "Domain=ecomarket.be" in response.headers["set-cookie"] and "Secure" in response.headers["set-cookie"]
    assert response.headers["access-control-allow-origin"] == "https://www.ecomarket.be"
    assert response.headers["access-control-allow-credentials"] == "true"


def test_a_later_decision_keeps_the_consent_id_and_each_action_says_what_was_decided(client, records):
    first = post(client, decision())
    assert first.status_code == 201 and first.json()["action"] == "refuse"  # a first refusal is no grant
    second = post(client, decision({"marketing": True}, source="preferences"))
    third = post(client, decision(source="preferences"))
    assert second.json()["consent_id"] == third.json()["consent_id"] == first.json()["consent_id"]
    assert [second.json()["action"], third.json()["action"]] == ["grant", "refuse"]
    assert [r["action"] for r in records()] == ["refuse", "grant", "refuse"]


def test_get_reads_the_verified_decision(client):
    assert client.get("/api/v1/consent?site=ecomarket").json() == {"state": "undecided", "site": "ecomarket"}
    post(client, decision({"social": True}))
    body = client.get("/api/v1/consent?site=ecomarket").json()
    assert body["state"] == "decided" and body["decision"]["categories"]["social"] is True
    # A changed character in the middle of the signature ("xx" at the very end was a no-op
    # about once in 256 runs: the last base64url character carries only two bits).
    value = client.cookies[COOKIE_NAME]
    tampered = value[:-10] + ("A" if value[-10] != "A" else "B") + value[-9:]
    client.cookies.clear()
    client.cookies.set(COOKIE_NAME, tampered)
    assert client.get("/api/v1/consent?site=ecomarket").json()["state"] == "undecided"


def test_withdrawal_is_logged_clears_cookie_and_expires_declared_cookies(client, records):
    granted = post(client, decision({"analytics": True, "marketing": True})).json()
    client.cookies.set("_ga", "GA1.1.1.1")
    client.cookies.set("_ga_ECOM12345", "GS1.1")
    client.cookies.set("_gcl_au", "1.1.1")
    client.cookies.set("_fbp", "fb.1.1")  # not declared by ecomarket, but a marketing cookie the browser deletes too
    client.cookies.set("cart", "3")
    response = client.request(
        "DELETE", "/api/v1/consent", content=json.dumps({"site": "ecomarket"}),
        headers={"Content-Type": "application/json", "Origin": ORIGIN, "User-Agent": CHROME},
    )
    assert response.status_code == 200, response.text
    assert response.json()["consent_id"] == granted["consent_id"]
    set_cookies = response.headers.get_list("set-cookie")
    expired = {h.split("=")[0] for h in set_cookies if "Max-Age=0" in h}
    assert expired == {COOKIE_NAME, "_ga", "_ga_ECOM12345", "_gcl_au", "_fbp"}  # never the cart
    # The Set-Cookie headers are the answer; no undocumented header repeats them.
    assert not any(name.lower().startswith("x-gatekeeper") for name in response.headers)
    withdraw = records()[-1]
    assert withdraw["action"] == "withdraw" and json.loads(withdraw["categories"]) == {"necessary": True, **ALL_OFF}


def test_withdrawal_skips_cookie_names_it_cannot_write_back(client):
    post(client, decision({"analytics": True}))
    response = client.request(
        "DELETE", "/api/v1/consent", content=json.dumps({"site": "ecomarket"}),
        headers={"Content-Type": "application/json", "Origin": ORIGIN, "User-Agent": CHROME,
                 "Cookie": f"{COOKIE_NAME}={client.cookies[COOKIE_NAME]}; _ga_a,b=1; _ga_ok=1"},
    )
    assert response.status_code == 200
    expired = {h.split("=")[0] for h in response.headers.get_list("set-cookie") if "Max-Age=0" in h}
    assert expired == {COOKIE_NAME, "_ga_ok"}


def test_receipt_lists_every_record_of_a_consent_id(client):
    consent_id = post(client, decision({"analytics": True})).json()["consent_id"]
    post(client, decision())
    receipt = client.get(f"/api/v1/consent/{consent_id}")
    assert receipt.status_code == 200
    assert [r["action"] for r in receipt.json()["records"]] == ["refuse", "grant"]
    assert "ip" not in receipt.json()["records"][0]
    missing = client.get("/api/v1/consent/doesnotexist")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"


def test_receipt_shows_the_text_and_config_the_visitor_saw(client):
    consent_id = post(client, decision({"analytics": True}, language="fr")).json()["consent_id"]
    body = client.get(f"/api/v1/consent/{consent_id}").json()
    [record] = body["records"]
    shown = body["texts"][record["text_hash"]]
    assert shown["verified"] is True and shown["language"] == "fr"
    assert "Tout refuser" in shown["text"] and "Vos préférences" in shown["text"]
    assert "États-Unis" in shown["text"]  # the preferences layer, in French
    assert shown["config"]["site"] == "ecomarket" and shown["config"]["label"]["fr"] == "Paramètres des cookies"
    assert '"site"' not in shown["text"]  # the config is data, not words on the banner


@pytest.mark.parametrize(
    ("source", "asked", "granted", "recorded"),
    [
        ("banner", {"analytics": True, "marketing": True}, {"analytics": True, "marketing": False}, "gpc"),
        ("banner", {}, {}, "gpc"),
        ("preferences", {"marketing": True}, {"marketing": True}, "preferences"),
        ("placeholder", {"social": True}, {"social": True}, "placeholder"),
    ],
)
def test_gpc_header_opts_out_of_marketing_and_is_recorded(client, records, source, asked, granted, recorded):
    response = post(client, decision(asked, source=source), headers={"Sec-GPC": "1"})
    assert response.status_code == 201, response.text
    assert response.json()["decision"]["categories"] == {"necessary": True, **ALL_OFF, **granted}
    assert records()[-1]["source"] == recorded


def test_without_gpc_the_source_is_the_bundles(client, records):
    post(client, decision({"marketing": True}))
    assert records()[-1]["source"] == "banner"
    assert json.loads(records()[-1]["categories"])["marketing"] is True

@pytest.mark.parametrize(
    "request_kwargs, status, code",
    [
        ({"body": decision(site="nosuchshop")}, 404, "unknown_site"),
        ({"body": decision(), "origin": "https://evil.example"}, 403, "origin_not_allowed"),
        ({"body": decision(), "origin": None}, 403, "origin_not_allowed"),
        ({"body": decision({"tracking": True})}, 422, "unknown_category"),
        ({"body": {**decision(), "categories": {"analytics": True}}}, 422, "missing_category"),
        ({"body": decision({"necessary": False})}, 422, "invalid_field"),
        ({"body": {**decision(), "source": "dark-pattern"}}, 422, "invalid_field"),
        ({"body": {**decision(), "extra": 1}}, 422, "invalid_field"),
        ({"body": "site=ecomarket", "content_type": "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"),
        ({"body": "{not json"}, 400, "invalid_json"),
        ({"body": json.dumps(decision(padding="x" * 5000))}, 413, "body_too_large"),
        ({"body": decision(revision=0)}, 409, "stale_revision"),
    ],
)
def test_bad_input_gets_a_precise_error_and_writes_nothing(client, records, request_kwargs, status, code):
    kwargs = dict(request_kwargs)
    response = post(client, kwargs.pop("body"), **kwargs)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == code and body["message"]
    assert COOKIE_NAME not in response.headers.get("set-cookie", "")
    assert records() == []


def test_a_content_length_int_cannot_read_is_refused_not_a_500(raw_status, records):
    headers = [(b"content-type", b"application/json"), (b"origin", ORIGIN.encode()), (b"content-length", b"\xb2")]
    assert raw_status("POST", "/api/v1/consent", headers, json.dumps(decision()).encode()) == 413  # "²"
    assert records() == []


def test_errors_name_the_category(client):
    body = post(client, {**decision(), "categories": {"analytics": True}}).json()
    assert body["category"] == "marketing" and "'marketing' is missing" in body["message"]
    assert "'tracking'" in post(client, decision({"tracking": True})).json()["message"]


def test_stale_revision_tells_the_client_to_ask_again(client):
    body = post(client, decision(revision=0)).json()
    assert body["revision"] == 1 and "ask the visitor again" in body["message"]


def test_bots_get_no_record_and_no_cookie(client, records):
    response = post(client, decision({"analytics": True}), ua="Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
    assert response.status_code == 200 and response.json()["status"] == "not_recorded"
    assert "set-cookie" not in response.headers
    assert records() == []


def peer_client(settings, peer: str, **overrides) -> TestClient:
    """A client whose connection comes from `peer`, as uvicorn would report it."""
    app = create_app(Settings(**{**settings.__dict__, **overrides}))
    return TestClient(app, base_url="http://testserver", client=(peer, 50000))


@pytest.mark.parametrize(
    ("peer", "stored"),
    [
        ("198.51.100.23", "198.51.100.0"),
        ("2001:db8:cafe:1:2:3:4:5", "2001:db8:cafe::"),
        ("::ffff:198.51.100.23", "198.51.100.0"),  # IPv4 on a dual-stack socket
        ("testclient", None),  # not an address: nothing stored rather than something wrong
    ],
)
def test_the_log_keeps_only_the_truncated_address(settings, records, peer, stored):
    with peer_client(settings, peer) as client:
        assert post(client, decision()).status_code == 201
    assert records()[0]["ip"] == stored


@pytest.mark.parametrize(
    ("peer", "headers", "stored", "secure"),
    [
        # A listed proxy is believed; the nearest address it did not add is the visitor's.
        ("10.1.2.3", {"X-Forwarded-For": "192.0.2.9, 203.0.113.77", "X-Forwarded-Proto": "https"}, "203.0.113.0", True),
        ("10.1.2.3", {"Forwarded": 'for=203.0.113.77;proto=https;by="[2001:db8::1]"'}, "203.0.113.0", True),
        ("10.1.2.3", {"Forwarded": 'for="[2001:db8:cafe::17]:4711";proto=http'}, "2001:db8:cafe::", False),
        ("10.1.2.3", {"Forwarded": "for=192.0.2.9, for=10.9.9.9;proto=https"}, "192.0.2.0", False),
        # Anyone else claiming to be a proxy is not.
        ("198.51.100.23", {"X-Forwarded-For": "203.0.113.77", "X-Forwarded-Proto": "https"}, "198.51.100.0", False),
        ("198.51.100.23", {"Forwarded": "for=203.0.113.77;proto=https"}, "198.51.100.0", False),
    ],
)
def test_a_listed_proxy_gives_the_visitors_address_and_scheme(settings, records, peer, headers, stored, secure):
    with peer_client(settings, peer, forwarded_allow_ips="10.0.0.0/8") as client:
        response = post(client, decision(), headers=headers, origin=("https" if secure else "http") + "://testserver")
    assert response.status_code == 201, response.text
    assert records()[0]["ip"] == stored
    assert ("; Secure" in response.headers["set-cookie"]) is secure


@pytest.mark.parametrize(("allowed", "believed"), [("*", True), ("10.0.0.0/8", False)])
def test_a_connection_without_an_address_is_a_proxy_only_when_every_peer_is(settings, records, allowed, believed):
    """A UNIX socket (gunicorn or nginx in front) has no client address: uvicorn trusts it
    only under "*", and so do we, applying X-Forwarded-* then."""
    headers = {"X-Forwarded-For": "203.0.113.77", "X-Forwarded-Proto": "https"}
    app = create_app(Settings(**{**settings.__dict__, "forwarded_allow_ips": allowed}))
    with TestClient(app, base_url="http://testserver", client=None) as client:
        response = post(client, decision(), headers=headers, origin=("https" if believed else "http") + "://testserver")
    assert response.status_code == 201, response.text
    assert records()[0]["ip"] == ("203.0.113.0" if believed else None)
    assert ("; Secure" in response.headers["set-cookie"]) is believed


def test_preflight_allows_only_site_origins(client):
    ok = client.options("/api/v1/consent", headers={"Origin": "https://www.ecomarket.be", "Access-Control-Request-Method": "POST"})
    assert ok.status_code == 204 and ok.headers["access-control-allow-origin"] == "https://www.ecomarket.be"
    denied = client.options("/api/v1/consent", headers={"Origin": "https://evil.example"})
    assert denied.status_code == 403


def test_a_failed_write_answers_503_and_sets_no_cookie(client, records, monkeypatch):
    async def broken(record):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(client.app.state.consent_log, "append", broken)
    response = post(client, decision({"analytics": True}))
    assert response.status_code == 503 and response.json()["error"] == "not_recorded"
    assert "set-cookie" not in response.headers and "Traceback" not in response.text


def test_healthz(client):
    assert client.get("/healthz").json()["status"] == "ok"


def test_healthz_answers_503_when_the_log_is_unreachable(client, monkeypatch):
    from gatekeeper.db import create_engine

    # A real engine on a closed local port: the connection is refused at once.
    monkeypatch.setattr(client.app.state, "engine", create_engine("postgresql://nobody@127.0.0.1:9/none"))
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["error"] == "database_unreachable"


def test_new_consent_ids_are_random_distinct_and_never_shared_with_a_forked_child():
    """They are read from os.urandom in blocks: each is handed out once, as
    secrets.token_urlsafe(16) would make it, and a child process (a forking server's
    worker) does not hand out the ids its parent has read ahead."""
    import os
    import re

    from gatekeeper.api import new_consent_id

    ids = [new_consent_id() for _ in range(600)]  # past two refills
    assert len(set(ids)) == 600
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22}", i) for i in ids)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its first id, to the parent
        os.write(write, new_consent_id().encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    os.close(read)
    assert len(child) == 22 and child != new_consent_id()
