"""`gatekeeper export`, `purge` and `secret` on SQLite and PostgreSQL, and their bad input."""

import asyncio
import csv
import io
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from logged import log_rows

from gatekeeper.cli import main
from gatekeeper.db import consent_records, create_engine, migrate

SITES = str(Path(__file__).resolve().parent.parent / "sites")
NOW = datetime.now(timezone.utc)


def row(i: int, site="ecomarket", when=NOW, **extra) -> dict:
    return dict(
        consent_id=f"id{i:05d}", site=site, created_at=when, action="grant",
        categories={"necessary": True, "analytics": i % 3 == 0, "marketing": False, "social": False,
                    "personalisation": False},
        revision=1, text_hash="e" * 64, language="fr", source="banner", ua_browser="Firefox", ua_os="Windows",
        ua_device="desktop", ip="198.51.100.0",
    ) | extra


fill = log_rows


def gk(*args: str, url: str):
    return CliRunner().invoke(main, [*args, "--database-url", url, "--sites-dir", SITES])


def test_export_csv_streams_every_record_since_the_date_with_progress_on_stderr(database_url):
    old = NOW - timedelta(days=40)
    fill(database_url, [row(i) for i in range(4500)] + [row(9000, when=old), row(9001, site="locomail")])
    result = gk("export", "--site", "ecomarket", "--since", (NOW - timedelta(days=1)).date().isoformat(), url=database_url)
    assert result.exit_code == 0, result.output
    lines = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(lines) == 4500  # more than two pages, none from before the date or another site
    assert lines[0]["consent_id"] == "id00000" and lines[-1]["consent_id"] == "id04499"
    assert lines[3]["analytics"] == "true" and lines[1]["analytics"] == "false"
    assert "Exporting ecomarket" in result.stderr and "exported 4500 record(s) of ecomarket" in result.stderr


def test_export_without_since_exports_every_record(database_url):
    fill(database_url, [row(1, when=datetime(1999, 5, 1, tzinfo=timezone.utc)), row(2, when=NOW - timedelta(days=900)),
                        row(3), row(4, site="locomail")])
    result = gk("export", "--site", "ecomarket", "--format", "jsonl", url=database_url)
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["consent_id"] for line in result.stdout.splitlines()] == ["id00001", "id00002", "id00003"]
    assert "exported 3 record(s) of ecomarket, all records" in result.stderr


def test_export_jsonl_to_a_file(database_url, tmp_path):
    fill(database_url, [row(1, ua_browser="=HYPERLINK(1)"), row(2)])
    out = tmp_path / "log.jsonl"
    result = gk("export", "--site", "ecomarket", "--since", "2000-01-01", "--format", "jsonl", "-o", str(out), url=database_url)
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["consent_id"] for r in records] == ["id00001", "id00002"]
    assert records[0]["ua_browser"] == "=HYPERLINK(1)" and records[0]["categories"]["necessary"] is True
    as_csv = gk("export", "--site", "ecomarket", "--since", "2000-01-01", url=database_url).stdout
    assert ",'=HYPERLINK(1)," in as_csv  # never a live formula in a spreadsheet


def test_purge_deletes_what_is_past_retention_and_reports_counts(database_url):
    fill(database_url, [row(1, when=NOW - timedelta(days=800)), row(2, when=NOW - timedelta(days=731)),
                        row(3, when=NOW - timedelta(days=700)), row(4, site="locomail", when=NOW - timedelta(days=900))])
    dry = gk("purge", "--dry-run", url=database_url)
    assert dry.exit_code == 0 and "ecomarket: would delete 2 record(s)" in dry.output
    result = gk("purge", "--site", "ecomarket", url=database_url)
    assert result.exit_code == 0, result.output
    assert f"ecomarket: deleted 2 record(s) from before {(NOW - timedelta(days=730)):%Y-%m-%d} (retention 730 days); 1 kept, oldest kept {(NOW - timedelta(days=700)):%Y-%m-%d}" in result.output
    assert "locomail" not in result.output
    again = gk("purge", url=database_url)
    assert "ecomarket: deleted 0 record(s)" in again.output and "locomail: deleted 1 record(s)" in again.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["export", "--site", "nosuch", "--since", "2026-01-01"], "gatekeeper: unknown site 'nosuch' (expected one of ecomarket, locomail)"),
        (["export", "--site", "ecomarket", "--since", "last tuesday"], "gatekeeper: bad date 'last tuesday' (expected YYYY-MM-DD)"),
        (["purge", "--site", "nosuch"], "gatekeeper: unknown site 'nosuch'"),
    ],
)
def test_bad_input_is_one_clear_line(tmp_path, args, message):
    result = gk(*args, url=f"sqlite:///{tmp_path}/x.db")
    assert result.exit_code == 1
    assert message in result.output and len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", [["export", "--site", "ecomarket", "--since", "2026-01-01"], ["purge"]])
def test_an_unreachable_database_is_one_clear_line(command):
    result = gk(*command, url="postgresql://gk:secret-pw@127.0.0.1:9/consent")
    assert result.exit_code == 1
    [line] = result.output.strip().splitlines()
    assert line.startswith("gatekeeper: cannot read the consent log at postgresql://gk:***@127.0.0.1:9/consent")
    assert "secret-pw" not in result.output


def test_a_database_without_a_consent_log_says_so(tmp_path):
    result = gk("purge", url=f"sqlite:///{tmp_path}/empty.db")
    assert result.exit_code == 1 and "no consent log there" in result.output


def test_secret_prints_a_fresh_key():
    first, second = (CliRunner().invoke(main, ["secret"]).output.strip() for _ in range(2))
    assert first != second and len(first) >= 43 and "," not in first


def test_secret_public_prints_the_verification_keys_newest_first():
    from gatekeeper.tokens import TokenSigner

    result = CliRunner().invoke(main, ["secret", "--public"], env={"GATEKEEPER_SECRET_KEYS": "new-key,old-key"})
    assert result.exit_code == 0, result.output
    assert result.output.split() == list(TokenSigner(["new-key", "old-key"]).public_keys)
