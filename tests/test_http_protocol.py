"""`gatekeeper serve`'s HTTP protocol sends each answer in one piece (http_protocol.py),
counted by the client's own kernel: TCP_INFO's tcpi_data_segs_in (Linux 4.6+) is the
number of segments with data this socket received. Loopback carries one write as one
segment, so uvicorn's two writes per answer (head, then body) would count two."""

from __future__ import annotations

import asyncio
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


def test_pipelined_requests_are_answered_in_order_each_whole(port):
    """GET, HEAD and a closing GET sent in one write: three answers, in order, then EOF."""
    host = f"Host: 127.0.0.1:{port}\r\n"
    requests = (f"GET /healthz HTTP/1.1\r\n{host}\r\n" f"HEAD /healthz HTTP/1.1\r\n{host}\r\n"
                f"GET /openapi.json HTTP/1.1\r\n{host}Connection: close\r\n\r\n")
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(requests.encode())
        data = b""
        while part := sock.recv(65536):
            data += part
    first, _, rest = data.partition(b"\r\n\r\n")
    length = int(next(line.split(b":")[1] for line in first.split(b"\r\n") if line.lower().startswith(b"content-length:")))
    assert first.startswith(b"HTTP/1.1 200 ") and json.loads(rest[:length])["status"] == "ok"
    head, _, rest = rest[length:].partition(b"\r\n\r\n")  # HEAD: a head and no body
    assert head.startswith(b"HTTP/1.1 200 ")
    last, _, body = rest.partition(b"\r\n\r\n")
    assert last.startswith(b"HTTP/1.1 200 ") and json.loads(body)["openapi"].startswith("3.")


def test_a_large_answer_reaches_the_real_transport_without_waiting_for_the_loop_turn():
    """Flow control: uvicorn pauses the app when the transport's buffer is full, which it can
    only see if large writes reach that transport at once, not at the end of the turn."""
    from gatekeeper.http_protocol import FLUSH_AT, CoalescingTransport

    async def main():
        loop = asyncio.get_running_loop()
        ours, theirs = socket.socketpair()
        theirs.setblocking(False)
        transport, _ = await loop.create_connection(asyncio.Protocol, sock=ours)
        transport.set_write_buffer_limits(high=1)  # nothing the kernel won't take stays hidden
        coalescing = CoalescingTransport(transport, loop)
        coalescing.write(b"x" * 100)
        small_sent_at_once = transport.get_write_buffer_size()
        received_before_turn = len(theirs.recv(1 << 20)) if _readable(theirs) else 0
        for _ in range(FLUSH_AT // 8192 + 1):
            coalescing.write(b"y" * 8192)
        received_at_once = 0
        while _readable(theirs):
            received_at_once += len(theirs.recv(1 << 20))
        coalescing.close()
        theirs.close()
        return small_sent_at_once, received_before_turn, received_at_once

    small, before_turn, at_once = asyncio.run(main())
    assert (small, before_turn) == (0, 0), "a small write waits for the end of the loop turn"
    assert at_once >= FLUSH_AT, "64 KiB waiting go to the real transport at once"


def _readable(sock: socket.socket) -> bool:
    import select

    return bool(select.select([sock], [], [], 0.2)[0])
