"""`gatekeeper serve`'s HTTP protocol sends each answer in one piece (http_protocol.py),
counted by the client's own kernel: TCP_INFO's tcpi_data_segs_in (Linux 4.6+) is the
number of segments with data this socket received. Loopback carries one write as one
segment, so uvicorn's two writes per answer (head, then body) would count two."""

from __future__ import annotations

import json
import secrets
import socket
import struct
import sys

import pytest

from test_api import CHROME
from test_durability import free_port, start_server

TCPI_DATA_SEGS_IN = 152  # offset in struct tcp_info (include/uapi/linux/tcp.h)

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="TCP_INFO is Linux's")


@pytest.fixture(scope="module")
def port(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("protocol")
    port = free_port()
    process = start_server(f"sqlite:///{workdir}/consent.db", port, workdir / "server.log", secrets.token_hex(16))
    yield port
    process.terminate()
    process.wait(timeout=10)


def data_segments_in(sock: socket.socket) -> int:
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    return struct.unpack_from("I", info, TCPI_DATA_SEGS_IN)[0]


def answer(sock: socket.socket) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")))
    while len(body) < length:
        body += sock.recv(65536)
    return head, body


def test_each_answer_is_one_segment_on_a_keep_alive_connection(port):
    body = json.dumps({"site": "locomail", "categories": {"analytics": True}, "revision": 1, "language": "nl"}).encode()
    post = (f"POST /api/v1/consent HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: http://127.0.0.1:{port}\r\n"
            f"User-Agent: {CHROME}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
    get = f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        before = data_segments_in(sock)
        statuses = []
        for request in (post, get, post, b"POST /api/v1/consent HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\n{}"):
            sock.sendall(request)
            head, _ = answer(sock)
            statuses.append(int(head.split(b" ")[1]))
        assert statuses == [201, 200, 201, 415]
        assert data_segments_in(sock) - before == 4


def test_an_answer_that_closes_the_connection_is_sent_whole_first(port):
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while part := sock.recv(65536):
            data += part
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ") and json.loads(body)["status"] == "ok"
