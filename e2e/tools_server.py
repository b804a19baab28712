"""A plain static shop serving one page per real consent tool (e2e/consent_tools/), with
the tools' own files from npm (scripts/ensure-consent-tools) under /vendor/<package>/.
The audit reaches the tracker hosts' stand-ins through --offline-trackers.
"""

from __future__ import annotations

import subprocess
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

REPO = Path(__file__).resolve().parent.parent
PAGES = Path(__file__).resolve().parent / "consent_tools"
CACHE = REPO / ".cache" / "consent-tools"
NPM_MISSING = 3  # scripts/ensure-consent-tools' exit status when npm is not installed

# page -> the language of its <html lang> (the tool's texts follow it)
LANGUAGES = {
    "vanilla-cookieconsent": "en", "klaro": "de", "orejime": "fr", "tarteaucitron": "en",
    "tarteaucitron-gcm": "en", "cookieconsent-osano": "nl",
}


def install_tools() -> Path:
    """The installed tools' node_modules (skips the calling test when npm is missing)."""
    result = subprocess.run([str(REPO / "scripts" / "ensure-consent-tools"), str(CACHE)], capture_output=True, text=True)
    if result.returncode == NPM_MISSING:
        print(result.stderr.strip())
        pytest.skip(result.stderr.strip())
    assert result.returncode == 0, f"npm install of the consent tools failed:\n{result.stderr}"
    return CACHE / "node_modules"


class _Handler(SimpleHTTPRequestHandler):
    def __init__(self, *args, modules: Path, **kwargs):
        self.modules = modules
        super().__init__(*args, directory=str(PAGES), **kwargs)

    def log_message(self, *args) -> None:  # quiet: the audit reports every request
        pass

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path.startswith("/tools/") and path.endswith(".html"):
            return self._page(path.removeprefix("/tools/").removesuffix(".html"))
        return super().do_GET()

    def translate_path(self, path: str) -> str:
        path = urlsplit(path).path
        if path.startswith("/vendor/"):
            target = (self.modules / path.removeprefix("/vendor/")).resolve()
            return str(target) if target.is_relative_to(self.modules.resolve()) else str(PAGES / "missing")
        return super().translate_path(path.removeprefix("/site"))

    def _page(self, name: str) -> None:
        if name not in LANGUAGES:
            return self.send_error(404)
        head, body = (PAGES / f"{name}.html").read_text(encoding="utf-8").split("<!-- body -->")
        page = (PAGES / "shop.html").read_text(encoding="utf-8")
        for key, value in {"{lang}": LANGUAGES[name], "{tool}": name, "{page}": f"{name}.html",
                           "{head}": head.strip(), "{body}": body.strip()}.items():
            page = page.replace(key, value)
        data = page.encode()
        self.send_response(200)
        self.send_header("content-type", "text/html; charset=utf-8")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class ToolsServer:
    def __init__(self, modules: Path):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, modules=modules))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def page_url(self, name: str) -> str:
        return f"{self.url}/tools/{name}.html"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
