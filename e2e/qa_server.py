"""The real server with the deliberately broken QA pages switched on (`--qa-fixtures`),
for the tests of `gatekeeper audit` and the pytest plugin.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .server import Server

AUDIT_TIMEOUT = 150  # seconds for one `gatekeeper audit` run in a test


class QAServer(Server):
    @staticmethod
    def command(port: int, db_path: Path) -> list[str]:
        return [*Server.command(port, db_path), "--qa-fixtures"]

    def qa_url(self, name: str) -> str:
        return f"{self.url}/qa/{name}"


def run_audit(*args: str, cwd: Path, timeout: float = AUDIT_TIMEOUT) -> subprocess.CompletedProcess:
    """`gatekeeper audit ARGS` as CI runs it: a new process, real Chromium."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEKEEPER_") or k == "GATEKEEPER_CHROMIUM"}
    return subprocess.run(
        [sys.executable, "-m", "gatekeeper", "audit", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
    )


def explain(result: subprocess.CompletedProcess, server: Server) -> str:
    return f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}\nserver log:\n{server.log()[-4000:]}"
