"""Bounds on what one request may make the server hold: its head (request line and headers),
its number of headers, its body, and the integers parsed from it.

The head is bounded in the HTTP protocol itself (uvicorn's httptools parser buffers a
header until it ends, so an ASGI middleware would see it too late); everything else in a
small ASGI guard in front of the application. Every refusal is a JSON error, never a 500.
"""

from __future__ import annotations

import json
import logging

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .errors import BodyTooLarge

MAX_HEAD_BYTES = 16 * 1024  # request line and headers together
MAX_HEADERS = 100
MAX_BODY_BYTES = 64 * 1024  # any form or JSON body; the consent API allows less (decisions.py)
MAX_INT_DIGITS = 9  # product numbers, counts: far below Python's 4,300-digit int() limit

log = logging.getLogger("gatekeeper")


def bounded_int(value: str | None, digits: int = MAX_INT_DIGITS) -> int | None:
    """A non-negative whole number of at most `digits` ASCII digits, else None.

    isdecimal alone is not enough: "²" is decimal-ish for isdigit, "٣" for isdecimal, and a
    5,000-digit string makes int() raise; so ASCII digits only, and few of them.
    """
    if value and len(value) <= digits and value.isascii() and value.isdecimal():
        return int(value)
    return None


def _error(status: int, code: str, message: str) -> bytes:
    return json.dumps({"error": code, "message": message}).encode()


class HeadLimitProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol answering 431 and closing when a request's head grows
    past MAX_HEAD_BYTES before it ends (unfinished giant headers held memory unbounded)."""

    _head_bytes = 0
    _in_body = False

    def data_received(self, data: bytes) -> None:
        if not self._in_body:
            # Checked before the parser buffers it; "\r\n\r\n" split across two reads is at
            # worst three bytes over.
            end = data.find(b"\r\n\r\n")
            self._head_bytes += len(data) if end < 0 else end + 4
            if self._head_bytes > MAX_HEAD_BYTES:
                return self._refuse()
        super().data_received(data)

    def _refuse(self) -> None:
        if self.transport.is_closing():
            return
        body = _error(431, "headers_too_large", f"the request line and headers may be at most {MAX_HEAD_BYTES} bytes")
        self.transport.write(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\n"
            b"x-content-type-options: nosniff\r\nconnection: close\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )
        self.transport.close()

    def on_headers_complete(self) -> None:
        self._in_body = True
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._in_body, self._head_bytes = False, 0
        super().on_message_complete()


class RequestLimits:
    """ASGI guard: too many headers is a 431, a body over MAX_BODY_BYTES a 413 (declared, or
    found while reading it, through the application's own error answer)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = scope["headers"]
        if len(headers) > MAX_HEADERS:
            return await _send_json(send, 431, "too_many_headers", f"a request may have at most {MAX_HEADERS} headers")
        length = next((v for k, v in headers if k == b"content-length"), None)
        if length is not None and (bounded_int(length.decode("latin-1"), 12) or 0) > MAX_BODY_BYTES:
            return await _send_json(send, 413, "body_too_large", f"the body may be at most {MAX_BODY_BYTES} bytes")
        received = 0

        async def bounded_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > MAX_BODY_BYTES:
                    raise BodyTooLarge(f"the body may be at most {MAX_BODY_BYTES} bytes")
            return message

        await self.app(scope, bounded_receive, send)


async def _send_json(send, status: int, code: str, message: str) -> None:
    body = _error(status, code, message)
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"x-content-type-options", b"nosniff"), (b"connection", b"close"),
    ]})
    await send({"type": "http.response.body", "body": body})
