"""The admin at /admin: per-site charts, receipt look-up, export and retention purge.

Thin views over stats.py, receipts.py, export.py and retention.py; who may enter is
admin_auth.py's business. Every page is server-rendered with autoescaping, sent with a
strict CSP and never cached; every form that changes something carries a CSRF token.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from . import anchors, charts, export, monitor, receipts, retention, stats
from .admin_auth import LOGIN_COOKIE, PATH, keep_login_token, login_token, same_origin, tokens_match
from .settings import env_name
from .templating import templates

CSS = """body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1d2a23;background:#f7f9f8}
header{background:#1d2a23;color:#fff;padding:.6rem 1.2rem;display:flex;gap:1rem;align-items:center}
header a{color:#fff}header form{margin-left:auto}main{max-width:960px;margin:0 auto;padding:1rem 1.2rem}
section{background:#fff;border:1px solid #dde5e0;border-radius:6px;padding:1rem;margin:0 0 1rem}
table{border-collapse:collapse}td,th{padding:.25rem .6rem;border-bottom:1px solid #e6ece8;text-align:left;vertical-align:top}
.error{color:#a3261b}.note{color:#55655c}.charts{display:flex;flex-wrap:wrap;gap:1rem}pre{white-space:pre-wrap}
button{padding:.35rem .8rem}input{padding:.3rem}"""

HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    # not no-referrer: with it Chromium sends "Origin: null" on our own form posts
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


def _page(request: Request, name: str, status: int = 200, **context) -> Response:
    session = request.state.admin_session if hasattr(request.state, "admin_session") else None
    response = templates.TemplateResponse(request, name, {"session": session, **context}, status_code=status)
    response.headers.update(HEADERS)
    return response


async def _session(request: Request) -> dict | None:
    session = await request.app.state.admin_sessions.read(request)
    request.state.admin_session = session
    return session


def _admin_off(request: Request) -> Response:
    """Every admin URL while no credentials are set: how to turn the admin on."""
    return _page(request, "admin_off.html", 404, variable=env_name("admin_password"),
                 users_variable=env_name("admin_users"))


def guarded(view):
    """The view only for a signed-in admin."""

    async def wrapper(request: Request) -> Response:
        if not request.app.state.admin_credentials.enabled:
            return _admin_off(request)
        if await _session(request) is None:
            return RedirectResponse(f"{PATH}/login", status_code=303)
        if request.method == "POST":
            form = await request.form()
            if not same_origin(request) or not tokens_match(request.state.admin_session["c"], form.get("csrf")):
                return _page(request, "admin_error.html", 403, message="This form has expired; reload the page and try again.")
            request.state.form = form
        return await view(request)

    return wrapper


def _site(request: Request):
    site = request.app.state.sites.get(request.path_params["site"])
    if site is None:
        return None, _page(request, "admin_error.html", 404, message=f"There is no site {request.path_params['site']!r}.")
    return site, None


async def login(request: Request) -> Response:
    if not request.app.state.admin_credentials.enabled:
        return _admin_off(request)
    error, status, wait = None, 200, 0
    if request.method == "POST":
        form = await request.form()
        user, password = str(form.get("user", ""))[:100], str(form.get("password", ""))
        address = request.client.host if request.client else "unknown"
        limit = request.app.state.admin_limit
        if not same_origin(request) or not tokens_match(request.cookies.get(LOGIN_COOKIE), form.get("csrf")):
            error, status = "This form has expired; please try again.", 403
        elif not (verdict := await limit.attempt(address, user)).allowed:
            # Counted before the check: a burst of parallel guesses cannot outrun the count.
            wait = verdict.retry_after
            error, status = f"Too many login attempts. Try again in {wait // 60 + 1} minutes.", 429
        elif await run_in_threadpool(request.app.state.admin_credentials.check, user, password):
            await limit.succeeded(address)
            response = RedirectResponse(PATH, status_code=303)
            await request.app.state.admin_sessions.start(response, request, user)
            return response
        else:
            error, status = "Wrong user name or password.", 401
    token = login_token(request)
    response = _page(request, "admin_login.html", status, error=error, csrf=token)
    keep_login_token(response, request, token)
    if status == 429:
        response.headers["Retry-After"] = str(wait)
    return response


@guarded
async def logout(request: Request) -> Response:
    response = RedirectResponse(f"{PATH}/login", status_code=303)
    await request.app.state.admin_sessions.end(response, request)
    return response


@guarded
async def index(request: Request) -> Response:
    sites = request.app.state.sites
    summaries = await stats.summaries(request.app.state.engine, list(sites))
    chains = await anchors.statuses(request.app.state.engine, list(sites))
    return _page(request, "admin_index.html", sites=sites, summaries=summaries, chains=chains)


@guarded
async def site_page(request: Request) -> Response:
    site, problem = _site(request)
    if problem:
        return problem
    days = request.query_params.get("days", "30")
    days = int(days) if days in ("7", "30", "90", "365") else 30
    numbers = await stats.site_stats(request.app.state.engine, site, days)
    summary = (await stats.summaries(request.app.state.engine, [site.id]))[site.id]
    violations, dropped = await monitor.summary(request.app.state.engine, site.id, numbers.since)
    return _page(
        request, "admin_site.html", site=site, days=days, stats=numbers, summary=summary,
        per_day=charts.decisions_per_day(numbers.per_day),
        acceptance=charts.acceptance(numbers.categories, f"Acceptance per category, last {days} days"),
        by_device={d: charts.acceptance(r, f"Acceptance per category on {d}, last {days} days") for d, r in numbers.devices.items()},
        cutoff=retention.cutoff(site), purged=request.query_params.get("purged"),
        violations=violations, dropped=dropped, max_rows=monitor.MAX_ROWS_PER_DAY,
    )


@guarded
async def receipt_page(request: Request) -> Response:
    consent_id = request.query_params.get("consent_id", "").strip()
    if not consent_id:
        return _page(request, "admin_receipt.html", receipt=None, consent_id="")
    found = await receipts.receipt(request.app.state.engine, request.app.state.consent_log, consent_id)
    if found is None:
        return _page(request, "admin_receipt.html", 404, receipt=None, consent_id=consent_id, missing=True)
    return _page(request, "admin_receipt.html", receipt=found, consent_id=consent_id, sites=request.app.state.sites)


@guarded
async def export_download(request: Request) -> Response:
    site, problem = _site(request)
    if problem:
        return problem
    fmt = request.query_params.get("format", "csv")
    try:
        since = export.parse_since(request.query_params.get("since"))
        export.writer(site, fmt)
    except export.ExportError as exc:
        return _page(request, "admin_error.html", 400, message=str(exc))
    chunks = export.stream(request.app.state.engine, site, since, fmt)
    return StreamingResponse(
        (chunk.encode("utf-8") async for chunk in chunks),
        media_type=export.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{export.filename(site, since, fmt)}"', **HEADERS},
    )


@guarded
async def purge(request: Request) -> Response:
    site, problem = _site(request)
    if problem:
        return problem
    done = await retention.purge_site(request.app.state.engine, site)
    return RedirectResponse(f"{PATH}/sites/{site.id}?purged={done.deleted}", status_code=303)


async def stylesheet(request: Request) -> Response:
    return Response(CSS, media_type="text/css", headers={"Cache-Control": "max-age=3600"})


routes = [
    Route(PATH, index),
    Route(f"{PATH}/", index),
    Route(f"{PATH}/login", login, methods=["GET", "POST"]),
    Route(f"{PATH}/logout", logout, methods=["POST"]),
    Route(f"{PATH}/admin.css", stylesheet),
    Route(f"{PATH}/receipt", receipt_page),
    Route(f"{PATH}/sites/{{site}}", site_page),
    Route(f"{PATH}/sites/{{site}}/export", export_download),
    Route(f"{PATH}/sites/{{site}}/purge", purge, methods=["POST"]),
]
