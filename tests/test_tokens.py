import base64
import hashlib
import hmac
import json
import time

import msgspec
import pytest

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from gatekeeper.tokens import ConsentToken, TokenSigner, TokenVerifier, private_key


@pytest.fixture
def token():
    return ConsentToken(site="ecomarket", id="abc123", granted=("analytics",), rev=1, iat=int(time.time()))


def payload_of(value: str) -> dict:
    data = value.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))


def test_payload_is_plain_json_the_bundle_can_read(token):
    value = TokenSigner(["k1"]).sign(token)
    assert payload_of(value) == {"site": "ecomarket", "id": "abc123", "granted": ["analytics"], "rev": 1, "iat": token.iat, "v": 2}
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


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_the_signature_is_ecdsa_p256_sha256_over_the_payload_text_as_webcrypto_checks_it(token):
    """r‖s (IEEE P1363, WebCrypto's format), verifiable with nothing but the public key."""
    value = TokenSigner(["k1"]).sign(token)
    payload, signature = value.split(".")
    raw = base64.urlsafe_b64decode(signature + "==")
    assert len(raw) == 64
    point = base64.urlsafe_b64decode(TokenSigner(["k1"]).public_keys[0] + "=")
    assert len(point) == 65 and point[0] == 4  # uncompressed: WebCrypto's "raw" import
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public.verify(der, payload.encode(), ec.ECDSA(hashes.SHA256()))  # raises if it does not hold


def test_a_backend_verifies_with_the_public_keys_alone(token):
    signer = TokenSigner(["new", "old"])
    verifier = TokenVerifier(signer.public_keys)
    assert verifier.verify(signer.sign(token)) == token
    assert verifier.verify(TokenSigner(["old"]).sign(token)) == token
    assert not hasattr(verifier, "sign")


def test_the_same_secret_gives_the_same_key_in_every_process():
    assert TokenSigner(["k1"]).public_keys == TokenSigner(["k1"]).public_keys != TokenSigner(["k2"]).public_keys
    assert private_key("k1").private_numbers() == private_key("k1").private_numbers()


def test_a_key_not_listed_fails_closed_even_for_a_perfect_token(token):
    stranger = ec.generate_private_key(ec.SECP256R1())
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
    payload = TokenSigner(["k1"]).sign(token).split(".")[0]
    r, s = decode_dss_signature(stranger.sign(payload.encode(), ec.ECDSA(hashes.SHA256())))
    assert TokenSigner(["k1"]).verify(f"{payload}.{b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}") is None


def test_an_hmac_token_of_format_1_reads_as_undecided(token):
    """Cookies from before the switch to ECDSA: those visitors are asked once again."""
    old = ConsentToken(site=token.site, id=token.id, granted=token.granted, rev=token.rev, iat=token.iat, v=1)
    payload = b64(msgspec.json.encode(old))
    value = f"{payload}.{b64(hmac.new(b'k1', payload.encode(), hashlib.sha256).digest())}"  # its shape
    assert TokenSigner(["k1"]).verify(value) is None


@pytest.mark.parametrize("value", ["", "garbage", "a.b.c", "é.x", "x" * 5000, None, "eyJ9.sig", "eyJ9." + "A" * 86,
                                   "e.yJ9." + "A" * 86, "eyJ9." + "A" * 85 + "="])
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


def test_tokens_asked_for_in_one_loop_turn_are_signed_together_after_it():
    """sign_soon: the consent POSTs one commit answers ask in one turn and get their
    signatures back to back (OpenSSL's tables still in the cache), each its own and valid."""
    import asyncio

    signer = TokenSigner(["k1"])
    events: list[str] = []
    plain_sign = signer.sign

    def sign(token):
        events.append(f"sign {token.id}")
        return plain_sign(token)

    signer.sign = sign
    tokens = [ConsentToken(site="ecomarket", id=f"id{i}", granted=("analytics",), rev=1, iat=int(time.time()))
              for i in range(4)]

    async def ask(token):
        events.append(f"ask {token.id}")
        return await signer.sign_soon(token)

    async def run():
        first = await asyncio.gather(*(ask(t) for t in tokens))
        later = await ask(tokens[0])  # a later turn: a batch of its own
        return first, later

    signed, later = asyncio.run(run())
    assert events == [f"ask id{i}" for i in range(4)] + [f"sign id{i}" for i in range(4)] + ["ask id0", "sign id0"]
    assert [signer.verify(value) for value in signed] == tokens
    assert signer.verify(later) == tokens[0]


def test_a_failed_signature_fails_only_its_own_request():
    import asyncio

    signer = TokenSigner(["k1"])
    plain_sign = signer.sign
    signer.sign = lambda token: (_ for _ in ()).throw(RuntimeError("no")) if token.id == "bad" else plain_sign(token)
    tokens = [ConsentToken(site="ecomarket", id=i, granted=(), rev=1, iat=int(time.time())) for i in ("a", "bad", "b")]

    async def run():
        return await asyncio.gather(*(signer.sign_soon(t) for t in tokens), return_exceptions=True)

    a, bad, b = asyncio.run(run())
    assert isinstance(bad, RuntimeError)
    assert signer.verify(a) == tokens[0] and signer.verify(b) == tokens[2]


def test_event_loops_in_two_threads_each_get_their_own_signatures():
    """Two servers on one app (one event loop per thread) share one signer: each loop's
    batch is its own, signed in its own thread, and no request waits for another loop."""
    import asyncio
    import threading

    signer = TokenSigner(["k1"])
    tokens = {name: [ConsentToken(site="ecomarket", id=f"{name}{i}", granted=(), rev=1, iat=int(time.time()))
                     for i in range(300)] for name in ("a", "b")}
    signed: dict[str, list[str]] = {}
    start = threading.Barrier(2)

    def serve(name):
        async def run():
            start.wait()
            values = []
            for chunk in range(0, 300, 30):  # many turns, each with a batch of 30
                values += await asyncio.wait_for(
                    asyncio.gather(*(signer.sign_soon(t) for t in tokens[name][chunk : chunk + 30])), 10)
            return values

        signed[name] = asyncio.run(run())

    threads = [threading.Thread(target=serve, args=(name,)) for name in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert [signer.verify(v) for v in signed["a"]] == tokens["a"]
    assert [signer.verify(v) for v in signed["b"]] == tokens["b"]
    assert signer._asked == {}, "nothing left asked for"
