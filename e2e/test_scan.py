"""`gatekeeper scan` against a fixture shop page with six vendors hard-coded (GA4, Google
Ads, Meta pixel, Hotjar, TikTok, Clarity), an unknown widget and a cookie of its own, served
by a real HTTP server, trackers answered by the stand-ins: the draft names all six with
their ids and passes `gatekeeper check` once its TODOs are removed; bad pages exit 2.
"""

from __future__ import annotations

import functools
import subprocess
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def shop():
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(FIXTURES)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def gatekeeper(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gatekeeper", *args], cwd=cwd, capture_output=True, text=True, timeout=240)


def test_scan_drafts_a_site_file_that_passes_check_once_its_todos_are_gone(shop, tmp_path):
    sites = tmp_path / "sites"
    sites.mkdir()
    draft = sites / "fietsen.toml"
    result = gatekeeper("scan", f"{shop}/scan_shop.html", "--crawl", "1", "--offline-trackers", "--site-id", "fietsen",
                        "-o", str(draft), cwd=tmp_path)
    assert result.returncode == 1, result.stderr  # a draft with TODOs to resolve
    assert "scan_over.html" in result.stderr, "progress names every page, the crawled one too"
    text = draft.read_text()
    for line in ('preset = "ga4"\nparams = { measurement_id = "G-SCAN12345" }',
                 'preset = "google_ads"\nparams = { conversion_id = "AW-555666777" }',
                 'preset = "meta_pixel"\nparams = { pixel_id = "112233445566778" }',
                 'preset = "hotjar"\nparams = { site_id = "3344556" }',
                 'preset = "tiktok_pixel"\nparams = { pixel_id = "CSCAN1234567890ABCDE" }',
                 'preset = "microsoft_clarity"\nparams = { project_id = "scan12abcd" }'):
        assert line in text, line
    assert "# TODO: widgets.example-reviews.net" in text, "the unknown widget is a TODO naming its host"
    assert '[[cookies]]\nname = "winkelmand"\nlifetime_days = 30' in text, "the shop's own cookie, observed lifetime"
    assert 'languages = ["nl"]' in text and '[[categories]]\nid = "analytics"' in text and 'id = "marketing"' in text
    assert "_ga (" in text and "_fbp (90 day(s))" in text, "observed cookies are shown with their lifetimes"

    draft.write_text("".join(line for line in text.splitlines(keepends=True) if "TODO" not in line))
    check = gatekeeper("check", "--sites-dir", str(sites), cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "ok  fietsen: 3 categories, 6 services" in check.stdout


@pytest.mark.parametrize("path, reason", [("missing.html", "the server answered 404"), (None, "could not load")])
def test_a_page_that_cannot_be_scanned_exits_2_with_the_reason(path, reason, shop, tmp_path):
    url = f"{shop}/{path}" if path else "http://127.0.0.1:9/"
    result = gatekeeper("scan", url, "--offline-trackers", "-q", cwd=tmp_path)
    assert result.returncode == 2
    assert reason in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_scan_accepts_a_recognised_banner_and_reads_the_example_shops_ids(server, tmp_path):
    """On a page with a banner it recognises (here Gatekeeper's own, ECOMARKET) the scan
    accepts everything and drafts each vendor from what the accepted page then loads."""
    result = gatekeeper("scan", server.page_url("ecomarket"), "--offline-trackers", "--site-id", "eco", cwd=tmp_path)
    assert result.returncode in (0, 1), result.stderr
    assert "everything accepted" in result.stdout
    for line in ('preset = "ga4"\nparams = { measurement_id = "G-ECOM12345" }',
                 'preset = "google_ads"\nparams = { conversion_id = "AW-987654321" }',
                 'preset = "facebook_sdk"\nparams = { app_id = "1234567890", locale = "nl_BE" }',
                 'preset = "nosto"\nparams = { account_id = "ecomarket" }'):
        assert line in result.stdout, line
    assert "gk_consent" not in result.stdout.split("[[categories]]")[0], "the consent cookie is not the shop's own"
