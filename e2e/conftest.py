"""Browser-test fixtures: the real server on a free port, one Chromium per session, and a
fresh context per test with tracker hosts routed to stand-ins and every request logged.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect, sync_playwright

from gatekeeper import browser as gk_browser
from gatekeeper.audit.network import TrackerLog

from .harness import new_context
from .qa_server import QAServer
from .server import Server

E2E_TIMEOUT = 60  # seconds per test; a hung browser must not hang the suite
SERVER_LOG_KEY = pytest.StashKey[tuple[Server, int]]()

expect.set_options(timeout=5_000)


def pytest_collection_modifyitems(config, items):
    if not config.pluginmanager.hasplugin("timeout"):
        return
    for item in items:
        if "e2e" in item.path.parts and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(E2E_TIMEOUT))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    marked = item.stash.get(SERVER_LOG_KEY, None)
    if report.failed and marked is not None:
        server, start = marked
        report.sections.append(("gatekeeper server log (this test)", server.log(start) or "(empty)"))
    return report


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """The real `python -m gatekeeper serve` with a fresh SQLite consent log."""
    running = Server.start(tmp_path_factory.mktemp("gatekeeper"))
    yield running
    running.stop()


@pytest.fixture(scope="package")
def qa_server(tmp_path_factory):
    """The real server with the broken /qa/ pages on: one for the audit and the plugin tests."""
    running = QAServer.start(tmp_path_factory.mktemp("gatekeeper-qa"))
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def _server_log_mark(request, server):
    request.node.stash[SERVER_LOG_KEY] = (server, server.log_size())


# Package scope, not session: while Playwright's sync API is open it keeps an event loop
# running on the main thread, and any test after e2e/ calling asyncio.run() would fail.
@pytest.fixture(scope="package")
def playwright_instance():
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="package")
def browser(playwright_instance):
    """Only the shop (127.0.0.1) resolves: a tracker request must be answered by a stand-in."""
    chromium = gk_browser.launch(playwright_instance, offline=True)
    yield chromium
    chromium.close()


@pytest.fixture
def tracker_log():
    return TrackerLog()


@pytest.fixture
def context(browser, tracker_log):
    """A fresh visitor: no cookies, tracker hosts answered by the stand-ins."""
    ctx = new_context(browser, tracker_log)
    yield ctx
    ctx.close()


@pytest.fixture
def cached_context(browser, tracker_log):
    """A fresh visitor with the HTTP cache on: no stand-ins (routing turns the cache off)."""
    ctx = new_context(browser, tracker_log, stand_ins=False)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    return context.new_page()
