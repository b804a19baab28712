"""One error hierarchy: each class carries its status and stable code.

Plain Python, no web framework: the site loader raises these, and `gatekeeper.shop`
imports the loader without Starlette. How an error answers is error_handlers.py.
"""

from __future__ import annotations


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


class RateLimited(GatekeeperError):
    status, code = 429, "rate_limited"
