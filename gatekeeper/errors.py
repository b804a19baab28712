"""One error hierarchy: each class carries its status and stable code.

API paths answer JSON `{"error": code, "message": …}`; other paths a short text page.
Never a stack trace.
"""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from .metrics import refusals

log = logging.getLogger("gatekeeper")


class GatekeeperError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, **details) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(GatekeeperError):
    status, code = 404, "not_found"


class UnknownSite(GatekeeperError):
    status, code = 404, "unknown_site"


class OriginNotAllowed(GatekeeperError):
    status, code = 403, "origin_not_allowed"


class BodyTooLarge(GatekeeperError):
    status, code = 413, "body_too_large"


class UnsupportedMediaType(GatekeeperError):
    status, code = 415, "unsupported_media_type"


class InvalidJSON(GatekeeperError):
    status, code = 400, "invalid_json"


class InvalidField(GatekeeperError):
    status, code = 422, "invalid_field"


class UnknownCategory(GatekeeperError):
    status, code = 422, "unknown_category"


class MissingCategory(GatekeeperError):
    status, code = 422, "missing_category"


class StaleRevision(GatekeeperError):
    status, code = 409, "stale_revision"


class NotRecorded(GatekeeperError):
    status, code = 503, "not_recorded"


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
