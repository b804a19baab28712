"""Log lines: the process's own and one per request, as text or JSON (GATEKEEPER_LOG_FORMAT).

A request's line carries the visitor's truncated address (visitors.truncate_ip), never a
header value: no cookie, no full address, no raw user agent. It replaces uvicorn's access
log, which prints the full address.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timezone

import click

from .visitors import truncate_ip

access = logging.getLogger("gatekeeper.access")
TEXT_FORMAT = "%(levelname)s %(name)s: %(message)s"


class JSONFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and a request's fields."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "request", {}),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(level: str, fmt: str) -> None:
    """Every logger (uvicorn's too) through one handler on stderr in the chosen format."""
    handler = logging.StreamHandler()
    handler.setFormatter(JSONFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def _shown_path(scope) -> str:
    # As sent (still percent-encoded), so a %0A in a URL cannot start a forged log line.
    raw = scope.get("raw_path") or scope["path"].encode("utf-8")
    return raw.decode("latin-1").encode("unicode_escape").decode("ascii")[:300]


def teller(fmt: str):
    """How `gatekeeper serve` says a start-up line: printed, or one JSON line when the log is JSON."""
    if fmt == "json":
        return lambda line: logging.getLogger("gatekeeper").info(" ".join(line.split()))
    return click.echo


class RequestLog:
    """ASGI middleware: one log line per HTTP request, after its answer."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or not access.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # unless an answer starts: an exception ends the request

        async def sending(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            client = scope.get("client")
            fields = {
                "method": scope["method"],
                "path": _shown_path(scope),
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "client": truncate_ip(client[0] if client else None),
            }
            access.info(
                '%s "%s %s" %d %.1fms', fields["client"] or "-", fields["method"], fields["path"], status,
                fields["duration_ms"], extra={"request": fields},
            )
