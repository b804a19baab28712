"""The hash chain itself: recomputable from the README's spec alone, the migration that
chains existing records, checkpoints after a purge, anchors, and two writer processes on
one PostgreSQL keeping one linear chain."""

import asyncio
import hashlib
import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from click.testing import CliRunner
from logged import log_rows
from test_verify import ecomarket, row, sql, verify

from gatekeeper.cli import main
from gatekeeper.db import _alembic_config, create_engine

SITES = str(Path(__file__).resolve().parent.parent / "sites")
REPO = Path(__file__).resolve().parent.parent


def by_the_spec(prev_hash: str, r: dict) -> str:
    """The README's canonical encoding, written from its text, not from gatekeeper.chain."""
    when = r["created_at"]
    when = datetime.fromisoformat(when) if isinstance(when, str) else when
    when = (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    categories = json.loads(r["categories"]) if isinstance(r["categories"], str) else r["categories"]
    doc = {"kind": "consent", "site": r["site"], "seq": r["seq"], "consent_id": r["consent_id"],
           "created_at": when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "action": r["action"],
           "categories": dict(sorted(categories.items())), "revision": r["revision"], "text_hash": r["text_hash"],
           "language": r["language"], "source": r["source"], "ua_browser": r["ua_browser"], "ua_os": r["ua_os"],
           "ua_device": r["ua_device"], "ip": r["ip"]}
    canonical = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(prev_hash.encode("ascii") + canonical).hexdigest()


def test_anyone_can_recompute_the_chain_from_the_spec(database_url):
    log_rows(database_url, [row(i, "ecomarket") | {"ua_browser": "Vivaldi “β”"} for i in range(5)])
    prev = "0" * 64
    for r in ecomarket(database_url):
        assert r["prev_hash"] == prev
        assert by_the_spec(prev, r) == r["record_hash"]
        prev = r["record_hash"]


def _upgrade(url: str, revision: str) -> None:
    async def run():
        engine = create_engine(url)
        try:
            async with engine.begin() as connection:
                def up(sync):
                    config = _alembic_config()
                    config.attributes["connection"] = sync
                    command.upgrade(config, revision)

                await connection.run_sync(up)
        finally:
            await engine.dispose()

    asyncio.run(run())


def test_the_migration_chains_the_records_that_exist(database_url):
    _upgrade(database_url, "0002")
    old = datetime(2025, 6, 1, tzinfo=timezone.utc)
    for i in range(7):
        site = "ecomarket" if i % 3 else "locomail"
        values = row(i, site) | {"created_at": old + timedelta(hours=i), "categories": json.dumps({"necessary": True})}
        sql(database_url, f"INSERT INTO consent_records ({', '.join(values)}) VALUES ({', '.join(':' + k for k in values)})", **values)
    sql(database_url, "INSERT INTO banner_texts VALUES (:h, 'ecomarket', 'nl', 1, '<p>oud</p>', :t)",
        h=hashlib.sha256(b"<p>oud</p>").hexdigest(), t=old + timedelta(hours=2, minutes=30))
    _upgrade(database_url, "head")
    rows = ecomarket(database_url)
    text = sql(database_url, "SELECT seq FROM banner_texts")[0]
    assert [r["seq"] for r in rows] == [1, 2, 4, 5] and text["seq"] == 3  # the text where it was first seen
    result = CliRunner().invoke(main, ["verify", "--database-url", database_url, "--sites-dir", SITES])
    assert result.exit_code == 0, result.output
    assert "ecomarket: intact — 5 entries" in result.output and "locomail: intact — 3 entries" in result.output


def test_after_a_purge_verification_starts_at_the_checkpoint(database_url):
    now = datetime.now(timezone.utc)
    log_rows(database_url, [row(i, "ecomarket") | {"created_at": now - timedelta(days=800 - i)} for i in range(6)]
             + [row(i, "ecomarket") | {"created_at": now - timedelta(days=i)} for i in range(6, 9)])
    purge = CliRunner().invoke(main, ["purge", "--database-url", database_url, "--sites-dir", SITES])
    assert "ecomarket: deleted 6 record(s)" in purge.output, purge.output
    [checkpoint] = sql(database_url, "SELECT * FROM chain_checkpoints")
    assert (checkpoint["site"], checkpoint["seq"], checkpoint["purged"]) == ("ecomarket", 6, 6)
    assert checkpoint["record_hash"] == ecomarket(database_url)[0]["prev_hash"]
    result = verify(database_url)
    assert result.exit_code == 0, result.output
    assert "intact — 3 entries from the purge checkpoint at position 6 to position 9" in result.output
    sql(database_url, "DELETE FROM chain_checkpoints")  # without it, the purge is a hole at the start
    assert verify(database_url).exit_code == 1


def test_an_anchor_proves_the_log_still_holds_its_entry(database_url):
    log_rows(database_url, [row(i, "ecomarket") for i in range(4)])
    out = CliRunner().invoke(main, ["anchor", "--site", "ecomarket", "--database-url", database_url, "--sites-dir", SITES])
    assert out.exit_code == 0, out.output
    line = out.output.strip()
    anchor = json.loads(line)
    assert anchor["seq"] == 4 and anchor["id"] == ecomarket(database_url)[-1]["id"] and anchor["at"].endswith("Z")
    assert sql(database_url, "SELECT seq, record_hash FROM chain_anchors") == [{"seq": 4, "record_hash": anchor["record_hash"]}]
    log_rows(database_url, [row(i, "ecomarket") for i in range(4, 6)])
    result = verify(database_url, "--anchor", line)
    assert result.exit_code == 0 and "the anchored entry at position 4 is in the log, unchanged" in result.output

    # Rewrite history thoroughly: change record 2 and re-link everything after it, head included.
    rows = ecomarket(database_url)
    prev = rows[0]["record_hash"]
    for r in rows[1:]:
        r = dict(r, consent_id="rewritten" if r["seq"] == 2 else r["consent_id"], prev_hash=prev)
        r["record_hash"] = by_the_spec(prev, r)
        sql(database_url, "UPDATE consent_records SET consent_id = :c, prev_hash = :p, record_hash = :h WHERE id = :id",
            c=r["consent_id"], p=r["prev_hash"], h=r["record_hash"], id=r["id"])
        prev = r["record_hash"]
    sql(database_url, "UPDATE chain_heads SET record_hash = :h WHERE site = 'ecomarket'", h=prev)
    assert verify(database_url).exit_code == 0  # consistent in itself: only a published anchor catches this
    result = verify(database_url, "--anchor", line)
    assert result.exit_code == 1 and "changed:" in result.output and "the chain up to here was rewritten" in result.output
    bad = CliRunner().invoke(main, ["verify", "--anchor", "not json", "--database-url", database_url, "--sites-dir", SITES])
    assert bad.exit_code == 2 and "not an anchor line" in bad.output


WRITER = """
import asyncio, sys, time
from datetime import datetime, timezone
import sqlalchemy as sa
from gatekeeper.consent_log import ConsentLog, ConsentRecord
from gatekeeper.db import consent_records, create_engine

async def main(url, name, other, n):
    engine = create_engine(url)
    log = ConsentLog(engine, max_batch=25)
    await log.start()
    print("ready", flush=True)
    sys.stdin.readline()  # both writers start appending together
    fields = dict(site="ecomarket", action="grant", categories={"necessary": True}, revision=1, text_hash="a" * 64,
                  language="nl", source="banner", ua_browser="Chrome", ua_os="Linux", ua_device="desktop", ip=None)
    sem = asyncio.Semaphore(40)
    async def one(i):
        async with sem:
            await log.append(ConsentRecord(consent_id=f"{name}{i}", created_at=datetime.now(timezone.utc), **fields))
    await asyncio.gather(*(one(i) for i in range(n // 2)))
    # Half-way, wait (bounded) until the other writer has committed too: on a busy machine one
    # process can otherwise write all of its records before the other is scheduled at all.
    deadline = time.monotonic() + 60
    query = sa.select(sa.func.count()).select_from(consent_records).where(consent_records.c.consent_id.like(other + "%"))
    while time.monotonic() < deadline:
        async with engine.connect() as connection:
            if (await connection.execute(query)).scalar_one():
                break
        await asyncio.sleep(0.01)
    else:
        sys.exit("the other writer never committed")
    await asyncio.gather(*(one(i) for i in range(n // 2, n)))
    await log.stop()
    await engine.dispose()
    from gatekeeper import metrics
    print("moved", int(metrics.chain_head_moved._value.get()), flush=True)

asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
"""


def test_two_writer_processes_on_one_log_keep_one_linear_chain(database_url):
    url = database_url
    log_rows(url, [])  # migrated
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, url, name, other, "600"], cwd=REPO, text=True,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE) for name, other in (("a", "b"), ("b", "a"))]
    try:
        for writer in writers:
            assert writer.stdout.readline().strip() == "ready"
        for writer in writers:
            writer.stdin.write("go\n")
            writer.stdin.flush()
        for writer in writers:
            assert writer.wait(timeout=180) == 0
        moved = [int(writer.stdout.read().split()[-1]) for writer in writers]
    finally:
        for writer in writers:
            if writer.poll() is None:
                writer.kill()
    rows = ecomarket(url)
    assert len(rows) == 1200 and [r["seq"] for r in rows] == list(range(1, 1201))
    # Each writer waits half-way for the other's first commit, so the head moved between
    # the processes at least twice (a…b…a or b…a…b), however the machine schedules them.
    interleaved = sum(1 for x, y in zip(rows, rows[1:]) if x["consent_id"][0] != y["consent_id"][0])
    assert interleaved >= 2, "the two writers never alternated: not a test of concurrency"
    # And a writer found the head it had committed last moved by the other process: the
    # path that must not fork the chain ran (chain_store.PostgresStore._extend_known_head;
    # on SQLite the assumed head that SQLiteStore.write_here moves only from where it was).
    assert sum(moved) >= 1, moved
    result = verify(url)
    assert result.exit_code == 0, result.output
