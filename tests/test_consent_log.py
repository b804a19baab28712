"""The consent log on SQLite and on a real PostgreSQL: records, group commit, failures, migrations."""

import asyncio
import json
import sqlite3
import time
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from gatekeeper.consent_log import ConsentLog, ConsentRecord, LogClosed
from gatekeeper.db import DatabaseError, _alembic_config, consent_records, create_engine, migrate

HEAD = ScriptDirectory.from_config(_alembic_config()).get_current_head()

CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"


def record(i: int, site: str = "ecomarket", when: datetime | None = None, **changes) -> ConsentRecord:
    fields = dict(
        consent_id=f"c{i:06d}", site=site, created_at=when or datetime.now(timezone.utc), action="grant",
        categories={"necessary": True, "analytics": i % 2 == 0, "marketing": False}, revision=1,
        text_hash="a" * 64, language="nl", source="banner", ua_browser="Chrome", ua_os="Linux",
        ua_device="desktop", ip="192.0.2.0",
    )
    return ConsentRecord(**(fields | changes))


async def started(url: str) -> ConsentLog:
    engine = create_engine(url)
    await migrate(engine)
    log = ConsentLog(engine)
    await log.start()
    return log


async def stopped(log: ConsentLog) -> None:
    await log.stop()
    await log.engine.dispose()


def test_a_record_reads_back_exactly(database_url):
    async def run():
        log = await started(database_url)
        try:
            written = record(1, when=datetime(2026, 3, 1, 12, 30, 5, 123456, tzinfo=timezone.utc))
            await log.append(written)
            assert await log.records_for("c000001") == [written]
            assert await log.records_for("nope") == []
        finally:
            await stopped(log)

    asyncio.run(run())


def test_concurrent_decisions_share_commits_and_each_waits_for_its_own(database_url):
    """100 concurrent appends: far fewer commits than records, and no append returns
    before its record can be read from another connection (that is: committed)."""

    async def run():
        log = await started(database_url)
        reader = create_engine(database_url)
        not_yet_visible = []

        async def decide(i: int) -> None:
            await log.append(record(i))
            async with reader.connect() as connection:
                found = await connection.execute(
                    sa.select(sa.func.count()).where(consent_records.c.consent_id == f"c{i:06d}")
                )
                if found.scalar_one() != 1:
                    not_yet_visible.append(i)

        try:
            await asyncio.gather(*(decide(i) for i in range(100)))
        finally:
            await reader.dispose()
            await stopped(log)
        return log.store.timings.batches, not_yet_visible

    commits, not_yet_visible = asyncio.run(run())
    assert not_yet_visible == []
    assert 1 <= commits <= 20, f"{commits} commits for 100 concurrent records: not grouped"


def test_a_failed_commit_fails_every_waiter_and_writes_nothing(database_url):
    async def run():
        log = await started(database_url)
        try:
            good = record(1)
            bad = record(2, consent_id="x" * 200)  # too long for the column on PostgreSQL
            if log.engine.dialect.name == "sqlite":  # SQLite ignores lengths: break the batch with NULL instead
                bad = record(2, language=None)
            results = await asyncio.gather(log.append(good), log.append(bad), return_exceptions=True)
            async with log.engine.connect() as connection:
                rows = (await connection.execute(sa.select(sa.func.count()).select_from(consent_records))).scalar_one()
            after = await asyncio.wait_for(log.append(record(3)), 10)  # the writer survives
            return results, rows, after.seq
        finally:
            await stopped(log)

    results, rows, after = asyncio.run(run())
    assert all(isinstance(r, Exception) for r in results), results
    assert rows == 0 and after == 1  # the failed batch took no chain position


def test_migrating_again_changes_nothing(database_url):
    asyncio.run(_migrate_with(database_url, concurrently=False))


def test_postgresql_servers_starting_together_migrate_once(postgres_cluster):
    """Several servers on one PostgreSQL start at once: the advisory lock lets one migrate."""
    version, tables = asyncio.run(_migrate_with(postgres_cluster.create_database("together"), concurrently=True))
    assert version == HEAD and {"consent_records", "banner_texts"} <= set(tables)


async def _migrate_with(database_url: str, concurrently: bool):
    engines = [create_engine(database_url) for _ in range(3)]
    try:
        if concurrently:
            await asyncio.gather(*(migrate(e) for e in engines))
        else:
            for e in engines:
                await migrate(e)
        async with engines[0].connect() as connection:
            version = (await connection.execute(sa.text("SELECT version_num FROM alembic_version"))).scalar_one()
            tables = await connection.run_sync(lambda c: sa.inspect(c).get_table_names())
    finally:
        for e in engines:
            await e.dispose()
    assert version == HEAD
    assert {"consent_records", "banner_texts"} <= set(tables)
    return version, tables


async def _alembic(engine, verb, revision: str) -> None:
    def run(connection):
        config = _alembic_config()
        config.attributes["connection"] = connection
        getattr(command, verb)(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


def test_old_actions_are_renamed_for_what_happened_and_back(database_url):
    """0003: a first refusal logged as `grant` and every later decision logged as `update`
    become `grant` or `refuse` by what they decided; the downgrade restores the old words."""
    everything_off = {"necessary": True, "analytics": False, "marketing": False}
    old = [
        record(1, consent_id="a", action="grant", categories=everything_off),
        record(2, consent_id="a", action="update", categories=everything_off | {"analytics": True}),
        record(3, consent_id="a", action="update", categories=everything_off),
        record(4, consent_id="a", action="withdraw", categories=everything_off),
        record(5, consent_id="b", action="grant", categories=everything_off | {"marketing": True}),
    ]

    async def run():
        engine = create_engine(database_url)
        try:
            await _alembic(engine, "upgrade", "0002")
            async with engine.begin() as connection:
                await connection.execute(sa.insert(consent_records), [r.row() for r in old])
            await migrate(engine)
            query = sa.select(consent_records.c.action).order_by(consent_records.c.id)
            async with engine.connect() as connection:
                upgraded = (await connection.execute(query)).scalars().all()
            await _alembic(engine, "downgrade", "0002")
            async with engine.connect() as connection:
                downgraded = (await connection.execute(query)).scalars().all()
        finally:
            await engine.dispose()
        return upgraded, downgraded

    upgraded, downgraded = asyncio.run(run())
    assert upgraded == ["refuse", "grant", "refuse", "withdraw", "grant"]
    assert downgraded == [r.action for r in old]


def test_unreachable_database_is_one_clear_error():
    with pytest.raises(DatabaseError, match="cannot reach the consent log database"):
        asyncio.run(migrate(create_engine("postgresql://nobody@127.0.0.1:9/none")))


def test_api_records_and_receipts_on_each_database(make_client, database_url):
    client = make_client(database_url=database_url)
    body = {"site": "locomail", "categories": {"analytics": True}, "revision": 1, "language": "en"}
    headers = {"Content-Type": "application/json", "Origin": "http://testserver", "User-Agent": CHROME}
    answer = client.post("/api/v1/consent", content=json.dumps(body), headers=headers)
    assert answer.status_code == 201, answer.text
    receipt = client.get(f"/api/v1/consent/{answer.json()['consent_id']}")
    assert receipt.status_code == 200
    assert receipt.json()["records"][0]["categories"] == {"necessary": True, "analytics": True}
    assert client.get("/api/v1/consent/does-not-exist").status_code == 404


def test_servers_starting_together_archive_each_banner_text_once(database_url, sites):
    """Two servers archiving the same texts at once: both start, each text is stored once
    (a duplicate key must not leave a PostgreSQL transaction half-failed)."""
    from gatekeeper.bundle import build_bundle
    from gatekeeper.receipts import archive_banner_texts, banner_texts

    bundles = {site_id: build_bundle(site) for site_id, site in sites.items()}
    expected = {h for b in bundles.values() for h in b.text_hashes.values()}

    async def run() -> tuple[list[int], set[str]]:
        logs = [await started(database_url) for _ in range(2)]
        try:
            stored = await asyncio.gather(*(archive_banner_texts(log, sites, bundles) for log in logs))
            async with logs[0].engine.connect() as connection:
                hashes = (await connection.execute(sa.select(banner_texts.c.text_hash))).scalars().all()
            assert len(hashes) == len(set(hashes))
            return list(stored), set(hashes)
        finally:
            for log in logs:
                await stopped(log)

    stored, hashes = asyncio.run(run())
    assert hashes == expected
    assert sum(stored) == len(expected)  # each text counted as new by exactly one server


def test_sqlite_commits_go_on_while_the_event_loop_is_busy(tmp_path):
    """The SQLite writer runs in the store's thread: a record queued while the previous
    commit was in flight is committed even while the event loop is busy with other work
    (here: blocked outright), not only once the loop gets round to the writer again."""
    url = f"sqlite:///{tmp_path}/busy.db"

    async def run():
        log = await started(url)
        try:
            first = asyncio.ensure_future(log.append(record(1)))
            await asyncio.sleep(0)  # queued; the writer's thread takes it
            second = asyncio.ensure_future(log.append(record(2)))
            await asyncio.sleep(0)  # queued behind it
            time.sleep(0.5)  # the event loop busy: no turn for anything
            with sqlite3.connect(f"{tmp_path}/busy.db") as db:
                committed = db.execute("SELECT count(*) FROM consent_records").fetchone()[0]
            await asyncio.wait_for(asyncio.gather(first, second), 10)
            return committed
        finally:
            await stopped(log)

    assert asyncio.run(run()) == 2


def test_stopping_commits_what_is_queued(database_url):
    async def run():
        log = await started(database_url)
        waiting = [asyncio.ensure_future(log.append(record(i))) for i in range(20)]
        await asyncio.sleep(0)
        await stopped(log)
        return [w.result().seq for w in waiting]

    assert sorted(asyncio.run(run())) == list(range(1, 21))


def _two_servers(url: str, first_work, pause: float = 0.0) -> tuple[int, bool]:
    """Two servers on one app: the first (an event loop of its own, in a thread) starts the
    log, does `first_work(log, second_started)` and stops first; the second starts the same
    log meanwhile and, once the first's loop has closed (and `pause` more seconds), appends
    a record and stops. The record's chain position, and whether the first thread ended."""
    import threading

    shared, second_started = {}, threading.Event()

    async def first():
        shared["log"] = log = await started(url)
        await first_work(log, second_started)
        await log.stop()

    thread = threading.Thread(target=lambda: asyncio.run(first()))
    thread.start()

    async def second():
        for _ in range(500):
            if "log" in shared:
                break
            await asyncio.sleep(0.01)
        log = shared["log"]
        await log.start()
        second_started.set()
        thread.join(10)
        await asyncio.sleep(pause)
        linked = await asyncio.wait_for(log.append(record(2)), 5)
        await asyncio.wait_for(log.stop(), 5)
        return linked.seq

    return asyncio.run(second()), not thread.is_alive()


def test_two_servers_on_one_sqlite_log_stop_in_either_order(tmp_path):
    """The server that started the writer may stop first: the other one still commits, and
    its own stop waits for the writer from its own event loop."""
    async def first_work(log, second_started):
        await log.append(record(1))
        second_started.wait(10)  # then the first to start stops first: the writer keeps running

    assert _two_servers(f"sqlite:///{tmp_path / 'two.db'}", first_work) == (2, True)


def test_a_server_whose_loop_closed_with_a_record_in_flight_does_not_stop_the_writer(tmp_path):
    """Its waiter's loop is gone when the commit ends: the writer goes on for the other server."""
    async def first_work(log, second_started):
        slow = log.store.write_here
        log.store.write_here = lambda entries: (time.sleep(0.3), slow(entries))[1]
        second_started.wait(10)
        asyncio.ensure_future(log.append(record(1)))  # still being committed when this loop closes
        await asyncio.sleep(0.05)

    # After the pause the first loop's commit has ended, its loop closed.
    assert _two_servers(f"sqlite:///{tmp_path / 'gone.db'}", first_work, pause=0.5) == (2, True)


def test_a_writer_that_has_ended_fails_appends_at_once(tmp_path, monkeypatch):
    """Whatever ends the SQLite writer's loop, a later record is refused (503), not left waiting."""
    from gatekeeper import consent_log

    async def scenario():
        log = await started(f"sqlite:///{tmp_path / 'ended.db'}")
        monkeypatch.setattr(consent_log, "_hand_back", lambda *a: (_ for _ in ()).throw(ValueError("a bug")))
        first = asyncio.ensure_future(log.append(record(1)))
        for _ in range(200):  # the writer committed it, then ended on the bug
            if log._writer.done():
                break
            await asyncio.sleep(0.01)
        first.cancel()
        with pytest.raises(LogClosed):
            await asyncio.wait_for(log.append(record(2)), 2)

    asyncio.run(scenario())
