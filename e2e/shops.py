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
from dataclasses import dataclass
from pathlib import Path

from .server import REPO, stop_process, wait_answering

SHOP_HOST = "127.0.0.2"
FRAMEWORKS = ("flask", "django", "starlette", "fastapi")


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
    declared = 'params = { measurement_id = "G-ECOM12345" }\n'
    assert declared in text, "the reference site's GA4 service changed: update write_site"
    text = text.replace(declared, declared + (
        'cookies = [\n'
        '  { name = "_ga", lifetime_days = 730, purpose = "Distinguishes visitors" },\n'
        '  { name = "_ga_*", lifetime_days = 730, purpose = "Keeps the session state" },\n'
        '  { name = "FPID", lifetime_days = 395, purpose = "Server-side measurement id (HttpOnly)" },\n'
        ']\n'
    ))
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
        wait_answering(self.process, f"{self.url}/product/1", timeout, self.log)

    def stop(self) -> None:
        stop_process(self.process)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else "(no log)"
