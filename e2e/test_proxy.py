"""Behind a reverse proxy: a real proxy in front of the real server (uvicorn).

The proxy terminates "TLS" for a visitor at a public address and forwards over plain HTTP
from 127.0.0.2. It appends the address it saw to X-Forwarded-For and sets
X-Forwarded-Proto (as nginx's $proxy_add_x_forwarded_for does), or it appends its element
to the standard Forwarded header and drops any X-Forwarded-* the visitor sent (as the
README asks of a proxy that sets only Forwarded). The server believes it only when
GATEKEEPER_FORWARDED_ALLOW_IPS lists 127.0.0.2.
"""

from __future__ import annotations

import http.client
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from gatekeeper.sites import load_sites

from .server import REPO, Server

PROXY_ADDRESS = "127.0.0.2"  # the proxy's own address, as the server sees it
VISITOR = "203.0.113.77"  # the visitor's public address, as the proxy saw it
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}


class Proxy(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, upstream: str, style: str) -> None:
        super().__init__(("127.0.0.1", 0), ProxyHandler)
        self.upstream = upstream.removeprefix("http://")
        self.style = style  # "x-forwarded" or "forwarded"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class ProxyHandler(BaseHTTPRequestHandler):
    server: Proxy

    def log_message(self, *args) -> None:
        pass

    def _forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        if self.server.style == "x-forwarded":
            sent = headers.pop("X-Forwarded-For", None)
            headers["X-Forwarded-For"] = f"{sent}, {VISITOR}" if sent else VISITOR
            headers["X-Forwarded-Proto"] = "https"
        else:
            headers = {k: v for k, v in headers.items() if not k.lower().startswith("x-forwarded-")}
            sent = headers.pop("Forwarded", None)
            own = f'for={VISITOR};proto=https;by="{PROXY_ADDRESS}"'
            headers["Forwarded"] = f"{sent}, {own}" if sent else own
        host, port = self.server.upstream.split(":")
        upstream = http.client.HTTPConnection(host, int(port), timeout=10, source_address=(PROXY_ADDRESS, 0))
        try:
            upstream.request(self.command, self.path, body=body or None, headers=headers)
            answer = upstream.getresponse()
            payload = answer.read()
            self.send_response(answer.status)
            for name, value in answer.getheaders():
                if name.lower() not in HOP_BY_HOP | {"content-length"}:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        finally:
            upstream.close()

    do_GET = do_POST = do_DELETE = _forward


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """One server that trusts the proxy (logging JSON lines), and one left at the default
    (only 127.0.0.1 is believed)."""
    trusting = Server.start(
        tmp_path_factory.mktemp("trusting"), options=("--forwarded-allow-ips", PROXY_ADDRESS, "--log-format", "json")
    )
    default = Server.start(tmp_path_factory.mktemp("default"))
    yield {"trusting": trusting, "default": default}
    trusting.stop()
    default.stop()


def through_proxy(server: Server, style: str, path: str, body: dict | None = None, headers: dict | None = None,
                  scheme: str = "https"):
    proxy = Proxy(server.url, style)
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", proxy.server_address[1], timeout=15)
        # The visitor's browser is on https://<proxy>; the Origin says so.
        sent = {"User-Agent": CHROME, "Origin": f"{scheme}://127.0.0.1:{proxy.server_address[1]}", **(headers or {})}
        if body is not None:
            sent["Content-Type"] = "application/json"
        connection.request("POST" if body is not None else "GET", path, body=json.dumps(body) if body else None, headers=sent)
        answer = connection.getresponse()
        return answer.status, answer.getheaders(), answer.read()
    finally:
        proxy.shutdown()
        proxy.server_close()


def _decision() -> dict:
    site = load_sites(REPO / "sites")["ecomarket"]
    return {"site": site.id, "categories": dict.fromkeys(site.optional_categories, False), "revision": site.revision}


@pytest.mark.parametrize("style", ["x-forwarded", "forwarded"])
def test_behind_a_listed_proxy_the_cookie_is_secure_and_the_log_has_the_visitors_truncated_address(servers, style):
    server = servers["trusting"]
    mark = server.last_rowid()
    # A visitor who claims another address is not believed: the proxy appends the address
    # it saw, and that is the one taken.
    claims = {"X-Forwarded-For": "192.0.2.1", "Forwarded": "for=192.0.2.1;proto=https"}
    status, headers, body = through_proxy(server, style, "/api/v1/consent", _decision(), claims)
    assert status == 201, body
    cookie = next(v for k, v in headers if k.lower() == "set-cookie")
    assert cookie.startswith("gk_consent=") and "; Secure" in cookie
    (record,) = server.records(after=mark)
    assert record["ip"] == "203.0.113.0"
    # The server's log: JSON lines, the request's with the truncated address, no cookie.
    log = server.log()
    assert VISITOR not in log and "192.0.2.1" not in log and cookie.split(";")[0].split("=", 1)[1] not in log
    lines = [json.loads(line) for line in log.splitlines() if line.strip()]
    posted = [line for line in lines if line.get("method") == "POST"]
    assert posted[-1]["path"] == "/api/v1/consent" and posted[-1]["status"] == 201
    assert posted[-1]["client"] == "203.0.113.0" and posted[-1]["logger"] == "gatekeeper.access"


@pytest.mark.parametrize("style", ["x-forwarded", "forwarded"])
def test_a_proxy_not_listed_is_not_believed(servers, style):
    server = servers["default"]
    mark = server.last_rowid()
    # Its https claim is not taken: an https Origin is another origin than this http server.
    status, _, body = through_proxy(server, style, "/api/v1/consent", _decision())
    assert status == 403 and json.loads(body)["error"] == "origin_not_allowed"
    status, headers, body = through_proxy(server, style, "/api/v1/consent", _decision(), scheme="http")
    assert status == 201, body
    assert "; Secure" not in next(v for k, v in headers if k.lower() == "set-cookie")
    (record,) = server.records(after=mark)
    assert record["ip"] == "127.0.0.0"  # the proxy's own address: its headers were ignored


def test_the_bundle_and_healthz_answer_through_the_proxy(servers):
    status, _, body = through_proxy(servers["trusting"], "forwarded", "/healthz")
    assert status == 200 and json.loads(body)["status"] == "ok"
