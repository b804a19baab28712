"""gatekeeper.browser.started: the one start-up of Playwright and Chromium that `gatekeeper
audit` and `gatekeeper scan` share, with the same one-line failure in each."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from gatekeeper import browser
from gatekeeper.cli import main


class Refused(Exception):
    pass


def test_a_started_browser_renders_a_page_and_is_closed_afterwards():
    with browser.started(Refused) as chromium:
        page = chromium.new_page()
        page.set_content("<p id=x>started</p>")
        assert page.text_content("#x") == "started"
    assert not chromium.is_connected()


def test_a_missing_chromium_is_the_callers_error_in_one_line(monkeypatch):
    monkeypatch.setenv(browser.ENV_VAR, "/nonexistent/chromium")
    with pytest.raises(Refused, match=r"^cannot launch Chromium: GATEKEEPER_CHROMIUM='/nonexistent/chromium' is not"):
        with browser.started(Refused):
            pass


@pytest.mark.parametrize("command", ["audit", "scan"])
def test_audit_and_scan_say_the_same_line_without_a_browser(monkeypatch, command):
    monkeypatch.setenv(browser.ENV_VAR, "/nonexistent/chromium")
    done = CliRunner().invoke(main, [command, "http://127.0.0.1:9/"])
    assert done.exit_code == 2, done.output
    (line,) = [line for line in done.output.splitlines() if "cannot" in line]
    assert line == f"gatekeeper {command}: cannot launch Chromium: GATEKEEPER_CHROMIUM='/nonexistent/chromium' is not an executable file"
