"""FastAPI: `ConsentMiddleware` is plain ASGI (`app.add_middleware(ConsentMiddleware, …)`);
`RequestConsent` hands a route the request's Consent as a dependency.

    @app.get("/product/{n}")
    async def product(n: int, consent: RequestConsent): ...
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from .asgi import ConsentMiddleware
from .consent import Consent

__all__ = ["ConsentMiddleware", "RequestConsent", "consent"]


def consent(request: Request) -> Consent:
    """The current request's verified consent (`Depends(consent)`)."""
    try:
        return request.scope["gatekeeper"]
    except KeyError:
        raise RuntimeError("no consent on this request: add gatekeeper.shop.ConsentMiddleware to the app") from None


RequestConsent = Annotated[Consent, Depends(consent)]
