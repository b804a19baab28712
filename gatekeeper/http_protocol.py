"""The HTTP protocol `gatekeeper serve` runs: uvicorn's httptools protocol with the request
head bounded (limits.py), and each response sent in one piece.

An ASGI answer arrives as two messages, its start (status and headers) and its body, and
uvicorn writes each to the socket at once: two sends, two TCP segments (the socket has
TCP_NODELAY), two wake-ups of the reader, for a consent answer of a few hundred bytes.
Here what is written during one turn of the event loop goes out together at the end of
that turn (or before the connection closes): an answer written in one go, such as every
API answer and page, is one send. A streamed body still goes out piece by piece, each
piece at most one loop turn later; and once 64 KiB are waiting they go out at once, so a
large or fast-streamed answer meets the real transport's flow control (uvicorn pauses the
app when that transport's buffer is full) as it would without this layer.
"""

from __future__ import annotations

import asyncio

from .limits import HeadLimitProtocol

# Written at once from this size on: the real transport's high-water mark (64 KiB by
# default) then pauses writing as it would for uvicorn's own writes.
FLUSH_AT = 64 * 1024


class CoalescingTransport:
    """A transport whose writes in one loop turn become one write of the transport below."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []
        self._size = 0

    def write(self, data: bytes) -> None:
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(bytes(data))
        self._size += len(data)
        if self._size >= FLUSH_AT:
            self._flush()

    def writelines(self, lines) -> None:
        for data in lines:
            self.write(data)

    def _flush(self) -> None:
        pending, self._pending, self._size = self._pending, [], 0
        if pending and not self._transport.is_closing():
            self._transport.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def abort(self) -> None:
        self._pending.clear()
        self._size = 0
        self._transport.abort()

    def __getattr__(self, name: str):  # is_closing, get_extra_info, pause_reading, …
        return getattr(self._transport, name)


class GatekeeperProtocol(HeadLimitProtocol):
    """uvicorn's httptools protocol: head bounded, each answer one send."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # After uvicorn read the addresses and set up flow control on the real transport.
        self.transport = CoalescingTransport(transport, self.loop)  # type: ignore[assignment]
