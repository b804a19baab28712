"""The PostgreSQL writer's one-statement path: a batch extends the head this server left
without a lock round trip, and when another server moved that head meanwhile nothing is
written by it and the batch is chained again under the row lock, the chain still linear.
The SQLite writer: a batch costs a few statements whatever its size (after the first, the
head it committed last is assumed, and checked as it is moved), and its thread gets the
GIL back from a busy event loop without waiting the default switch interval."""

import asyncio
import sys

from prometheus_client import REGISTRY
from test_verify import START, ecomarket, row, verify

from gatekeeper.chain_store import SWITCH_INTERVAL, PostgresStore, SQLiteStore
from gatekeeper.db import async_url, create_engine, migrate


def _moved() -> float:
    return REGISTRY.get_sample_value("gatekeeper_log_chain_head_moved_total") or 0.0


def _batch(first: int, count: int) -> list:
    return [("consent", row(i, "ecomarket")) for i in range(first, first + count)]


def test_a_batch_after_another_server_moved_the_head_is_chained_after_it(postgres_cluster):
    url = postgres_cluster.create_database("known_head")

    async def run():
        engine = create_engine(url)
        await migrate(engine)
        await engine.dispose()
        one, other = PostgresStore(async_url(url)), PostgresStore(async_url(url))
        await one.open()
        await other.open()
        try:
            first = await one.write(_batch(0, 3))  # no head known yet: under the lock
            assert [at.seq for at in first.values()] == [1, 2, 3]
            waited = one.timings.lock_wait
            second = await one.write(_batch(3, 3))  # its own head: one statement, no lock query
            assert [at.seq for at in second.values()] == [4, 5, 6]
            assert second[0].prev_hash == first[2].record_hash
            assert one.timings.lock_wait == waited  # the lock's query did not run
            assert (await other.write(_batch(6, 2)))[0].seq == 7  # the other server: under the lock
            await _written_after_the_moved_head(one.write(_batch(8, 2)))  # its known head (6) is stale now
        finally:
            await one.close()
            await other.close()

    asyncio.run(run())
    _linear_in_batch_order(url)


async def _written_after_the_moved_head(third) -> None:
    """The third batch of the writer whose head the other moved: counted as moved, chained after it."""
    moved = _moved()
    linked = await third
    assert _moved() == moved + 1
    assert [at.seq for at in linked.values()] == [9, 10]


def _linear_in_batch_order(url: str) -> None:
    """The ten records of the two writers' batches, chained 1-10 in the order written, intact."""
    rows = ecomarket(url)
    assert [r["seq"] for r in rows] == list(range(1, 11))
    assert [r["consent_id"] for r in rows] == [row(i, "ecomarket")["consent_id"] for i in range(10)]
    result = verify(url)
    assert result.exit_code == 0, result.output


def test_the_one_statement_path_stores_every_field_as_given(postgres_cluster):
    """The records travel as one JSON parameter: times keep their microseconds (and a time on
    a whole second), a missing address stays NULL, odd characters and the categories arrive
    as they were chained, and the stored rows recompute to their hashes."""
    url = postgres_cluster.create_database("json_fields")
    given = [row(i, "ecomarket") for i in range(4)]
    given[1] |= {"created_at": START.replace(microsecond=123456), "ip": None}
    given[2] |= {"created_at": START.replace(second=7, microsecond=1), "ua_browser": 'Ünïcode "quoted" \\ browser'}
    given[3] |= {"categories": {"necessary": True, "marketing": True, "analytics": False}}

    async def run():
        engine = create_engine(url)
        await migrate(engine)
        await engine.dispose()
        store = PostgresStore(async_url(url))
        await store.open()
        try:
            await store.write([("consent", given[0])])  # under the lock: the head is known after it
            waited = store.timings.lock_wait
            await store.write([("consent", fields) for fields in given[1:]])
            assert store.timings.lock_wait == waited  # the one-statement path wrote them
        finally:
            await store.close()

    asyncio.run(run())
    stored = ecomarket(url)
    assert [r["seq"] for r in stored] == [1, 2, 3, 4]
    for fields, r in zip(given, stored):
        assert {name: r[name] for name in fields} == fields
    assert verify(url).exit_code == 0


def test_a_sqlite_batch_runs_a_few_statements_whatever_its_size(tmp_path):
    """Each statement sqlite3 runs lets go of the GIL and waits to take it back from the
    event loop's thread: a batch of 250 records (three INSERTs of at most 100 rows) runs as
    few statements as one of 3 would run per record, and the chain is whole."""
    url = f"sqlite:///{tmp_path}/few.db"

    async def run():
        engine = create_engine(url)
        await migrate(engine)
        await engine.dispose()
        store = SQLiteStore(str(tmp_path / "few.db"))
        await store.open()
        statements: list[str] = []

        def write(entries):
            store._db.set_trace_callback(statements.append)
            try:
                return store.write_here(entries)
            finally:
                store._db.set_trace_callback(None)

        try:
            linked = await asyncio.wrap_future(store.submit(lambda: write(_batch(0, 250))))
        finally:
            await store.close()
        return linked, statements

    linked, statements = asyncio.run(run())
    assert [at.seq for at in linked.values()] == list(range(1, 251))
    inserts = [s for s in statements if s.startswith("INSERT INTO consent_records")]
    assert len(inserts) == 3
    assert len(statements) <= 8, statements  # BEGIN, heads, 3 INSERTs, head, COMMIT
    assert sys.getswitchinterval() <= SWITCH_INTERVAL
    assert [r["seq"] for r in ecomarket(url)] == list(range(1, 251))
    assert verify(url).exit_code == 0


def test_a_sqlite_batch_fits_an_older_sqlites_999_parameters(tmp_path, monkeypatch):
    """SQLite before 3.32 (Ubuntu 20.04, RHEL 8) allows 999 parameters per statement: a batch
    of 150 records still commits, in INSERTs of as many rows as that allows."""
    import sqlite3

    from gatekeeper import chain_store

    url = f"sqlite:///{tmp_path}/old.db"
    connect = sqlite3.connect

    def old_sqlite(*args, **kwargs):
        db = connect(*args, **kwargs)
        db.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
        return db

    async def run():
        engine = create_engine(url)
        await migrate(engine)
        await engine.dispose()
        monkeypatch.setattr(chain_store.sqlite3, "connect", old_sqlite)
        store = SQLiteStore(str(tmp_path / "old.db"))
        await store.open()
        try:
            return await asyncio.wrap_future(store.submit(lambda: store.write_here(_batch(0, 150))))
        finally:
            await store.close()

    linked = asyncio.run(run())
    assert [at.seq for at in linked.values()] == list(range(1, 151))
    assert verify(url).exit_code == 0


def test_a_sqlite_batch_after_another_process_moved_the_head_is_written_again_after_it(tmp_path):
    """The head a SQLite writer committed last is assumed, not read; when another connection
    (another server process) moved it meanwhile, nothing of the batch stays and it is
    written again after the real head, the chain linear."""
    url = f"sqlite:///{tmp_path}/two.db"

    async def run():
        engine = create_engine(url)
        await migrate(engine)
        await engine.dispose()
        one, other = SQLiteStore(str(tmp_path / "two.db")), SQLiteStore(str(tmp_path / "two.db"))
        await one.open()
        await other.open()

        async def write(store, first, count, statements=None):
            def here():
                store._db.set_trace_callback(statements.append if statements is not None else None)
                try:
                    return store.write_here(_batch(first, count))
                finally:
                    store._db.set_trace_callback(None)
            return await asyncio.wrap_future(store.submit(here))

        try:
            assert [at.seq for at in (await write(one, 0, 3)).values()] == [1, 2, 3]
            statements: list[str] = []
            second = await write(one, 3, 3, statements)  # its own head, assumed
            assert [at.seq for at in second.values()] == [4, 5, 6]
            assert not any(s.startswith("SELECT") for s in statements) and len(statements) == 4, statements
            assert [at.seq for at in (await write(other, 6, 2)).values()] == [7, 8]
            await _written_after_the_moved_head(write(one, 8, 2))  # its assumed head (6) is stale now
        finally:
            await one.close()
            await other.close()

    asyncio.run(run())
    _linear_in_batch_order(url)
