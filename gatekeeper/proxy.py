"""Behind a reverse proxy: the visitor's address and scheme from the proxy's headers.

Only a proxy listed in GATEKEEPER_FORWARDED_ALLOW_IPS is believed; anyone else could
claim any address. The address feeds the consent log's truncated IP, the scheme decides
whether cookies are `Secure`. X-Forwarded-For / X-Forwarded-Proto are uvicorn's own
handling (its ProxyHeadersMiddleware, applied here so every ASGI server gets it); the
standard `Forwarded` header (RFC 7239), which uvicorn does not read, is read the same way
when a proxy sends only that.
"""

from __future__ import annotations

import re

from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

# One forwarded-pair of RFC 7239 section 4: token=token or token="quoted string".
_PAIR = re.compile(r'\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*("(?:[^"\\]|\\.)*"|[^;,\s]*)\s*')


def parse_forwarded(value: str) -> list[dict[str, str]]:
    """The elements of a `Forwarded` header, first hop first, parameter names lowercased."""
    elements = []
    for element in value.split(","):
        pairs = {}
        for part in element.split(";"):
            match = _PAIR.fullmatch(part)
            if match:
                name, raw = match.groups()
                pairs[name.lower()] = raw[1:-1].replace('\\"', '"') if raw.startswith('"') else raw
        elements.append(pairs)
    return elements


def _host(node: str) -> str:
    """`for=` node without its port: 192.0.2.60:8080 -> 192.0.2.60, [2001:db8::1]:4711 -> 2001:db8::1."""
    if node.startswith("["):
        return node[1 : node.find("]")] if "]" in node else node
    return node.rsplit(":", 1)[0] if node.count(":") == 1 else node


_PROXY_HEADERS = frozenset({b"x-forwarded-for", b"x-forwarded-proto", b"forwarded"})
_UVICORNS = frozenset({b"x-forwarded-for", b"x-forwarded-proto"})


class ForwardedHeaders(ProxyHeadersMiddleware):
    """uvicorn's X-Forwarded-* handling, plus `Forwarded` when a proxy sends only that.
    A request with none of these headers (or from a peer not trusted) goes straight on:
    there is nothing to apply, and it is every request when no proxy is in front."""

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket"):
            client = scope.get("client")
            # No client address (a UNIX socket) is trusted as uvicorn trusts it: by "*".
            if (client[0] if client else None) not in self.trusted_hosts:
                return await self.app(scope, receive, send)
            names = [name for name, _ in scope["headers"] if name in _PROXY_HEADERS]
            if not names:
                return await self.app(scope, receive, send)
            if _UVICORNS.isdisjoint(names):  # else uvicorn's own handling decides
                self._apply_forwarded(scope)
        await super().__call__(scope, receive, send)

    def _apply_forwarded(self, scope) -> None:
        values = [value.decode("latin-1") for name, value in scope["headers"] if name == b"forwarded"]
        elements = [e for e in parse_forwarded(", ".join(values)) if e.get("for")]
        if not elements:
            return
        # Each proxy appends its element: the nearest untrusted hop is the visitor, and the
        # proxy that saw the visitor wrote the scheme next to it.
        chosen = next((e for e in reversed(elements) if _host(e["for"]) not in self.trusted_hosts), elements[0])
        scope["client"] = (_host(chosen["for"]), 0)
        proto = chosen.get("proto", "").lower()
        if proto in ("http", "https"):
            scope["scheme"] = proto if scope["type"] == "http" else proto.replace("http", "ws")
