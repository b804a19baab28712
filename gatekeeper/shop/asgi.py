"""`ConsentMiddleware` for ASGI apps (Starlette, FastAPI, Django's ASGI handler): the
request's Consent in `scope["gatekeeper"]`, the CSP and expired cookies on the response.
"""

from __future__ import annotations

from collections.abc import Sequence

from .consent import CspMode, Guard


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str:
    """All values of a request header, joined as a proxy would (cookies by '; ')."""
    values = [v.decode("latin-1") for k, v in headers if k == name]
    return "; ".join(values) if name == b"cookie" else (values[0] if values else "")


class ConsentMiddleware:
    def __init__(
        self,
        app,
        *,
        site: str,
        sites_dir: str,
        keys: str | Sequence[str],
        csp: CspMode = "report",
        report_uri: str | None = None,
    ) -> None:
        self.app = app
        self.guard = Guard(site=site, sites_dir=sites_dir, keys=keys, csp=csp, report_uri=report_uri)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = scope.get("headers") or []
        consent, names = self.guard.consent(_header(headers, b"cookie"), _header(headers, b"sec-gpc"))
        scope["gatekeeper"] = consent
        host = _header(headers, b"host")
        secure = scope.get("scheme") == "https"

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                response_headers = list(message.get("headers") or [])
                content_type = next((v for k, v in response_headers if k.lower() == b"content-type"), b"")
                added = self.guard.headers(consent, names, host, secure, content_type.startswith(b"text/html"))
                if added:
                    response_headers += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in added]
                    message = {**message, "headers": response_headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
