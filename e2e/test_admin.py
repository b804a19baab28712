"""The admin in real Chromium: decisions made through the banner (desktop and phone) show
up as real numbers in the charts, the receipt of one is found, and an export downloads."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

import pytest
from playwright.sync_api import expect

from .harness import choose, new_context, open_demo, wait_for_banner
from .server import Server

PASSWORD = "browser-test-admin-password"
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")


class AdminServer(Server):
    @staticmethod
    def command(port, db_path):
        return [*Server.command(port, db_path), "--admin-password", PASSWORD]


@pytest.fixture(scope="module")
def admin_server(tmp_path_factory):
    running = AdminServer.start(tmp_path_factory.mktemp("admin"), timeout=60)
    yield running
    running.stop()


def decide(browser, server, action, **context_options) -> str:
    context = new_context(browser, **context_options)
    try:
        page = context.new_page()
        open_demo(page, server, "locomail")
        wait_for_banner(page)
        return choose(page, action)["consent_id"]
    finally:
        context.close()


def test_admin_shows_the_decisions_just_made_finds_a_receipt_and_exports(browser, admin_server, page):
    accepted = decide(browser, admin_server, "accept")
    decide(browser, admin_server, "accept")
    decide(browser, admin_server, "reject", user_agent=IPHONE, viewport={"width": 390, "height": 844}, is_mobile=True)

    page.goto(f"{admin_server.url}/admin")
    page.fill("input[name=user]", "admin")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.get_by_role("link", name="LocoMail").click()

    today = datetime.now(timezone.utc).date().isoformat()
    day = page.locator(f'#per-day g.day[data-day="{today}"]')
    expect(day).to_have_attribute("data-decisions", "3")
    analytics = page.locator('#acceptance g.rate[data-category="analytics"]')
    expect(analytics).to_have_attribute("data-granted", "2")
    expect(analytics).to_have_attribute("data-total", "3")
    expect(page.locator("#acceptance")).to_contain_text("67% (2 of 3)")
    expect(page.locator('figure.device[data-device="mobile"]')).to_contain_text("0% (0 of 1)")
    expect(page.locator('figure.device[data-device="desktop"]')).to_contain_text("100% (2 of 2)")

    page.get_by_role("link", name="Receipt look-up").click()
    page.fill("input[name=consent_id]", accepted)
    page.get_by_role("button", name="Look up").click()
    expect(page.locator("#receipt")).to_contain_text("analytics: yes")
    expect(page.locator(".banner-text").first).to_contain_text("sha256 matches")

    page.go_back()
    page.go_back()
    with page.expect_download(timeout=10_000) as download_info:
        page.get_by_role("button", name="Download").click()
    download = download_info.value
    assert download.suggested_filename.startswith("consent-log-locomail-since-")
    rows = list(csv.DictReader(io.StringIO(open(download.path(), encoding="utf-8").read())))
    assert len(rows) == 3 and accepted in {r["consent_id"] for r in rows}
    assert sorted(r["analytics"] for r in rows) == ["false", "true", "true"]
