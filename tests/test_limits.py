"""Bad input against a real server process: huge bodies and headers, too many headers, long
numbers, a foreign Host or Origin, a client that hangs up mid-body. Each gets a 4xx with
the expected shape (never a 500), the server's memory stays bounded, responses carry
nosniff, pages a Referrer-Policy, and a 404 does not echo the request."""

import json
import re
import secrets
import socket
import time
from pathlib import Path

import pytest

from gatekeeper.limits import MAX_BODY_BYTES, MAX_HEAD_BYTES, MAX_HEADERS, bounded_int
from test_durability import free_port, start_server

MB = 1024 * 1024


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("limits")
    port = free_port()
    log = workdir / "server.log"
    process = start_server(f"sqlite:///{workdir}/consent.db", port, log, secrets.token_hex(16), "--log-level", "info")
    process.port, process.log = port, log
    yield process
    process.terminate()
    process.wait(timeout=10)


def exchange(port: int, head: bytes, body: bytes = b"", *, chunk: int = 256 * 1024, timeout: float = 20) -> tuple[int, dict, bytes]:
    """Send a raw request (the body in chunks, stopping if the server hangs up) and read
    the answer: (status, headers, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(head)
            for i in range(0, len(body), chunk):
                sock.sendall(body[i:i + chunk])
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before it was all sent: the answer is waiting
        data = b""
        while b"\r\n\r\n" not in data or len(data) < _expected(data):
            try:
                part = sock.recv(65536)
            except ConnectionResetError:
                break
            if not part:
                break
            data += part
    head_part, _, rest = data.partition(b"\r\n\r\n")
    lines = head_part.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, rest


def _expected(data: bytes) -> int:
    found = re.search(rb"content-length: *(\d+)", data, re.I)
    return data.index(b"\r\n\r\n") + 4 + int(found.group(1)) if found else 0


def request(port, method, path, *, headers=(), body=b"", host="127.0.0.1") -> tuple[int, dict, bytes]:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Connection: close", *headers]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return exchange(port, ("\r\n".join(lines) + "\r\n\r\n").encode(), body)


def test_bounded_int():
    assert bounded_int("42") == 42 and bounded_int("0") == 0
    assert [bounded_int(v) for v in ("", None, "9" * 10, "9" * 5000, "²", "٣", "-1", "1e3", " 1")] == [None] * 9


def test_oversized_bodies_are_refused_and_memory_stays_bounded(server):
    before = rss_mb(server.pid)
    form = "Content-Type: application/x-www-form-urlencoded"
    # Declared: refused before a byte of the body is read.
    status, headers, body = request(server.port, "POST", "/demo/ecomarket/cart", headers=[form], body=b"product=1&x=" + b"a" * 64 * MB)
    assert status == 413 and json.loads(body)["error"] == "body_too_large"
    # Not declared (chunked): refused once the limit is crossed while reading.
    chunk = b"%x\r\n%s\r\n" % (MB, b"a" * MB)
    head = f"POST /demo/ecomarket/cart HTTP/1.1\r\nHost: 127.0.0.1\r\n{form}\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
    status, _, _ = exchange(server.port, head, chunk * 64)
    assert status == 413
    # The consent API's own, smaller bound, as JSON.
    api = request(server.port, "POST", "/api/v1/consent", headers=["Content-Type: application/json"], body=b" " * (MAX_BODY_BYTES + 1))
    assert api[0] == 413 and json.loads(api[2])["error"] == "body_too_large"
    # Eight unfinished 16 MB headers, all at once.
    sockets = []
    for _ in range(8):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=20)
        sock.sendall(b"GET /demo/ecomarket HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ")
        sockets.append(sock)
    answers = []
    for sock in sockets:
        try:
            for _ in range(16):
                sock.sendall(b"a" * MB)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answers.append(sock.recv(65536))
        sock.close()
    assert all(a.startswith(b"HTTP/1.1 431 ") and b'"headers_too_large"' in a for a in answers), answers
    time.sleep(0.5)
    after = rss_mb(server.pid)
    assert after - before < 30, f"RSS {before:.0f} -> {after:.0f} MB"
    assert request(server.port, "GET", "/healthz")[0] == 200  # and it still serves


def test_too_many_headers_or_a_long_head_is_a_431(server):
    status, headers, body = request(server.port, "GET", "/demo/ecomarket", headers=[f"X-H{i}: 1" for i in range(MAX_HEADERS + 1)])
    assert status == 431 and json.loads(body) == {"error": "too_many_headers", "message": f"a request may have at most {MAX_HEADERS} headers"}
    assert headers["x-content-type-options"] == "nosniff"
    status, _, body = request(server.port, "GET", "/demo/ecomarket?" + "q" * MAX_HEAD_BYTES)
    assert status == 431 and json.loads(body)["error"] == "headers_too_large"


@pytest.mark.parametrize("where", ["path", "cookie", "form"])
def test_a_5000_digit_product_number_is_a_404_not_a_500(server, where):
    n = "7" * 5000
    if where == "path":
        status, _, body = request(server.port, "GET", f"/demo/ecomarket/product/{n}")
        assert status == 404 and n not in body.decode()
    elif where == "cookie":
        assert request(server.port, "GET", "/demo/ecomarket/cart", headers=[f"Cookie: cart=1-{n}-2"])[0] == 200
    else:
        form = ["Content-Type: application/x-www-form-urlencoded"]
        assert request(server.port, "POST", "/demo/ecomarket/cart", headers=form, body=f"product={n}".encode())[0] == 404


def test_a_foreign_host_or_origin_records_nothing_and_gets_no_cors(server):
    decision = json.dumps({"site": "ecomarket", "categories": {c: True for c in ("analytics", "marketing", "social", "personalisation")},
                           "revision": 1, "language": "nl"}).encode()
    headers = ["Content-Type: application/json", "Origin: http://evil.example"]
    rebound = request(server.port, "POST", "/api/v1/consent", headers=headers, body=decision, host="evil.example")
    assert rebound[0] == 400 and "access-control-allow-origin" not in rebound[1]
    foreign = request(server.port, "POST", "/api/v1/consent", headers=headers, body=decision)
    assert foreign[0] == 403 and json.loads(foreign[2])["error"] == "origin_not_allowed"
    assert "access-control-allow-origin" not in foreign[1]
    own = request(server.port, "POST", "/api/v1/consent", headers=["Content-Type: application/json", "Origin: http://127.0.0.1:1"], body=decision)
    assert own[0] in (200, 201), own  # a configured host (localhost names by default) is the server's own


def test_security_headers_and_404s_that_do_not_echo(server):
    for path in ("/gk/ecomarket.js", "/demo/ecomarket", "/gk/ecomarket/cookies", "/api/v1/consent?site=ecomarket", "/healthz"):
        status, headers, _ = request(server.port, "GET", path)
        assert status == 200 and headers.get("x-content-type-options") == "nosniff", (path, headers)
    for path in ("/demo/ecomarket", "/gk/ecomarket/cookies"):
        assert request(server.port, "GET", path)[1].get("referrer-policy") == "same-origin", path
    for path in ("/no-such-page-xyzzy", "/demo/no-such-shop-xyzzy", "/gk/no-such-shop-xyzzy.js", "/demo/ecomarket/product/99999"):
        status, headers, body = request(server.port, "GET", path)
        assert status == 404 and b"xyzzy" not in body and b"99999" not in body, (path, body)
        assert headers.get("x-content-type-options") == "nosniff"


def test_a_client_hanging_up_mid_body_is_one_info_line(server):
    mark = server.log.stat().st_size
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"POST /demo/ecomarket/cart HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nproduct=1")
        time.sleep(0.3)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and "disconnected" not in server.log.read_text()[mark:]:
        time.sleep(0.1)
    logged = server.log.read_text()[mark:]
    assert [line for line in logged.splitlines() if "disconnected" in line] != [], logged
    assert len([line for line in logged.splitlines() if "disconnected" in line]) == 1, logged
    assert "Traceback" not in logged and "ERROR" not in logged, logged
