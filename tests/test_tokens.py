import base64
import json
import time

import pytest

from gatekeeper.tokens import ConsentToken, TokenSigner


@pytest.fixture
def token():
    return ConsentToken(site="ecomarket", id="abc123", granted=("analytics",), rev=1, iat=int(time.time()))


def payload_of(value: str) -> dict:
    data = value.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))


def test_payload_is_plain_json_the_bundle_can_read(token):
    value = TokenSigner(["k1"]).sign(token)
    assert payload_of(value) == {"site": "ecomarket", "id": "abc123", "granted": ["analytics"], "rev": 1, "iat": token.iat, "v": 1}
    assert all(c.isalnum() or c in "-_." for c in value)  # cookie-safe without quoting


def test_round_trip(token):
    signer = TokenSigner(["k1"])
    assert signer.verify(signer.sign(token)) == token


def test_flipping_one_byte_of_the_signature_fails_closed(token):
    value = TokenSigner(["k1"]).sign(token)
    flipped = value[:-3] + ("A" if value[-3] != "A" else "B") + value[-2:]
    assert TokenSigner(["k1"]).verify(flipped) is None


def test_swapped_payload_fails_closed(token):
    signer = TokenSigner(["k1"])
    value = signer.sign(token)
    forged = dict(payload_of(value), granted=["analytics", "marketing", "social"])
    data = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
    assert signer.verify(data + "." + value.split(".", 1)[1]) is None


def test_rotation_newest_signs_all_verify_retired_fails(token):
    old = TokenSigner(["old"]).sign(token)
    rotated = TokenSigner(["new", "old"])
    assert rotated.verify(old) == token
    assert TokenSigner(["new"]).verify(rotated.sign(token)) == token  # the newest key signed it
    assert TokenSigner(["new"]).verify(old) is None  # "old" retired


@pytest.mark.parametrize("value", ["", "garbage", "a.b.c", "é.x", "x" * 5000, None, "eyJ9.sig"])
def test_malformed_values_read_as_undecided(value):
    assert TokenSigner(["k1"]).verify(value) is None


def test_current_checks_site_revision_and_period(token, sites):
    signer = TokenSigner(["k1"])
    value = signer.sign(token)
    eco, loco = sites["ecomarket"], sites["locomail"]
    assert signer.current(value, eco) == token
    assert signer.current(value, loco) is None  # another site's token
    assert signer.current(value, eco, now=token.iat + eco.consent_days * 86400 + 1) is None  # expired
    stale = signer.sign(ConsentToken(site="ecomarket", id="x", granted=(), rev=0, iat=token.iat))
    assert signer.current(stale, eco) is None  # revision bumped since


def test_keys_are_required():
    with pytest.raises(ValueError):
        TokenSigner([])
