"""Headers every response gets: `X-Content-Type-Options: nosniff` (no response is ever read
as another type), and on HTML pages a `Referrer-Policy` (the shop's URLs stay on the shop).
A response that sets its own (the admin's) keeps it. And the Host check every request
passes (AllowedHosts: DNS rebinding)."""

from __future__ import annotations

from functools import lru_cache

from starlette._utils import parse_host_header
from starlette.middleware.trustedhost import TrustedHostMiddleware

NOSNIFF = (b"x-content-type-options", b"nosniff")
REFERRER_POLICY = (b"referrer-policy", b"same-origin")


class SecurityHeaders:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                nosniff = referrer = html = False
                for name, value in headers:  # a plain loop: this runs on every response
                    name = name.lower()
                    if name == NOSNIFF[0]:
                        nosniff = True
                    elif name == REFERRER_POLICY[0]:
                        referrer = True
                    elif name == b"content-type" and value.startswith(b"text/html"):
                        html = True
                if not nosniff:
                    headers.append(NOSNIFF)
                if html and not referrer:
                    headers.append(REFERRER_POLICY)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class AllowedHosts(TrustedHostMiddleware):
    """Starlette's TrustedHostMiddleware (a Host this server does not answer for gets 400),
    its verdict remembered per Host header value: a server sees a handful of them."""

    def __init__(self, app, allowed_hosts, www_redirect: bool = False) -> None:
        super().__init__(app, allowed_hosts=allowed_hosts, www_redirect=www_redirect)
        self._allowed = lru_cache(maxsize=256)(self._allows)

    def _allows(self, host: bytes) -> bool:
        """Starlette's own rule, as its __call__ applies it."""
        parsed = parse_host_header(host.decode("latin-1"))
        name = parsed.host.lower() if parsed is not None else None
        return name is not None and any(name == p or (p.startswith("*") and name.endswith(p[1:])) for p in self.allowed_hosts)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and not self.allow_any:
            host = next((v for n, v in scope["headers"] if n == b"host"), None)
            if host is not None and len(host) <= 255 and self._allowed(host):
                return await self.app(scope, receive, send)
        await super().__call__(scope, receive, send)  # Starlette's own check, and its answer
