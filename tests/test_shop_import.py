"""gatekeeper.shop installs on a shop's server with the verifier's dependencies alone.

A fresh virtual environment gets this checkout without its dependencies plus the few the
shop module needs; importing it there, verifying a cookie and building a policy must work
and load no web framework, database or browser library. pip's cache keeps this quick.
"""

import shutil
import subprocess
import sys
import time
import venv

import pytest

from gatekeeper.tokens import ConsentToken, TokenSigner

from conftest import REPO, SITES_DIR

# What gatekeeper.shop may import, beyond the standard library.
# cryptography (with its cffi) verifies the ECDSA P-256 consent token (tokens.py).
SHOP_DEPENDENCIES = ["cffi", "cryptography", "msgspec"]
# The top-level modules a distribution's import loads, where they differ from its name.
MODULES_OF = {"cffi": ["_cffi_backend"], "cryptography": ["_openssl", "cryptography"]}

CHECK = """
import sys
from gatekeeper.shop import ConsentMiddleware, Guard, WSGIConsentMiddleware
guard = Guard(site="ecomarket", sites_dir=sys.argv[1], keys="k1")
consent = guard.consent("gk_consent=" + sys.argv[2])
assert consent.allows("analytics") and not consent.allows("marketing"), consent
headers = dict(guard.headers(consent, "www.ecomarket.be", True, html=True))
assert "'nonce-" + consent.csp_nonce + "'" in headers["content-security-policy"]
third_party = {m.split(".")[0] for m in sys.modules} - set(sys.stdlib_module_names) - {"__main__", "gatekeeper"}
print(" ".join(sorted(third_party)))
"""


@pytest.mark.timeout(240)
def test_shop_module_imports_with_only_its_own_dependencies(tmp_path):
    # The wheel is built by the test environment's own setuptools (no download) from a copy,
    # so the checkout gets no build/ folder.
    source = tmp_path / "source"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(".venv", ".git", "build", "*.egg-info", "__pycache__", "*.db*"))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    subprocess.run([*pip, "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", tmp_path / "dist", source], check=True, timeout=200)
    env_dir = tmp_path / "shop-venv"
    venv.create(env_dir, with_pip=False)  # the test's pip installs into it (pip --python)
    python = env_dir / "bin" / "python"
    wheel = next((tmp_path / "dist").glob("*.whl"))
    subprocess.run([*pip, "--python", python, "install", "--quiet", "--no-deps", wheel, *SHOP_DEPENDENCIES], check=True, timeout=200)

    value = TokenSigner(["k1"]).sign(ConsentToken(site="ecomarket", id="x", granted=("analytics",), rev=1, iat=int(time.time())))
    # cwd is not the checkout, so the import finds the installed package, not the source tree.
    result = subprocess.run(
        [str(python), "-c", CHECK, str(SITES_DIR), value], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == sorted(m for d in SHOP_DEPENDENCIES for m in MODULES_OF.get(d, [d]))
