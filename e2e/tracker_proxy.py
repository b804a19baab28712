"""A local HTTP(S) proxy for browsers that Playwright cannot route (Firefox ESR, WebKitGTK):
tracker hosts are answered by the same stand-ins as in Chromium (gatekeeper/standins),
requests to this machine are passed through, anything else fails (there is no internet).

HTTPS to a tracker host arrives as CONNECT; the proxy ends the TLS itself with a
throwaway self-signed certificate, which the engines accept because the test sessions
ask for `acceptInsecureCerts`. Every request a browser made is kept in `requests`.
"""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
from pathlib import Path
from urllib.parse import urlsplit

from gatekeeper.audit.network import STANDINS, preset_standin, standin_for
from gatekeeper.trackers import vendor_for_url

LOCAL = {"127.0.0.1", "localhost"}
MAX_HEAD = 64 * 1024


def self_signed(directory: Path) -> ssl.SSLContext:
    key, cert = directory / "proxy.key", directory / "proxy.crt"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=gatekeeper-test-proxy",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def _read_head(conn) -> bytes | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
        if len(data) > MAX_HEAD:
            return None
    return data


def _headers(head: bytes) -> tuple[str, dict[str, str], bytes]:
    text, _, rest = head.partition(b"\r\n\r\n")
    lines = text.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return lines[0], headers, rest


class TrackerProxy:
    def __init__(self, workdir: Path):
        self.tls = self_signed(workdir)
        self.scripts = {p.name: p.read_text("utf-8") for p in STANDINS.iterdir() if p.suffix in (".js", ".html")}
        self.requests: list[str] = []
        self.lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self.listener.close()

    # --- what the tests read -----------------------------------------------------------

    def mark(self) -> int:
        with self.lock:
            return len(self.requests)

    def trackers(self, since: int = 0) -> list[str]:
        with self.lock:
            return [url for url in self.requests[since:] if vendor_for_url(url) is not None]

    # --- serving -----------------------------------------------------------------------

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(30)
        try:
            head = _read_head(conn)
            if head is None:
                return
            request_line, headers, rest = _headers(head)
            method, target, _ = request_line.split(" ", 2)
            if method == "CONNECT":
                host = target.rsplit(":", 1)[0]
                conn.sendall(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                tls = self.tls.wrap_socket(conn, server_side=True)
                self._answer_inside(tls, host)
                return
            url = target
            if urlsplit(url).hostname in LOCAL:
                self._pass_through(conn, request_line, headers, rest)
            else:
                self._answer(conn, url, headers)
        except (OSError, ValueError, ssl.SSLError):
            pass  # the browser went away mid-request
        finally:
            conn.close()

    def _answer_inside(self, tls, host: str) -> None:
        """Requests inside a CONNECT tunnel, one after another on the kept-alive connection."""
        while True:
            head = _read_head(tls)
            if head is None:
                return
            request_line, headers, _ = _headers(head)
            _, path, _ = request_line.split(" ", 2)
            self._answer(tls, f"https://{host}{path}", headers)

    def _answer(self, conn, url: str, headers: dict[str, str]) -> None:
        with self.lock:
            self.requests.append(url)
        vendor = vendor_for_url(url)
        if vendor is None:
            return self._send(conn, 502, b"no internet here", "text/plain")
        name = standin_for(url)
        if name is not None:
            return self._send(conn, 200, self.scripts[name].encode(), "application/javascript")
        kind = {"script": "script", "iframe": "document"}.get(headers.get("sec-fetch-dest", ""), "")
        generic = preset_standin(vendor.id, kind, self.scripts)
        if generic is not None:
            return self._send(conn, 200, generic[0].encode(), generic[1])
        self._send(conn, 204, b"", "text/plain")

    @staticmethod
    def _send(conn, status: int, body: bytes, content_type: str) -> None:
        reason = {200: "OK", 204: "No Content", 502: "Bad Gateway"}[status]
        head = (f"HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
                "Access-Control-Allow-Origin: *\r\nCache-Control: no-store\r\n\r\n")
        conn.sendall(head.encode() + body)

    def _pass_through(self, conn, request_line: str, headers: dict[str, str], rest: bytes) -> None:
        """A request for this machine (the shop, Gatekeeper), as the origin form, one per
        connection (Connection: close), relayed both ways."""
        method, target, version = request_line.split(" ", 2)
        parts = urlsplit(target)
        with self.lock:
            self.requests.append(target)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        kept = {k: v for k, v in headers.items() if k not in ("proxy-connection", "connection", "keep-alive")}
        head = f"{method} {path} {version}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in kept.items()) + "Connection: close\r\n\r\n"
        upstream = socket.create_connection((parts.hostname, parts.port or 80), timeout=30)
        try:
            upstream.sendall(head.encode("latin-1") + rest)
            length = int(headers.get("content-length", "0") or 0) - len(rest)
            while length > 0:
                chunk = conn.recv(min(length, 65536))
                if not chunk:
                    break
                upstream.sendall(chunk)
                length -= len(chunk)
            while chunk := upstream.recv(65536):
                conn.sendall(chunk)
        finally:
            upstream.close()
