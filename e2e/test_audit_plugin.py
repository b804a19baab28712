"""The pytest plugin (entry point `gatekeeper`), run as QA would run it: a separate pytest
over their own test file, standalone or on pytest-playwright's fixtures. It passes on
both demo shops and fails on each broken QA page with the finding that names the rule.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from .qa_server import AUDIT_TIMEOUT

pytestmark = pytest.mark.timeout(AUDIT_TIMEOUT + 30)

QA_SUITE = '''
import os

import pytest

from gatekeeper.audit.banner import NoBanner

SERVER = os.environ["SHOP_SERVER"]


@pytest.mark.parametrize("shop", ["ecomarket", "locomail"])
def test_demo_nothing_before_consent(consent_page, shop):
    consent_page.goto(f"{SERVER}/demo/{shop}")
    consent_page.assert_no_trackers()
    assert consent_page.banner.reject_on_first_layer


def test_demo_only_analytics_vendors_after_analytics(consent_page, tracker_log):
    consent_page.goto(f"{SERVER}/demo/ecomarket").accept("analytics")
    consent_page.reload()
    consent_page.settle()
    consent_page.assert_only("analytics")
    assert tracker_log.vendors() == {"ga4"}
    consent_page.assert_declared()


def test_demo_refusal_sticks(consent_page, tracker_log):
    consent_page.goto(f"{SERVER}/demo/locomail").reject()
    consent_page.reload()
    consent_page.browse(1)
    consent_page.assert_only()
    assert tracker_log.trackers() == []


def test_broken_hardcoded_gtag(consent_page):
    consent_page.goto(f"{SERVER}/qa/hardcoded-gtag")
    consent_page.assert_no_trackers()


def test_broken_pixel_ignores_decision(consent_page):
    consent_page.goto(f"{SERVER}/qa/pixel-ignores-decision").reject()
    consent_page.assert_only()


def test_broken_no_reject(consent_page):
    consent_page.goto(f"{SERVER}/qa/no-reject")
    assert consent_page.banner.has_reject, "rule 4: no reject button on the first layer"


def test_broken_undeclared_cookie(consent_page):
    consent_page.goto(f"{SERVER}/qa/undeclared-cookie").accept("analytics")
    consent_page.assert_declared()


def test_no_banner_is_an_error(consent_page):
    consent_page.goto(f"{SERVER}/qa/no-banner")
    with pytest.raises(NoBanner):
        consent_page.banner
'''

# What each broken test must report, in pytest's failure output.
BROKEN = {
    "test_broken_hardcoded_gtag": "rule 1 (Nothing loads before a choice) · Google Analytics 4 · request to a tracker before any choice",
    "test_broken_pixel_ignores_decision": "rule 8 (Each choice is respected) · Meta pixel · marketing tracker contacted with nothing granted",
    "test_broken_no_reject": "rule 4: no reject button on the first layer",
    "test_broken_undeclared_cookie": "rule 13 (The declaration matches reality) · Hotjar · cookie _hjSessionUser_3172",
}

# pytest-playwright's fixtures, as far as the plugin uses them: registered under the
# plugin name "playwright", as its entry point does.
FAKE_PYTEST_PLAYWRIGHT = '''
import pytest
from playwright.sync_api import sync_playwright

from gatekeeper import browser as chromium

PROVIDED = []


class FakePytestPlaywright:
    @pytest.fixture(scope="session")
    def browser(self):
        with sync_playwright() as playwright:
            launched = chromium.launch(playwright)
            yield launched
            launched.close()

    @pytest.fixture
    def context(self, browser):
        context = browser.new_context()
        PROVIDED.append("context")
        yield context
        context.close()

    @pytest.fixture
    def page(self, context):
        PROVIDED.append("page")
        return context.new_page()


def pytest_configure(config):
    config.pluginmanager.register(FakePytestPlaywright(), "playwright")
'''

WITH_PLAYWRIGHT_SUITE = '''
import os

from conftest import PROVIDED


def test_uses_pytest_playwright_fixtures(consent_page, page):
    assert consent_page.page is page
    consent_page.goto(os.environ["SHOP_SERVER"] + "/qa/hardcoded-gtag")
    assert PROVIDED == ["context", "page"]
    assert "ga4" in consent_page.vendors()
'''


def run_pytest(folder, server, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GATEKEEPER_", "PYTEST_")) or k == "GATEKEEPER_CHROMIUM"}
    env["SHOP_SERVER"] = server.url
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rf", "--gatekeeper-offline-trackers", *args],
        cwd=folder, env=env, capture_output=True, text=True, timeout=AUDIT_TIMEOUT,
    )


def test_plugin_passes_the_demo_shops_and_catches_each_broken_page(qa_server, tmp_path):
    (tmp_path / "test_shop.py").write_text(textwrap.dedent(QA_SUITE))
    result = run_pytest(tmp_path, qa_server)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "4 failed, 5 passed" in output, output
    for test, finding in BROKEN.items():
        failure = f"FAILED test_shop.py::{test}"
        assert failure in output, output
        section = output.split(f"_ {test} _", 1)[1].split("\n____", 1)[0]
        assert finding in section, section


def test_plugin_runs_on_pytest_playwright_fixtures(qa_server, tmp_path):
    (tmp_path / "conftest.py").write_text(textwrap.dedent(FAKE_PYTEST_PLAYWRIGHT))
    (tmp_path / "test_with_playwright.py").write_text(textwrap.dedent(WITH_PLAYWRIGHT_SUITE))
    result = run_pytest(tmp_path, qa_server)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
