"""`gatekeeper verify` and `anchor` on SQLite and PostgreSQL: an intact chain passes, and
every kind of tampering (UPDATE of any field, DELETE in the middle and at the end, INSERT
of a plausible row, two rows swapped) is caught, naming the first broken record."""

import asyncio
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from logged import log_rows

from gatekeeper import chain
from gatekeeper.cli import main
from gatekeeper.db import create_engine

SITES = str(Path(__file__).resolve().parent.parent / "sites")
START = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)


def row(i: int, site: str) -> dict:
    return dict(
        consent_id=f"{site[:3]}{i:05d}", site=site, created_at=START + timedelta(minutes=i), action="grant",
        categories={"necessary": True, "analytics": i % 2 == 0, "marketing": i % 3 == 0}, revision=1,
        text_hash="d" * 64, language="nl", source="banner", ua_browser="Firefox", ua_os="Linux",
        ua_device="desktop", ip="192.0.2.0",
    )


@pytest.fixture
def filled(database_url):
    """Ten records of each example site, interleaved (so each site's ids have gaps)."""
    log_rows(database_url, [row(i, site) for i in range(10) for site in ("ecomarket", "locomail")])
    return database_url


def sql(url: str, statement: str, **params):
    async def run():
        engine = create_engine(url)
        try:
            async with engine.begin() as connection:
                result = await connection.execute(sa.text(statement), params)
                return [dict(r) for r in result.mappings()] if result.returns_rows else None
        finally:
            await engine.dispose()

    return asyncio.run(run())


def ecomarket(url: str) -> list[dict]:
    return sql(url, "SELECT * FROM consent_records WHERE site = 'ecomarket' ORDER BY seq")


def verify(url: str, *args: str):
    return CliRunner().invoke(main, ["verify", "--site", "ecomarket", *args, "--database-url", url, "--sites-dir", SITES])


def test_an_intact_chain_verifies_and_the_run_is_stored(filled):
    result = verify(filled)
    assert result.exit_code == 0, result.output
    assert "ecomarket: intact — 10 entries from genesis to position 10" in result.output
    stored = sql(filled, "SELECT ok, checked, seq FROM chain_verifications")
    assert [(bool(r["ok"]), r["checked"], r["seq"]) for r in stored] == [(True, 10, 10)]


UPDATES = {
    "consent_id": "'forged'", "created_at": "created_at", "action": "'withdraw'",
    "categories": "'{\"necessary\": true, \"analytics\": true, \"marketing\": true}'", "revision": "2",
    "text_hash": "'" + "e" * 64 + "'", "language": "'fr'", "source": "'api'", "ua_browser": "'Chrome'",
    "ua_os": "'Windows'", "ua_device": "'mobile'", "ip": "'198.51.100.0'", "seq": "seq + 1000",
    "prev_hash": "'" + "1" * 64 + "'", "record_hash": "'" + "2" * 64 + "'",
}


def test_an_update_of_any_field_is_named_as_changed(filled):
    target = ecomarket(filled)[4]
    for column, value in UPDATES.items():
        if column == "created_at":  # one second later, as text or timestamp alike
            new = target["created_at"]
            new = (datetime.fromisoformat(new) if isinstance(new, str) else new) + timedelta(seconds=1)
            sql(filled, "UPDATE consent_records SET created_at = :v WHERE id = :id", v=new, id=target["id"])
        else:
            sql(filled, f"UPDATE consent_records SET {column} = {value} WHERE id = :id", id=target["id"])
        result = verify(filled)
        assert result.exit_code == 1, (column, result.output)
        assert f"changed: record id {target['id']} at position" in result.output, (column, result.output)
        original = json.dumps(target[column]) if column == "categories" and isinstance(target[column], dict) else target[column]
        sql(filled, f"UPDATE consent_records SET {column} = :v WHERE id = :id", v=original, id=target["id"])
        assert verify(filled).exit_code == 0, column  # restored: intact again


def test_a_deleted_record_in_the_middle_is_named_as_removed(filled):
    rows = ecomarket(filled)
    sql(filled, "DELETE FROM consent_records WHERE id = :id", id=rows[3]["id"])
    result = verify(filled)
    assert result.exit_code == 1
    assert f"removed: record id {rows[4]['id']} at position 4: position 4 missing, between record id {rows[2]['id']}" in result.output


def test_deleted_records_at_the_end_are_named_as_removed(filled):
    rows = ecomarket(filled)
    sql(filled, "DELETE FROM consent_records WHERE id >= :id AND site = 'ecomarket'", id=rows[8]["id"])
    result = verify(filled)
    assert result.exit_code == 1
    assert f"removed: an entry at position 9: positions 9–10 missing at the end, after record id {rows[7]['id']}" in result.output


def _insert(url: str, values: dict) -> None:
    columns = ", ".join(values)
    sql(url, f"INSERT INTO consent_records ({columns}) VALUES ({', '.join(':' + c for c in values)})", **values)


def _plausible(base: dict, **changes) -> dict:
    values = {k: v for k, v in base.items() if k != "id"} | changes
    values["categories"] = json.dumps(values["categories"]) if isinstance(values["categories"], dict) else values["categories"]
    return values


def _hashed(values: dict, seq: int, prev: str) -> dict:
    fields = dict(values, categories=json.loads(values["categories"]), created_at=_time(values["created_at"]))
    return values | {"seq": seq, "prev_hash": prev, "record_hash": chain.link(prev, chain.canonical_record(values["site"], seq, fields))}


def _time(value):
    return datetime.fromisoformat(value).replace(tzinfo=timezone.utc) if isinstance(value, str) else value


def test_a_plausible_row_inserted_is_named_as_inserted(filled):
    rows = ecomarket(filled)
    last = rows[-1]
    # Naively: a copy of the newest record, another visitor's id, its chain columns copied too.
    _insert(filled, _plausible(last, consent_id="forged-naive", created_at=_time(last["created_at"])))
    result = verify(filled)
    assert result.exit_code == 1
    forged = sql(filled, "SELECT id FROM consent_records WHERE consent_id = 'forged-naive'")[0]["id"]
    assert f"inserted: record id {forged} at position 10" in result.output
    sql(filled, "DELETE FROM consent_records WHERE id = :id", id=forged)

    # Knowing the chain: linked correctly after the newest record, but the head was not moved.
    _insert(filled, _hashed(_plausible(last, consent_id="forged-end", created_at=_time(last["created_at"])), 11, last["record_hash"]))
    forged = sql(filled, "SELECT id FROM consent_records WHERE consent_id = 'forged-end'")[0]["id"]
    result = verify(filled)
    assert result.exit_code == 1
    assert f"inserted: record id {forged} at position 11: record id {forged} lies beyond the chain head" in result.output
    sql(filled, "DELETE FROM consent_records WHERE id = :id", id=forged)

    # In the middle: in the id gap of a (deleted) record of the other site, linked after position 5.
    gap = sql(filled, "SELECT id FROM consent_records WHERE site = 'locomail' AND id > :a AND id < :b",
              a=rows[4]["id"], b=rows[5]["id"])[0]["id"]
    sql(filled, "DELETE FROM consent_records WHERE id = :id", id=gap)
    _insert(filled, _hashed(_plausible(rows[4], id=gap, consent_id="forged-mid"), 6, rows[4]["record_hash"]) | {"id": gap})
    result = verify(filled)
    assert result.exit_code == 1
    assert f"inserted: record id {gap} at position 6" in result.output


def test_two_swapped_rows_are_named_as_reordered(filled):
    rows = ecomarket(filled)
    a, b = rows[2], rows[6]
    for source, target in ((a, b), (b, a)):
        values = _plausible(source)
        sets = ", ".join(f"{c} = :{c}" for c in values)
        sql(filled, f"UPDATE consent_records SET {sets} WHERE id = :target", target=target["id"], **values)
    result = verify(filled)
    assert result.exit_code == 1
    # Position 7 is now stored where position 3 was: the first row out of its place.
    assert f"reordered: record id {a['id']} at position 7: record id {a['id']} is stored before the entry at position 3" in result.output


def test_an_unreadable_database_exits_2(tmp_path):
    result = CliRunner().invoke(main, ["verify", "--database-url", "postgresql://nobody@127.0.0.1:9/none", "--sites-dir", SITES])
    assert result.exit_code == 2
    assert "cannot read the consent log" in result.output
