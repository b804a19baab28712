"""Gatekeeper's pytest plugin (entry point `gatekeeper`): consent checks in your own suite.

Fixtures: `consent_page` (a consent-aware page), `tracker_log` (every request of the
test's browser context, classified by vendor) and `consent_context`. With pytest-playwright
installed they use its `browser` and `context` (so its --browser-channel, --headed,
tracing and video apply); without it they launch Chromium the way `gatekeeper audit` does.
`--gatekeeper-offline-trackers` answers tracker hosts with local stand-ins.

pytest loads this plugin in every environment where `gatekeeper-consent` is installed, so
it must load without Playwright (the `[audit]` extra): then the fixtures fail with one
line that says what to install, and the report header says it too.
"""

from __future__ import annotations

import pytest

from .extras import installed, missing_message

MISSING = None if installed("audit") else missing_message("audit", "Gatekeeper's pytest plugin")
if MISSING is None:
    from .audit.consent_page import ConsentPage, ConsentViolation
    from .audit.network import TrackerLog, route_trackers
    from .audit.visit import VIEWPORT

__all__ = ["ConsentPage", "ConsentViolation", "assert_no_trackers", "assert_only"]


def __getattr__(name: str):
    # `from gatekeeper.pytest_plugin import ConsentPage` without Playwright: the one line.
    if MISSING is not None and name in __all__:
        from .extras import MissingExtra

        raise MissingExtra(MISSING)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def pytest_report_header(config: pytest.Config) -> str | None:
    return f"gatekeeper: {MISSING}" if MISSING else None


def _need_playwright() -> None:
    if MISSING is not None:
        pytest.fail(MISSING, pytrace=False)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gatekeeper", "consent checks (Gatekeeper)")
    group.addoption("--gatekeeper-offline-trackers", action="store_true", default=None,
                    help="answer tracker hosts with Gatekeeper's local stand-ins")
    parser.addini("gatekeeper_offline_trackers", "answer tracker hosts with local stand-ins", type="bool", default=False)


def _with_playwright(request: pytest.FixtureRequest) -> bool:
    return request.config.pluginmanager.hasplugin("playwright")


def _offline(config: pytest.Config) -> bool:
    flag = config.getoption("gatekeeper_offline_trackers")
    return bool(flag) if flag is not None else bool(config.getini("gatekeeper_offline_trackers"))


@pytest.fixture(scope="session")
def consent_browser(request: pytest.FixtureRequest):
    """pytest-playwright's `browser` if it is installed, else Chromium found like `gatekeeper audit` does."""
    _need_playwright()
    if _with_playwright(request):
        yield request.getfixturevalue("browser")
        return
    from playwright.sync_api import sync_playwright

    from . import browser as chromium

    with sync_playwright() as playwright:
        launched = chromium.launch(playwright)
        yield launched
        launched.close()


@pytest.fixture
def consent_context(request: pytest.FixtureRequest):
    """A fresh visitor: pytest-playwright's `context`, or a new one of `consent_browser`."""
    _need_playwright()
    if _with_playwright(request):
        context = request.getfixturevalue("context")
        owned = False
    else:
        context = request.getfixturevalue("consent_browser").new_context(viewport=VIEWPORT)
        context.set_default_timeout(10_000)
        owned = True
    if _offline(request.config):
        route_trackers(context)
    yield context
    if owned:
        context.close()


@pytest.fixture
def tracker_log(consent_context) -> TrackerLog:
    """Every request of the test's context, classified by vendor (gatekeeper.trackers)."""
    return TrackerLog().attach(consent_context)


@pytest.fixture
def consent_page(request: pytest.FixtureRequest, consent_context, tracker_log) -> ConsentPage:
    """A consent-aware page; with pytest-playwright it wraps that plugin's `page`."""
    page = request.getfixturevalue("page") if _with_playwright(request) else None
    return ConsentPage(consent_context, log=tracker_log, page=page)


def assert_no_trackers(page: ConsentPage) -> None:
    """No tracker before consent: no request, element, cookie or storage key (rules 1, 2)."""
    page.assert_no_trackers()


def assert_only(page: ConsentPage, *categories: str) -> None:
    """Only vendors of `categories` since the last choice, e.g. only analytics vendors after analytics (rule 8)."""
    page.assert_only(*categories)
