"""How an error answers: API paths JSON `{"error": code, "message": …}`, other paths a
short text page. Never a stack trace. The hierarchy itself is errors.py.
"""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from .errors import GatekeeperError
from .metrics import refusals

log = logging.getLogger("gatekeeper")


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def error_response(request: Request, status: int, code: str, message: str, **details) -> Response:
    if _is_api(request):
        refusals.labels(code).inc()
        return JSONResponse({"error": code, "message": message, **details}, status_code=status)
    return PlainTextResponse(f"{status} {message}\n", status_code=status)


async def handle_gatekeeper_error(request: Request, exc: GatekeeperError) -> Response:
    return error_response(request, exc.status, exc.code, exc.message, **exc.details)


async def handle_http_exception(request: Request, exc: HTTPException) -> Response:
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return error_response(request, exc.status_code, code, str(exc.detail))


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_response(request, 500, "internal_error", "Something went wrong on our side; nothing was recorded.")


exception_handlers = {
    GatekeeperError: handle_gatekeeper_error,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected,
}
