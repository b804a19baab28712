"""Signed receipts: an EdDSA JWT over a consent's records and chain positions, verified here
with PyJWT (not joserfc, which signed it) against the server's JWKS; key rotation; the
visitor's own "download my receipt"."""

import json

import jwt
import pytest
from click.testing import CliRunner

from gatekeeper.cli import main
from gatekeeper.receipt_tokens import ReceiptKeyError, ReceiptSigner

CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"
HEADERS = {"Content-Type": "application/json", "Origin": "http://testserver", "User-Agent": CHROME}


def new_key() -> str:
    result = CliRunner().invoke(main, ["secret", "--receipt"])
    assert result.exit_code == 0
    return result.output.strip()


def decide(client, categories: dict) -> str:
    body = {"site": "ecomarket", "categories": categories, "revision": 1, "language": "nl"}
    answer = client.post("/api/v1/consent", content=json.dumps(body), headers=HEADERS)
    assert answer.status_code == 201, answer.text
    return answer.json()["consent_id"]


def verified(token: str, jwks: dict) -> dict:
    """PyJWT: the key chosen by the token's kid from the JWKS, EdDSA only."""
    kid = jwt.get_unverified_header(token)["kid"]
    [key] = [jwt.PyJWK(k) for k in jwks["keys"] if k["kid"] == kid]
    return jwt.decode(token, key=key, algorithms=["EdDSA"], options={"require": ["iss", "sub", "iat"]})


NONE = {"analytics": False, "marketing": False, "social": False, "personalisation": False}


def test_a_receipt_verifies_with_another_library_against_the_jwks(make_client, database_url):
    client = make_client(database_url=database_url, receipt_keys=new_key())
    consent_id = decide(client, NONE | {"analytics": True})
    decide(client, NONE)  # a later change of mind, same consent id (the cookie)
    answer = client.get(f"/api/v1/consent/{consent_id}")
    assert answer.status_code == 200
    document = answer.json()
    jwks = client.get("/.well-known/jwks.json")
    assert jwks.headers["access-control-allow-origin"] == "*"
    assert document["jwks_uri"] == "http://testserver/.well-known/jwks.json"
    claims = verified(document["receipt"], jwks.json())
    assert claims["sub"] == consent_id and claims["site"] == "ecomarket" and claims["iss"] == "http://testserver"
    first, second = claims["decisions"]
    assert first["categories"]["analytics"] is True and second["categories"]["analytics"] is False
    assert (first["action"], second["action"]) == ("grant", "refuse")
    for signed, shown in zip(claims["decisions"], reversed(document["records"])):
        assert signed["seq"] == shown["chain"]["seq"] and signed["record_hash"] == shown["chain"]["record_hash"]
        assert signed["text_hash"] == shown["text_hash"] and signed["revision"] == 1 and signed["at"].endswith("Z")
    assert second["prev_hash"] == first["record_hash"]  # consecutive in the site's chain

    forged = document["receipt"].split(".")
    forged[1] = forged[1][:-4] + ("AAAA" if forged[1][-4:] != "AAAA" else "BBBB")
    with pytest.raises(jwt.InvalidSignatureError):
        verified(".".join(forged), jwks.json())


def test_rotation_signs_with_the_newest_key_and_publishes_all(make_client):
    old, new = new_key(), new_key()
    before = make_client(receipt_keys=old)
    consent_id = decide(before, NONE)
    old_receipt = before.get(f"/api/v1/consent/{consent_id}").json()["receipt"]
    after = make_client(receipt_keys=f"{new},{old}")
    jwks = after.get("/.well-known/jwks.json").json()
    assert [k["kid"] for k in jwks["keys"]] == ReceiptSigner([new, old]).kids
    assert all(set(k) == {"kty", "crv", "x", "kid", "alg", "use"} for k in jwks["keys"])  # no private part
    assert verified(old_receipt, jwks)["sub"] == consent_id  # receipts already handed out still verify
    assert jwt.get_unverified_header(after.get(f"/api/v1/consent/{consent_id}").json()["receipt"])["kid"] == jwks["keys"][0]["kid"]


def test_a_development_key_is_generated_once(make_client, settings, caplog):
    first = make_client().get("/.well-known/jwks.json").json()
    again = make_client().get("/.well-known/jwks.json").json()
    assert first == again
    assert "generated a development receipt signing key" in caplog.text
    with pytest.raises(ReceiptKeyError, match="key 2 is not a base64url Ed25519 seed"):
        ReceiptSigner([new_key(), "not-a-key"])


def test_download_my_receipt_reads_this_browsers_cookie(client):
    consent_id = decide(client, NONE | {"marketing": True})
    mine = client.get("/api/v1/receipt?site=ecomarket")
    assert mine.status_code == 200 and mine.json()["consent_id"] == consent_id
    assert mine.headers["content-disposition"] == f'attachment; filename="consent-receipt-{consent_id}.json"'
    assert client.get("/api/v1/receipt?site=locomail").status_code == 404  # no decision there
    client.cookies.clear()
    undecided = client.get("/api/v1/receipt?site=ecomarket")
    assert undecided.status_code == 404 and undecided.json()["error"] == "not_found"
