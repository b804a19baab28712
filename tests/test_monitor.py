"""The consent monitor: both report formats, hostile bodies, the bounds, and what is kept."""

import asyncio
import json
import sqlite3
from datetime import date, datetime, timezone

import pytest

from gatekeeper import monitor
from gatekeeper.csp_reports import ReportError, parse
from gatekeeper.db import create_engine, migrate

URL = "/api/v1/csp-report?site=ecomarket&decided=0"
GTAG = "https://www.googletagmanager.com/gtag/js?id=G-FORGOTTEN1&cx=c"
PAGE = "https://www.ecomarket.be/nl/product/7?utm_source=mail&email=jan%40example.be"


def csp_report(blocked=GTAG, directive="script-src-elem", disposition="report", page=PAGE) -> bytes:
    return json.dumps({"csp-report": {
        "document-uri": page, "referrer": "", "violated-directive": directive, "effective-directive": directive,
        "original-policy": "script-src 'self'", "disposition": disposition, "blocked-uri": blocked,
        "status-code": 200, "script-sample": "", "source-file": PAGE, "line-number": 12,
    }}).encode()


def reports_json(*blocked: str, disposition="enforce") -> bytes:
    return json.dumps([
        {"type": "csp-violation", "age": 10, "url": PAGE, "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/131",
         "body": {"documentURL": PAGE, "blockedURL": b, "effectiveDirective": "script-src-elem", "disposition": disposition,
                  "originalPolicy": "script-src 'self'", "sample": "", "statusCode": 200}}
        for b in blocked
    ] + [{"type": "deprecation", "url": PAGE, "body": {"id": "x"}}]).encode()


def rows(settings, table="csp_violations") -> list[dict]:
    path = settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute(f"SELECT * FROM {table} ORDER BY blocked, decided")]


def post(client, body: bytes, kind="application/csp-report", url=URL, **headers):
    return client.post(url, content=body, headers={"Content-Type": kind, **headers})


# --- parsing -----------------------------------------------------------------------------

def test_both_formats_read_to_the_same_violation():
    old = parse(csp_report(disposition="report"), "application/csp-report")
    new = parse(reports_json(GTAG, disposition="report"), "application/reports+json")
    assert old == new
    (v,) = old
    assert v == ("script-src-elem", "https://www.googletagmanager.com", "/nl/product/7", "ga4", "analytics", "report")


@pytest.mark.parametrize(
    "blocked, origin, vendor",
    [
        ("inline", "inline", ""),
        ("eval", "eval", ""),
        ("data:text/javascript,alert(1)", "data", ""),
        ("https://static.hotjar.com/c/hotjar-1.js?sv=6", "https://static.hotjar.com", "hotjar"),
        ("https://cdn.example.com:8443/x.js", "https://cdn.example.com:8443", ""),
        ("javascript:alert(1)", "other", ""),
        ("http://[::1", "other", ""),
        ("https://host:99999/x", "other", ""),
    ],
)
def test_blocked_urls_become_origins_or_keywords(blocked, origin, vendor):
    (v,) = parse(csp_report(blocked=blocked), "application/csp-report")
    assert (v.blocked, v.vendor) == (origin, vendor)


@pytest.mark.parametrize(
    "body, kind, why",
    [
        (b"not json", "application/csp-report", "not valid JSON"),
        (b'{"csp": {}}', "application/csp-report", 'expected {"csp-report"'),
        (b"[1, 2]", "application/csp-report", 'expected {"csp-report"'),
        (b'{"a": 1}', "application/reports+json", "expected a JSON array"),
        (b'[{"type": "csp-violation", "body": 7}]', "application/reports+json", "without a body"),
        (json.dumps([{"type": "csp-violation", "body": {}}] * 21).encode(), "application/reports+json", "at most 20"),
        (b"[" * 5000 + b"]" * 5000, "application/reports+json", "not valid JSON"),
    ],
)
def test_hostile_bodies_are_refused_with_a_reason(body, kind, why):
    with pytest.raises(ReportError, match=why.replace("[", r"\[").replace("{", r"\{")):
        parse(body, kind)


def test_odd_field_types_are_ignored_not_fatal():
    (v,) = parse(json.dumps({"csp-report": {"blocked-uri": 7, "document-uri": ["x"], "effective-directive": "x; y"}}).encode(), "application/csp-report")
    assert v == ("other", "other", "", "", "", "enforce")


# --- the endpoint ------------------------------------------------------------------------

def test_a_report_is_counted_without_query_address_or_user_agent(client, settings):
    for _ in range(3):
        assert post(client, csp_report()).status_code == 204
    response = post(client, reports_json(GTAG, "https://static.hotjar.com/c/hotjar-1.js"), "application/reports+json",
                    url="/api/v1/csp-report?site=ecomarket&decided=1")
    assert response.status_code == 204 and response.headers["access-control-allow-origin"] == "*"
    today = datetime.now(timezone.utc).date().isoformat()
    assert rows(settings) == [
        {"site": "ecomarket", "day": today, "directive": "script-src-elem", "blocked": "https://static.hotjar.com",
         "page": "/nl/product/7", "vendor": "hotjar", "decided": "decided", "disposition": "enforce", "category": "analytics", "count": 1},
        {"site": "ecomarket", "day": today, "directive": "script-src-elem", "blocked": "https://www.googletagmanager.com",
         "page": "/nl/product/7", "vendor": "ga4", "decided": "decided", "disposition": "enforce", "category": "analytics", "count": 1},
        {"site": "ecomarket", "day": today, "directive": "script-src-elem", "blocked": "https://www.googletagmanager.com",
         "page": "/nl/product/7", "vendor": "ga4", "decided": "undecided", "disposition": "report", "category": "analytics", "count": 3},
    ]
    stored = json.dumps(rows(settings))
    assert "utm_source" not in stored and "jan" not in stored and "Chrome" not in stored and "testclient" not in stored


def test_preflight_lets_the_reporting_api_post_from_any_shop(client):
    response = client.options("/api/v1/csp-report", headers={"Origin": "https://www.ecomarket.be", "Access-Control-Request-Method": "POST"})
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*" and "Content-Type" in response.headers["access-control-allow-headers"]


@pytest.mark.parametrize(
    "kind, body, url, status, code",
    [
        ("text/plain", csp_report(), URL, 415, "unsupported_media_type"),
        ("application/csp-report", csp_report(), "/api/v1/csp-report?site=nope", 404, "unknown_site"),
        ("application/csp-report", csp_report(), "/api/v1/csp-report", 404, "unknown_site"),
        ("application/csp-report", b"{" * 70_000, URL, 413, "body_too_large"),
        ("application/csp-report", b"\xff\xfe garbage", URL, 400, "invalid_json"),
        ("application/reports+json", b'{"not": "a list"}', URL, 400, "invalid_json"),
    ],
)
def test_bad_reports_get_a_4xx_json_error_and_store_nothing(client, settings, kind, body, url, status, code):
    response = post(client, body, kind, url=url)
    assert (response.status_code, response.json()["error"]) == (status, code)
    assert rows(settings) == []


def test_a_flood_from_one_network_is_refused_with_429(client, settings):
    client.app.state.csp_rate = monitor.RateLimit(per_minute=60, burst=5)
    statuses = [post(client, csp_report()).status_code for _ in range(8)]
    assert statuses == [204] * 5 + [429] * 3
    assert rows(settings)[0]["count"] == 5


def test_rate_limit_refills_and_forgets_the_oldest_networks():
    limit = monitor.RateLimit(per_minute=60, burst=2, max_keys=2)
    assert [limit.allow("a", now=0) for _ in range(3)] == [True, True, False]
    assert limit.allow("a", now=1.0)  # one token a second
    limit.allow("b", now=1), limit.allow("c", now=1)
    assert set(limit._buckets) == {"b", "c"}  # bounded memory


def test_rows_per_site_and_day_are_capped_and_the_rest_counted_as_dropped(tmp_path, monkeypatch):
    monkeypatch.setattr(monitor, "MAX_ROWS_PER_DAY", 3)
    engine = create_engine(f"sqlite:///{tmp_path}/m.db")
    day = date(2026, 12, 3)

    async def run():
        await migrate(engine)
        many = [parse(csp_report(blocked=f"https://v{i}.example/x.js"), "application/csp-report")[0] for i in range(5)]
        dropped = await monitor.record(engine, "ecomarket", many, "undecided", day)
        again = await monitor.record(engine, "ecomarket", many[:1] + many[4:], "undecided", day)  # one known, one new
        other_day = await monitor.record(engine, "ecomarket", many[4:], "undecided", date(2026, 12, 4))
        summary = await monitor.summary(engine, "ecomarket", day)
        await engine.dispose()
        return dropped, again, other_day, summary

    dropped, again, other_day, (table, total_dropped) = asyncio.run(run())
    assert (dropped, again, other_day, total_dropped) == (2, 1, 0, 3)
    assert len(table) == 4 and table[0]["blocked"] == "https://v0.example" and table[0]["count"] == 2
    assert table[0]["first_day"] == date(2026, 12, 3) and table[0]["last_day"] == date(2026, 12, 3)


# --- the admin panel and `gatekeeper monitor`, on SQLite and PostgreSQL ------------------

def test_admin_panel_and_monitor_command_show_the_same_counts(make_client, database_url):
    from click.testing import CliRunner

    from gatekeeper.cli import main

    from conftest import SITES_DIR
    from test_admin import PASSWORD, login

    client = make_client(database_url=database_url, admin_password=PASSWORD)
    for _ in range(2):
        assert post(client, csp_report()).status_code == 204
    assert post(client, reports_json("https://static.hotjar.com/c/hotjar-1.js"), "application/reports+json").status_code == 204
    assert post(client, csp_report(), url="/api/v1/csp-report?site=locomail").status_code == 204  # another site

    login(client)
    html = client.get("/admin/sites/ecomarket").text
    panel = html[html.index('<section id="violations">'):html.index("</section>", html.index('id="violations"'))]
    assert "Tags that tried to run without consent" in panel
    assert "<td>2</td><td>ga4</td><td>analytics</td><td>https://www.googletagmanager.com</td>" in panel
    assert "<td>1</td><td>hotjar</td><td>analytics</td><td>https://static.hotjar.com</td>" in panel
    assert "<td>reported</td>" in panel and "<td>blocked</td>" in panel

    run = lambda *args: CliRunner().invoke(main, ["monitor", "--site", "ecomarket", *args, "--database-url", database_url,
                                                  "--sites-dir", str(SITES_DIR)])
    table = run()
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[0].startswith("ecomarket: 3 report(s) since ")
    assert lines[1].split() == ["count", "vendor", "category", "blocked", "directive", "page", "visitor", "browser", "first", "last"]
    assert lines[2].split()[:8] == ["2", "ga4", "analytics", "https://www.googletagmanager.com", "script-src-elem", "/nl/product/7", "undecided", "reported"]
    data = json.loads(run("--json", "--since", "2026-01-01").output)
    assert (data["site"], data["since"], data["dropped"]) == ("ecomarket", "2026-01-01", 0)
    assert [(v["vendor"], v["count"], v["disposition"]) for v in data["violations"]] == [("ga4", 2, "report"), ("hotjar", 1, "enforce")]
    assert run("--since", "yesterday").exit_code == 1 and "bad date 'yesterday'" in run("--since", "yesterday").output
