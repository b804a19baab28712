"""gatekeeper.shop installs on a shop's server with the verifier's dependencies alone.

A fresh virtual environment gets this checkout without its dependencies plus the few the
shop module needs; importing it there, verifying a cookie and building a policy must work
and load no web framework, database or browser library. pip's cache keeps this quick.
"""

import subprocess
import sys
import time
import venv

import pytest

from gatekeeper.tokens import ConsentToken, TokenSigner

from conftest import REPO, SITES_DIR

# What gatekeeper.shop may import, beyond the standard library.
SHOP_DEPENDENCIES = ["itsdangerous", "msgspec"]

CHECK = """
import sys
from gatekeeper.shop import ConsentMiddleware, Guard, WSGIConsentMiddleware
guard = Guard(site="ecomarket", sites_dir=sys.argv[1], keys="k1")
consent, names = guard.consent("gk_consent=" + sys.argv[2])
assert consent.allows("analytics") and not consent.allows("marketing"), consent
headers = dict(guard.headers(consent, names, "www.ecomarket.be", True, html=True))
assert "'nonce-" + consent.csp_nonce + "'" in headers["content-security-policy"]
third_party = {m.split(".")[0] for m in sys.modules} - set(sys.stdlib_module_names) - {"__main__", "gatekeeper"}
print(" ".join(sorted(third_party)))
"""


@pytest.mark.timeout(240)
def test_shop_module_imports_with_only_its_own_dependencies(tmp_path):
    env_dir = tmp_path / "shop-venv"
    venv.create(env_dir, with_pip=False)  # the test's pip installs into it (pip --python)
    python = env_dir / "bin" / "python"
    install = [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*install, "--no-deps", str(REPO), *SHOP_DEPENDENCIES], check=True, timeout=220, cwd=tmp_path)

    value = TokenSigner(["k1"]).sign(ConsentToken(site="ecomarket", id="x", granted=("analytics",), rev=1, iat=int(time.time())))
    # cwd is not the checkout, so the import finds the installed package, not the source tree.
    result = subprocess.run(
        [str(python), "-c", CHECK, str(SITES_DIR), value], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == sorted(SHOP_DEPENDENCIES)
