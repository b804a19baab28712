"""Key rotation through the real API: the newest key signs, every listed key verifies, and a
cookie signed with a retired key reads as undecided (the banner shows again)."""

import json

from gatekeeper.cookies import COOKIE_NAME

CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"


def grant(client) -> str:
    body = {"site": "locomail", "categories": {"analytics": True}, "revision": 1, "language": "en"}
    headers = {"Content-Type": "application/json", "Origin": "http://testserver", "User-Agent": CHROME}
    answer = client.post("/api/v1/consent", content=json.dumps(body), headers=headers)
    assert answer.status_code == 201, answer.text
    return answer.cookies[COOKIE_NAME]


def state(client, cookie: str) -> str:
    client.cookies.clear()
    client.cookies.set(COOKIE_NAME, cookie)
    return client.get("/api/v1/consent?site=locomail").json()["state"]


def test_rotation_keeps_old_cookies_until_the_old_key_is_retired(make_client):
    signed_with_old = grant(make_client(secret_keys="old-key"))
    rotating = make_client(secret_keys="new-key,old-key")  # step 1: new key first, old one still listed
    assert state(rotating, signed_with_old) == "decided"
    signed_with_new = grant(rotating)
    retired = make_client(secret_keys="new-key")  # step 2: the old key is dropped
    assert state(retired, signed_with_new) == "decided"
    assert state(retired, signed_with_old) == "undecided"
