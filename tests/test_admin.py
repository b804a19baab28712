"""The admin: off without credentials, login with CSRF and throttling, charts with real
numbers, receipts, export and purge — on SQLite and PostgreSQL."""

import asyncio
import json
import re
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from conftest import SITES_DIR
from logged import log_rows

from gatekeeper.cli import main
from gatekeeper.sites import load_sites
from gatekeeper.db import consent_records, create_engine

CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
PASSWORD = "correct horse battery staple"


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def login(client, user="admin", password=PASSWORD):
    token = csrf_of(client.get("/admin/login").text)
    return client.post("/admin/login", data={"user": user, "password": password, "csrf": token}, follow_redirects=False)


def decide(client, categories, ua=CHROME, site="ecomarket"):
    client.cookies.delete("gk_consent")
    body = {"site": site, "categories": categories, "revision": 1, "language": "nl"}
    headers = {"Content-Type": "application/json", "Origin": "http://testserver", "User-Agent": ua}
    answer = client.post("/api/v1/consent", content=json.dumps(body), headers=headers)
    assert answer.status_code == 201, answer.text
    client.cookies.delete("gk_consent")
    return answer.json()["consent_id"]


def insert(url: str, **row) -> None:
    values = dict(
        consent_id="old-one", site="ecomarket", created_at=datetime.now(timezone.utc), action="grant",
        categories={"necessary": True, "analytics": True}, revision=1, text_hash="f" * 64, language="nl",
        source="banner", ua_browser="Chrome", ua_os="Linux", ua_device="desktop", ip=None,
    ) | row

    log_rows(url, [values])


ALL = {"analytics": True, "marketing": True, "social": True, "personalisation": True}
NONE = {"analytics": False, "marketing": False, "social": False, "personalisation": False}


@pytest.fixture
def admin(make_client, database_url):
    client = make_client(database_url=database_url, admin_password=PASSWORD)
    client.database_url = database_url
    return client


def test_without_credentials_the_admin_is_off_and_says_how_to_turn_it_on(client):
    for path in ("/admin", "/admin/login", "/admin/sites/ecomarket"):
        page = client.get(path)
        assert page.status_code == 404
        assert "The admin is off" in page.text and "GATEKEEPER_ADMIN_PASSWORD" in page.text


def test_login_sets_a_strict_session_and_wrong_or_forged_logins_are_refused(make_client):
    client = make_client(admin_password=PASSWORD, admin_users="dpo:also-secret")
    assert client.get("/admin", follow_redirects=False).headers["location"] == "/admin/login"
    assert login(client, password="wrong").status_code == 401
    forged = client.post("/admin/login", data={"user": "admin", "password": PASSWORD, "csrf": "guess"}, follow_redirects=False)
    assert forged.status_code == 403
    cross_site = client.post(
        "/admin/login", data={"user": "admin", "password": PASSWORD, "csrf": csrf_of(client.get("/admin/login").text)},
        headers={"Origin": "https://evil.example"}, follow_redirects=False,
    )
    assert cross_site.status_code == 403
    answer = login(client, "dpo", "also-secret")
    assert answer.status_code == 303
    session = [c for c in answer.headers.get_list("set-cookie") if c.startswith("gk_admin=")][0]
    assert "HttpOnly" in session and "SameSite=strict" in session and "Path=/admin" in session
    page = client.get("/admin")
    assert page.status_code == 200 and "dpo" in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"] and page.headers["cache-control"] == "no-store"


def test_login_is_rate_limited(make_client):
    client = make_client(admin_password=PASSWORD)
    for _ in range(5):
        assert login(client, password="guess").status_code == 401
    throttled = login(client)  # even the right password, for now
    assert throttled.status_code == 429 and "Too many login attempts" in throttled.text
    assert int(throttled.headers["retry-after"]) > 0


def test_charts_show_the_decisions_just_made(admin):
    decide(admin, ALL)
    decide(admin, ALL | {"social": False})
    decide(admin, NONE, ua=IPHONE)
    assert login(admin).status_code == 303
    page = admin.get("/admin/sites/ecomarket")
    assert page.status_code == 200
    html = page.text
    today = datetime.now(timezone.utc).date().isoformat()
    assert f'data-day="{today}" data-decisions="3" data-withdrawals="0"' in html
    acceptance = html.split('id="acceptance"')[1].split("</figure>")[0]
    assert 'data-category="analytics" data-granted="2" data-total="3"' in acceptance
    assert 'data-category="social" data-granted="1" data-total="3"' in acceptance
    assert "67% (2 of 3)" in acceptance
    mobile = html.split('data-device="mobile"')[1].split("</figure>")[0]
    assert 'data-category="analytics" data-granted="0" data-total="1"' in mobile
    desktop = html.split('data-device="desktop"')[1].split("</figure>")[0]
    assert 'data-category="marketing" data-granted="2" data-total="2"' in desktop
    assert "<script" not in html


def test_receipt_shows_the_decision_and_the_banner_text_shown(admin):
    consent_id = decide(admin, ALL | {"marketing": False})
    login(admin)
    page = admin.get(f"/admin/receipt?consent_id={consent_id}")
    assert page.status_code == 200
    assert "analytics: yes" in page.text and "marketing: no" in page.text
    assert "sha256 matches the stored markup" in page.text
    assert "Alles weigeren" in page.text  # the Dutch first layer, from the archive
    missing = admin.get("/admin/receipt?consent_id=nope")
    assert missing.status_code == 404 and "No consent with id" in missing.text


def test_text_from_records_is_escaped(admin):
    insert(admin.database_url, consent_id="xss", ua_browser="<script>alert(1)</script>", language="<b>nl",
           categories={"necessary": True, "<img src=x>": True})
    login(admin)
    page = admin.get("/admin/receipt?consent_id=xss").text
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>nl" not in page and "<img src=x>" not in page
    exported = admin.get("/admin/sites/ecomarket/export?since=2000-01-01&format=csv").text
    assert "<script>alert(1)</script>" in exported  # data stays data in a download, as text/csv


def test_export_streams_csv_and_jsonl_and_refuses_a_bad_date(admin):
    ids = [decide(admin, ALL), decide(admin, NONE)]
    insert(admin.database_url, consent_id="before", created_at=datetime(2020, 5, 1, tzinfo=timezone.utc))
    login(admin)
    since = datetime.now(timezone.utc).date().isoformat()
    csv_answer = admin.get(f"/admin/sites/ecomarket/export?since={since}&format=csv")
    assert csv_answer.status_code == 200 and csv_answer.headers["content-type"].startswith("text/csv")
    assert "attachment; filename=" in csv_answer.headers["content-disposition"]
    lines = csv_answer.text.splitlines()
    assert lines[0].startswith("consent_id,recorded_at,action,revision,language,source,text_hash,necessary,analytics")
    assert [line.split(",")[0] for line in lines[1:]] == ids
    jsonl = admin.get(f"/admin/sites/ecomarket/export?since={since}&format=jsonl")
    rows = [json.loads(line) for line in jsonl.text.splitlines()]
    assert [r["consent_id"] for r in rows] == ids and rows[1]["categories"]["analytics"] is False
    assert admin.get("/admin/sites/ecomarket/export?since=yesterday").status_code == 400
    assert admin.get("/admin/sites/nosuchsite/export?since=2020-01-01").status_code == 404


def test_purge_needs_the_csrf_token_and_deletes_only_expired_records(admin):
    old = datetime.now(timezone.utc) - timedelta(days=731)
    insert(admin.database_url, consent_id="expired", created_at=old)
    insert(admin.database_url, consent_id="kept", created_at=old + timedelta(days=2))
    login(admin)
    page = admin.get("/admin/sites/ecomarket").text
    assert f'id="oldest">{old:%Y-%m-%d %H:%M} UTC' in page
    refused = admin.post("/admin/sites/ecomarket/purge", data={"csrf": "forged"}, follow_redirects=False)
    assert refused.status_code == 403
    done = admin.post("/admin/sites/ecomarket/purge", data={"csrf": csrf_of(page)}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith("?purged=1")
    after = admin.get(done.headers["location"]).text
    assert "1 record(s) older than 730 days deleted" in after
    assert f'id="oldest">{old + timedelta(days=2):%Y-%m-%d %H:%M} UTC' in after
    assert admin.get("/admin/receipt?consent_id=expired").status_code == 404
    assert admin.get("/admin/receipt?consent_id=kept").status_code == 200


def test_the_index_shows_each_chain_head_and_its_last_verification(admin):
    login(admin)
    decide(admin, ALL)
    page = admin.get("/admin").text
    chain = re.search(r'<tr data-chain="ecomarket">(.*?)</tr>', page, re.S).group(1)
    languages = len(load_sites(SITES_DIR)["ecomarket"].languages)
    assert f"position {languages + 1} " in chain  # one banner text per language, then the decision
    assert "never — run <code>gatekeeper verify</code>" in chain
    result = CliRunner().invoke(main, ["verify", "--database-url", admin.database_url, "--sites-dir", str(SITES_DIR)])
    assert result.exit_code == 0, result.output
    chain = re.search(r'<tr data-chain="ecomarket">(.*?)</tr>', admin.get("/admin").text, re.S).group(1)
    assert "UTC:\nintact" in chain
