"""`ConsentMiddleware` for ASGI apps (Starlette, FastAPI, Django's ASGI handler): the
request's Consent in `scope["gatekeeper"]`; on the response the CSP, the preload of the
granted tags and the expired cookies.
"""

from __future__ import annotations

from .consent import Middleware


def _is_html(headers) -> bool:
    for name, value in headers:
        if name.lower() == b"content-type":
            return value.startswith(b"text/html")
    return False


class ConsentMiddleware(Middleware):
    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookie, gpc, host = b"", None, b""
        for name, value in scope["headers"]:  # one pass; names are lower-case in ASGI
            if name == b"cookie":
                cookie = cookie + b"; " + value if cookie else value  # as a proxy joins them
            elif name == b"host":
                host = value
            elif name == b"sec-gpc":
                gpc = value.decode("latin-1")
        guard = self.guard
        consent = guard.consent(cookie.decode("latin-1"), gpc)
        scope["gatekeeper"] = consent
        expiry = guard.expiry_headers(consent, host.decode("latin-1"), scope.get("scheme") == "https")
        if not consent.answer.raw_page_headers and not expiry:
            await self.app(scope, receive, send)  # nothing to add to any response
            return
        raw_expiry = [(b"set-cookie", v.encode("latin-1")) for _, v in expiry]

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers") or []
                added = guard.raw_page_headers(consent) + raw_expiry if _is_html(headers) else raw_expiry
                if added:
                    message = {**message, "headers": [*headers, *added]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
