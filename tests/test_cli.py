import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from gatekeeper.bundle import build_bundle
from gatekeeper.cli import main
from gatekeeper.sites import load_sites
from gatekeeper.settings import Settings, SettingsError, declared, env_name

REPO = Path(__file__).resolve().parent.parent


def test_check_passes_on_the_example_sites():
    result = CliRunner().invoke(main, ["check", "--sites-dir", str(REPO / "sites")])
    assert result.exit_code == 0, result.output
    assert re.search(r"ok  ecomarket: 5 categories, 4 services, languages nl, fr, en, de, revision 1, bundle \d+ bytes gzipped \(nl \d+, fr \d+, en \d+, de \d+ with \?lang=\)", result.output)
    assert "ok  locomail: 2 categories, 1 services" in result.output


@pytest.mark.parametrize("keys", ["one-key", "old-key,new-key,newer-key"])
def test_check_reports_the_size_the_server_serves(make_client, keys):
    """The served bundle carries a public key per signing key; check counts them."""
    served = make_client(secret_keys=keys).get("/gk/ecomarket.js", headers={"Accept-Encoding": "gzip"})
    assert served.headers["content-encoding"] == "gzip"
    result = CliRunner().invoke(main, ["check", "--sites-dir", str(REPO / "sites")], env={"GATEKEEPER_SECRET_KEYS": keys})
    assert result.exit_code == 0, result.output
    assert "ok  ecomarket: 5 categories" in result.output
    reported = int(re.search(r"ok  ecomarket: .* bundle (\d+) bytes gzipped", result.output).group(1))
    assert reported == int(served.headers["content-length"])


def test_check_without_keys_counts_the_one_serve_would_generate_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", "--sites-dir", str(REPO / "sites")], env={"GATEKEEPER_SECRET_KEYS": ""})
    assert result.exit_code == 0, result.output
    reported = int(re.search(r"ok  ecomarket: .* bundle (\d+) bytes gzipped", result.output).group(1))
    keyless = len(build_bundle(load_sites(REPO / "sites")["ecomarket"]).gzip)
    assert 80 < reported - keyless < 110, (reported, keyless)  # one public key's worth, gzipped
    assert list(tmp_path.iterdir()) == []


def test_check_fails_with_the_file_and_field(tmp_path):
    text = (REPO / "sites" / "locomail.toml").read_text().replace('category = "analytics"', 'category = "ads"')
    (tmp_path / "locomail.toml").write_text(text)
    result = CliRunner().invoke(main, ["check", "--sites-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert f"{tmp_path}/locomail.toml: services[0].category: unknown category 'ads'" in result.output


def test_check_reads_the_environment(tmp_path):
    result = CliRunner().invoke(main, ["check"], env={"GATEKEEPER_SITES_DIR": str(tmp_path / "missing")})
    assert result.exit_code == 1 and "sites directory not found" in result.output


def test_serve_refuses_a_broken_config_before_listening(tmp_path):
    (tmp_path / "broken.toml").write_text("id = ")
    result = CliRunner().invoke(main, ["serve", "--sites-dir", str(tmp_path), "--database-url", f"sqlite:///{tmp_path}/x.db"])
    assert result.exit_code == 1 and "broken.toml: not valid TOML" in result.output


def test_serve_refuses_an_unsupported_database(tmp_path):
    result = CliRunner().invoke(main, ["serve", "--sites-dir", str(REPO / "sites"), "--database-url", "mysql://x@localhost/db"])
    assert result.exit_code == 1 and "unsupported database 'mysql'" in result.output


def test_every_setting_is_an_option_with_its_environment_variable():
    help_text = CliRunner().invoke(main, ["serve", "--help"], terminal_width=200).output
    for name, _default, _help in declared():
        assert f"--{name.replace('_', '-')}" in help_text
        assert env_name(name) in help_text


def test_every_setting_is_documented_in_the_readme():
    readme = (REPO / "README.md").read_text()
    for name, _default, _help in declared():
        assert f"`{env_name(name)}`" in readme, f"{env_name(name)} is not documented in README.md"


def test_settings_are_read_from_the_environment_by_the_cli_alone():
    assert not hasattr(Settings, "from_env")  # one parser: click's options and their variables
    assert "os.environ" not in (REPO / "gatekeeper" / "settings.py").read_text()
    bad_port = CliRunner().invoke(main, ["serve"], env={"GATEKEEPER_PORT": "eighty"})
    assert bad_port.exit_code == 2 and "'eighty' is not a valid integer" in bad_port.output


@pytest.mark.parametrize(("variable", "value"), [("GATEKEEPER_LOG_LEVEL", "verbose"), ("GATEKEEPER_LOG_FORMAT", "xml")])
def test_a_setting_outside_its_choices_is_one_line(variable, value):
    result = CliRunner().invoke(main, ["serve"], env={variable: value})
    assert result.exit_code == 1 and "Traceback" not in result.output
    (line,) = result.output.splitlines()
    assert line.startswith(f"gatekeeper: {variable} (--") and f"{value!r} is not one of" in line
    with pytest.raises(SettingsError):
        Settings(**{variable.removeprefix("GATEKEEPER_").lower(): value})


def test_secret_settings_stay_out_of_repr():
    shown = repr(Settings(secret_keys="key-s3cret", admin_password="pw-s3cret", admin_users="bob:users-s3cret", port=9001))
    assert "port=9001" in shown and "s3cret" not in shown


def test_development_key_is_generated_once_and_kept(tmp_path):
    from gatekeeper.settings import resolve_secret_keys

    settings = Settings(secret_file=str(tmp_path / "secret"))
    first = resolve_secret_keys(settings)
    assert resolve_secret_keys(settings) == first  # not a fresh key per process
    assert oct((tmp_path / "secret").stat().st_mode & 0o777) == "0o600"
    assert resolve_secret_keys(Settings(secret_keys="new, old")) == ["new", "old"]


def test_yes_no_settings_are_switches(tmp_path):
    from gatekeeper import cli

    seen = {}

    @cli.main.command("probe-switch")
    @cli.settings_options("qa_fixtures")
    def probe(qa_fixtures):
        seen["value"] = qa_fixtures

    runner = CliRunner()
    assert runner.invoke(main, ["probe-switch", "--qa-fixtures"]).exit_code == 0 and seen["value"] is True
    assert runner.invoke(main, ["probe-switch", "--no-qa-fixtures"], env={"GATEKEEPER_QA_FIXTURES": "1"}).exit_code == 0
    assert seen["value"] is False
    assert runner.invoke(main, ["probe-switch"], env={"GATEKEEPER_QA_FIXTURES": "true"}).exit_code == 0 and seen["value"] is True
    cli.main.commands.pop("probe-switch")


def test_serve_never_prints_the_database_password(monkeypatch):
    import uvicorn

    from gatekeeper import cli

    async def migrated(engine):
        await engine.dispose()

    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: None)
    monkeypatch.setattr(cli, "_migrate_once", migrated)
    common = ["serve", "--sites-dir", str(REPO / "sites"), "--secret-keys", "k"]
    result = CliRunner().invoke(main, [*common, "--database-url", "postgresql://shop:s3cret-pw@db.internal/consent"])
    assert result.exit_code == 0, result.output
    assert "postgresql://shop:***@db.internal/consent" in result.output and "s3cret-pw" not in result.output
    result = CliRunner().invoke(main, [*common, "--database-url", "mysql://shop:s3cret-pw@db.internal/consent"])
    assert result.exit_code == 1 and "unsupported database 'mysql'" in result.output and "s3cret-pw" not in result.output


def test_init_writes_a_starter_site_that_checks_and_never_overwrites(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    written = runner.invoke(main, ["init", "corner-shop"])
    assert written.exit_code == 0, written.output
    assert "wrote sites/corner-shop.toml" in written.output
    text = Path("sites/corner-shop.toml").read_text()
    assert 'id = "corner-shop"' in text and text.count("\n# ") > 10  # commented, to be edited
    checked = runner.invoke(main, ["check"])
    assert checked.exit_code == 0 and "ok  corner-shop: 3 categories, 0 services" in checked.output
    again = runner.invoke(main, ["init", "corner-shop"])
    assert again.exit_code == 1 and "sites/corner-shop.toml already exists" in again.output
    assert Path("sites/corner-shop.toml").read_text() == text
    bad = runner.invoke(main, ["init", "Corner Shop"])
    assert bad.exit_code == 1 and "'Corner Shop' is not a site id" in bad.output


def test_init_without_a_site_id_writes_sites_shop_toml(tmp_path):
    result = CliRunner().invoke(main, ["init", "--sites-dir", str(tmp_path / "conf")])
    assert result.exit_code == 0 and (tmp_path / "conf" / "shop.toml").is_file()


def test_serve_without_a_sites_folder_serves_the_shipped_examples_and_says_so(tmp_path, monkeypatch):
    """The default ./sites missing: the example sites shipped in the package, in one line.
    A folder that was asked for (option or variable) and is missing stays an error."""
    monkeypatch.chdir(tmp_path)
    # The examples load; the server then stops at the database, before listening.
    examples = CliRunner().invoke(main, ["serve", "--database-url", "mysql://x@localhost/db"])
    assert examples.output.splitlines()[0].startswith("No sites/ folder here: serving the example sites shipped")
    assert examples.exit_code == 1 and "unsupported database 'mysql'" in examples.output
    asked = CliRunner().invoke(main, ["serve"], env={"GATEKEEPER_SITES_DIR": str(tmp_path / "missing")})
    assert asked.exit_code == 1 and "missing: sites directory not found" in asked.output


@pytest.mark.parametrize("module", ["log_commands", "csp_command", "chain_commands", "audit.command", "cli"])
def test_each_command_module_imports_on_its_own(module):
    """No import circle: a command module imports the shared options, not the group that adds it."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", f"import gatekeeper.{module}"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_secret_prints_a_new_key():
    first, second = (CliRunner().invoke(main, ["secret"]).output.strip() for _ in range(2))
    assert first != second and len(first) >= 40
