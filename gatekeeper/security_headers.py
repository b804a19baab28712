"""Headers every response gets: `X-Content-Type-Options: nosniff` (no response is ever read
as another type), and on HTML pages a `Referrer-Policy` (the shop's URLs stay on the shop).
A response that sets its own (the admin's) keeps it."""

from __future__ import annotations

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
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                if NOSNIFF[0] not in names:
                    headers.append(NOSNIFF)
                html = any(n.lower() == b"content-type" and v.startswith(b"text/html") for n, v in headers)
                if html and REFERRER_POLICY[0] not in names:
                    headers.append(REFERRER_POLICY)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
