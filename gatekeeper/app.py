"""The application: site configs, bundles, signer and consent log, composed once.

Everything that can be wrong with the configuration fails here, before the first
request: sites are validated, bundles built, keys resolved.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
from pathlib import Path

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route

from . import answers, api, assets, consent_post, metrics, openapi, pages, receipt_api
from . import declaration, qa_fixtures
from . import admin, monitor
from .api import JSON
from .admin_auth import Credentials
from .admin_sessions import LoginLimit, SessionStore
from .bundle import build_bundles
from .hosts import allowed_hosts
from .limits import RequestLimits
from .security_headers import AllowedHosts, SecurityHeaders
from .consent_log import ConsentLog
from .db import create_engine, migrate, ping
from .error_handlers import exception_handlers
from .logs import RequestLog
from .proxy import ForwardedHeaders
from .receipts import archive_banner_texts
from .receipt_tokens import ReceiptSigner
from .settings import Settings, resolve_receipt_keys, resolve_secret_keys
from .sites import Site, load_sites
from .tokens import TokenSigner


async def healthz(request: Request) -> JSON:
    """200 when the consent log answers; 503 tells a load balancer to send decisions elsewhere."""
    try:
        async with request.app.state.engine.connect() as connection:
            await ping(connection)
    except (OSError, sa.exc.SQLAlchemyError):
        return JSON(answers.Unavailable(), status_code=503)
    return JSON(answers.Health(sites=sorted(request.app.state.sites)))


async def index(request: Request) -> RedirectResponse:
    first = next(iter(request.app.state.sites))
    return RedirectResponse(f"/demo/{first}", status_code=302)


def create_app(settings: Settings, sites: dict[str, Site] | None = None) -> Starlette:
    sites = sites if sites is not None else load_sites(Path(settings.sites_dir))
    hosts = allowed_hosts(settings, sites)
    engine = create_engine(settings.database_url)
    consent_log = ConsentLog(engine)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        await migrate(engine)
        await consent_log.start()
        await archive_banner_texts(consent_log, sites, app.state.bundles)
        try:
            yield
        finally:
            await consent_log.stop()
            await engine.dispose()

    app = Starlette(
        routes=[
            Route("/", index),
            Route("/healthz", healthz),
            *metrics.routes,
            *openapi.routes,
            *consent_post.routes,
            *api.routes,
            *monitor.routes,
            *receipt_api.routes,
            *assets.routes,
            *pages.routes,
            *declaration.routes,
            *admin.routes,
            *(qa_fixtures.routes if settings.qa_fixtures else ()),
        ],
        exception_handlers=exception_handlers,
        # The proxy's headers first, so the request's line and the log see the visitor; the
        # consent POST, the hot path, innermost: every shared layer still sees it.
        middleware=[
            Middleware(ForwardedHeaders, trusted_hosts=settings.forwarded_allow_ips),
            Middleware(RequestLog),
            Middleware(SecurityHeaders),
            Middleware(RequestLimits),
            Middleware(AllowedHosts, allowed_hosts=hosts),
            Middleware(consent_post.ConsentPost),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.sites = sites
    app.state.allowed_hosts = hosts
    keys = resolve_secret_keys(settings)
    app.state.signer = TokenSigner(keys)
    app.state.bundles = build_bundles(sites, app.state.signer.public_keys)
    app.state.receipt_signer = ReceiptSigner(resolve_receipt_keys(settings))
    app.state.engine = engine
    app.state.consent_log = consent_log
    app.state.csp_rate = monitor.RateLimit()
    pepper = hmac.new(keys[0].encode("utf-8"), b"gatekeeper.admin", hashlib.sha256).digest()
    app.state.admin_credentials = credentials = Credentials.from_settings(settings, pepper)
    app.state.admin_sessions = SessionStore(engine, credentials.credential)
    app.state.admin_limit = LoginLimit(engine, pepper)
    return app
