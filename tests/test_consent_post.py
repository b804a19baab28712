"""The consent POST's plain ASGI endpoint (consent_post.py): where it could answer other
than a Starlette view would. The API's behaviour itself is tests/test_api.py's and
tests/test_limits.py's, which all go through this endpoint."""

from __future__ import annotations

import json

import pytest
from starlette.testclient import TestClient

from gatekeeper.cookies import COOKIE_NAME
from gatekeeper.metrics import refusals

from test_api import CHROME, decision, post

BODY = json.dumps(decision({"analytics": True})).encode()


def call(client, messages: list[dict], headers: list[tuple[bytes, bytes]] | None = None, path="/api/v1/consent"):
    """(status, headers, body) of one POST whose body arrives as `messages`, run in the app's own loop."""
    scope = {
        "type": "http", "method": "POST", "path": path, "raw_path": path.encode(), "query_string": b"",
        "headers": headers if headers is not None else [
            (b"host", b"testserver"), (b"origin", b"http://testserver"), (b"content-type", b"application/json"),
            (b"user-agent", CHROME.encode())],
        "scheme": "http", "server": ("testserver", 80), "client": ("192.0.2.1", 5000), "http_version": "1.1", "root_path": "",
    }
    pending, sent = list(messages), []

    async def receive():
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    client.portal.call(client.app, scope, receive, send)
    start = sent[0]
    return start["status"], dict(start["headers"]), b"".join(m.get("body", b"") for m in sent[1:])


def test_a_body_in_several_parts_is_read_whole(client, records):
    parts = [BODY[:10], BODY[10:30], BODY[30:]]
    status, headers, body = call(client, [{"type": "http.request", "body": p, "more_body": i < 2} for i, p in enumerate(parts)])
    assert status == 201, body
    assert headers[b"set-cookie"].startswith(COOKIE_NAME.encode() + b"=")
    assert headers[b"x-content-type-options"] == b"nosniff"  # the shared layers still saw it
    assert headers[b"access-control-allow-origin"] == b"http://testserver"
    assert json.loads(body)["consent_id"] == records()[0]["consent_id"]


def test_a_body_growing_past_the_limit_without_a_length_is_refused_and_not_recorded(client, records):
    chunk = {"type": "http.request", "body": b" " * 1024, "more_body": True}
    status, headers, body = call(client, [chunk] * 5 + [{"type": "http.request", "body": BODY, "more_body": False}])
    assert status == 413 and json.loads(body)["error"] == "body_too_large"
    assert headers[b"content-type"] == b"application/json" and records() == []


def test_a_client_gone_mid_body_is_answered_400_and_nothing_is_recorded(client, records):
    status, _, _ = call(client, [{"type": "http.request", "body": BODY[:10], "more_body": True}])
    assert status == 400 and records() == []


def test_refusals_answer_as_every_api_error_and_are_counted(client):
    before = refusals.labels("unsupported_media_type")._value.get()
    response = post(client, decision(), content_type="text/plain")
    assert response.status_code == 415 and response.json()["error"] == "unsupported_media_type"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert refusals.labels("unsupported_media_type")._value.get() == before + 1
    # No Origin, a non-numeric declared length: the same answers as before the fast path.
    assert post(client, decision(), origin=None).json()["error"] == "origin_not_allowed"
    assert post(client, decision(), headers={"Content-Length": "abc"}).status_code == 413


def test_a_host_this_server_does_not_answer_for_is_refused_even_after_an_allowed_one(client, records):
    assert call(client, [{"type": "http.request", "body": BODY, "more_body": False}])[0] == 201
    evil = [(b"host", b"evil.example"), (b"origin", b"http://testserver"), (b"content-type", b"application/json")]
    status, _, body = call(client, [{"type": "http.request", "body": BODY, "more_body": False}], headers=evil)
    assert status == 400 and body == b"Invalid host header"
    assert len(records()) == 1


@pytest.mark.parametrize("root_path", ["", "/consent-server"])
def test_under_a_root_path_the_routed_endpoint_answers_the_same(make_client, records, root_path):
    """Mounted under a prefix the request reaches the router; its route is the same endpoint."""
    client = make_client()
    routed = TestClient(client.app, base_url="http://testserver", root_path=root_path, raise_server_exceptions=False)
    with routed:
        granted = post(routed, decision({"analytics": True}))
        assert granted.status_code == 201, granted.text
        assert granted.json()["action"] == "grant" and granted.headers["set-cookie"].startswith(COOKIE_NAME + "=")
        assert post(routed, decision({"nope": True})).json()["error"] == "unknown_category"
        assert post(routed, b"{", content_type="application/json").json()["error"] == "invalid_json"
    assert [r["action"] for r in records()] == ["grant"]
