"""The package as a user installs it: the wheel built from this checkout, installed with no
extras into a fresh virtual environment (no Playwright, no asyncpg), then used from an
empty folder as the README's first steps do; last, with the [audit] extra added, the
installed `gatekeeper audit` checks the installed server's demo shop in real Chromium.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path

import pytest

from e2e.qa_server import AUDIT_TIMEOUT
from e2e.server import REPO, Server
from gatekeeper.extras import install_hint
from gatekeeper.sites import load_sites

pytestmark = pytest.mark.timeout(600)

# What a wheel is built from: the project's files, none of the local build state.
# A visitor, not a bot (bots are answered but not recorded).
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"

_NOT_SOURCE = shutil.ignore_patterns(
    ".venv", ".git", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", "*.db*", ".gatekeeper-secret", "reports"
)


def _run(command: list, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True, timeout=300, **kwargs)
    assert done.returncode == 0, f"{command} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    shutil.copytree(REPO, source, ignore=_NOT_SOURCE)
    # The project's own build backend from the test environment: no download per run.
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", work / "dist", source])
    return next((work / "dist").glob("gatekeeper_consent-*.whl"))


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh virtual environment with the wheel and pytest, and no extra of ours."""
    venv = tmp_path_factory.mktemp("venv") / "venv"
    _run([sys.executable, "-m", "venv", venv])
    _run([venv / "bin/python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", wheel, "pytest"])
    return venv


def test_the_wheel_ships_typing_marker_and_the_browser_code(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "gatekeeper/py.typed" in names
    assert "gatekeeper/banner_static/gate.js" in names
    assert {"gatekeeper/example_sites/ecomarket.toml", "gatekeeper/starter_site.toml", "gatekeeper/docs/rules.md"} <= names
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("/METADATA"))).decode()
    assert "Name: gatekeeper-consent" in metadata
    assert "Provides-Extra: audit" in metadata and "Provides-Extra: postgres" in metadata


def test_no_extra_means_no_browser_and_no_asyncpg(venv):
    for module in ("playwright", "asyncpg"):
        found = _run([venv / "bin/python", "-c", f"import importlib.util as u; print(u.find_spec({module!r}) is not None)"])
        assert found.stdout.strip() == "False", f"{module} was installed without its extra"


class InstalledServer(Server):
    venv: Path

    @staticmethod
    def command(port: int, db_path: Path) -> list[str]:
        return [
            str(InstalledServer.venv / "bin/gatekeeper"), "serve", "--host", "127.0.0.1", "--port", str(port),
            "--database-url", f"sqlite:///{db_path}",
        ]


@pytest.fixture(scope="module")
def served(venv, tmp_path_factory):
    InstalledServer.venv = venv
    server = InstalledServer.start(tmp_path_factory.mktemp("served"))
    yield server
    server.stop()


def test_the_installed_server_serves_a_bundle_and_records_a_decision(served):
    # Started in an empty folder: the example sites shipped in the wheel, said in one line.
    assert "No sites/ folder here: serving the example sites shipped with Gatekeeper" in served.log()
    with urllib.request.urlopen(f"{served.url}/gk/ecomarket.js", timeout=10) as response:
        assert response.status == 200
        assert b"gatekeeper" in response.read()
    site = load_sites(REPO / "sites")["ecomarket"]
    body = {
        "site": "ecomarket",
        "categories": {c: c == "analytics" for c in site.optional_categories},
        "revision": site.revision,
        "language": "nl",
        "source": "banner",
    }
    request = urllib.request.Request(
        f"{served.url}/api/v1/consent",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Origin": served.url, "User-Agent": BROWSER},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201, served.log()
        assert response.headers["Set-Cookie"].startswith("gk_consent=")
        consent_id = json.load(response)["consent_id"]
    assert [r["categories"]["analytics"] for r in served.records(consent_id=consent_id)] == [True]


def test_init_writes_a_site_the_installed_check_accepts(venv, tmp_path):
    _run([venv / "bin/gatekeeper", "init", "my-shop"], cwd=tmp_path)
    checked = _run([venv / "bin/gatekeeper", "check"], cwd=tmp_path)
    assert "ok  my-shop: 3 categories" in checked.stdout
    rule = _run([venv / "bin/gatekeeper", "rules", "2"], cwd=tmp_path)  # the rules ship with the package
    assert rule.stdout.startswith("Rule 2: No tracker storage before a choice")


def test_the_pytest_plugin_without_playwright_says_what_to_install(venv, tmp_path):
    (tmp_path / "test_shop.py").write_text("def test_banner(consent_page):\n    consent_page.goto('http://127.0.0.1:9/')\n")
    done = subprocess.run(
        [venv / "bin/python", "-m", "pytest", "-p", "no:cacheprovider", "test_shop.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output  # the test fails; pytest itself loaded the plugin
    assert f"Gatekeeper's pytest plugin needs Playwright, which is not installed: {install_hint('audit')}" in output
    assert "Traceback" not in output and "ModuleNotFoundError" not in output


def test_audit_without_playwright_is_one_line_and_exit_2(venv, tmp_path):
    done = subprocess.run(
        [venv / "bin/gatekeeper", "audit", "http://127.0.0.1:9/"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"gatekeeper audit needs Playwright, which is not installed: {install_hint('audit')}"
    ]


def test_postgresql_without_asyncpg_is_one_line(venv, tmp_path):
    done = subprocess.run(
        [venv / "bin/gatekeeper", "purge", "--dry-run", "--sites-dir", REPO / "sites",
         "--database-url", "postgresql://gk:secret@127.0.0.1:9/gk"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert line.endswith(f"needs asyncpg, which is not installed: {install_hint('postgres')}")
    assert "secret" not in line


# Last in this module: it adds the [audit] extra to the venv the tests above need without it.
def test_with_the_audit_extra_the_installed_audit_checks_a_shop(venv, wheel, served, tmp_path):
    _run([venv / "bin/python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", f"{wheel}[audit]"])
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEKEEPER_") or k == "GATEKEEPER_CHROMIUM"}
    done = subprocess.run(
        [venv / "bin/gatekeeper", "audit", "--offline-trackers", "--dwell", "1", f"{served.url}/demo/ecomarket",
         "--json", "audit.json"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=AUDIT_TIMEOUT,
    )
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    assert "1 page(s): 1 clean, 0 with violations, 0 not audited · exit 0" in done.stdout
    scenarios = json.loads((tmp_path / "audit.json").read_text())["pages"][0]["scenarios"]
    assert [s["name"] for s in scenarios][:2] == ["before consent", "reject"]
