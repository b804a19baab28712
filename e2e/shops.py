"""The example shops of README "On your own server" (examples/*.py) as real servers for the
browser tests, and the site file they share with a Gatekeeper server.

The shops answer on 127.0.0.2 and Gatekeeper on 127.0.0.1: two sites, as a shop and
`consent.<shop>` are, so each keeps its own cookies (the shop's HttpOnly ones never reach
Gatekeeper's withdrawal, which would expire them itself).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .server import REPO

SHOP_HOST = "127.0.0.2"
FRAMEWORKS = ("flask", "django", "starlette")


def free_shop_port() -> int:
    with socket.socket() as sock:
        sock.bind((SHOP_HOST, 0))
        return sock.getsockname()[1]


def write_site(sites_dir: Path, gatekeeper: str, shop_origins: list[str]) -> None:
    """The reference ECOMARKET site, on these origins, with Gatekeeper named in `[csp]` and
    the shop's server-side measurement cookie (HttpOnly `FPID`) declared under analytics."""
    text = (REPO / "sites" / "ecomarket.toml").read_text()
    origins = ", ".join(f'"{o}"' for o in shop_origins)
    text = re.sub(r"^origins = .*$", f"origins = [{origins}]", text, count=1, flags=re.M)
    text = text.replace(
        '  { name = "_ga_*", lifetime_days = 730,',
        '  { name = "FPID", lifetime_days = 395, purpose = "Server-side measurement id (HttpOnly)" },\n'
        '  { name = "_ga_*", lifetime_days = 730,',
    )
    text += f'\n[csp]\ngatekeeper = "{gatekeeper}"\n'
    sites_dir.mkdir(parents=True, exist_ok=True)
    (sites_dir / "ecomarket.toml").write_text(text)


@dataclass
class Shop:
    framework: str
    mode: str
    port: int
    log_path: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{SHOP_HOST}:{self.port}"

    def start(self, sites_dir: Path, keys: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GATEKEEPER_", "SHOP_"))}
        env.update(
            GATEKEEPER_SECRET_KEYS=keys, GATEKEEPER_SITES_DIR=str(sites_dir), SHOP_CSP=self.mode,
            SHOP_HOST=SHOP_HOST, SHOP_PORT=str(self.port), PYTHONUNBUFFERED="1",
        )
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, str(REPO / "examples" / f"{self.framework}_shop.py")],
                cwd=self.log_path.parent, env=env, stdout=log, stderr=subprocess.STDOUT,
            )

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.framework} shop exited with {self.process.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/product/1", timeout=1) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.framework} shop not ready within {timeout:.0f}s:\n{self.log()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else "(no log)"
