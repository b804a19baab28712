"""Admin sessions held in the database: the cookie is only a random id; logout, expiry, idle
time and a changed password end a session; the login limit by address and by user name —
on SQLite and PostgreSQL."""

import asyncio
import hashlib
import re

import pytest
import sqlalchemy as sa

from gatekeeper.admin_sessions import ADDRESS_LIMIT, IDLE_SECONDS, SESSION_SECONDS, USER_LIMIT
from gatekeeper.db import admin_sessions, create_engine

PASSWORD = "correct horse battery staple"


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def login(client, user="admin", password=PASSWORD):
    token = csrf_of(client.get("/admin/login").text)
    return client.post("/admin/login", data={"user": user, "password": password, "csrf": token}, follow_redirects=False)


def signed_in(client) -> bool:
    return client.get("/admin", follow_redirects=False).status_code == 200


def sql(url: str, statement):
    async def run():
        engine = create_engine(url)
        async with engine.begin() as connection:
            result = await connection.execute(statement)
            rows = result.all() if result.returns_rows else None
        await engine.dispose()
        return rows

    return asyncio.run(run())


@pytest.fixture
def admin(make_client, database_url):
    client = make_client(database_url=database_url, admin_password=PASSWORD)
    client.database_url = database_url
    return client


def test_the_cookie_is_a_random_id_and_the_table_keeps_only_its_hash(admin):
    assert login(admin).status_code == 303
    value = admin.cookies["gk_admin"]
    assert len(value) >= 43 and "admin" not in value and "." not in value
    [row] = sql(admin.database_url, sa.select(admin_sessions))
    assert row.id_hash == hashlib.sha256(value.encode()).hexdigest() and row.username == "admin"
    assert value not in str(tuple(row))


def test_logout_ends_the_session_for_the_old_cookie_too(admin):
    login(admin)
    old = admin.cookies["gk_admin"]
    page = admin.get("/admin/sites/ecomarket").text
    csrf = csrf_of(page)
    assert admin.post("/admin/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    assert sql(admin.database_url, sa.select(admin_sessions)) == []
    admin.cookies.set("gk_admin", old, path="/admin")
    assert not signed_in(admin)
    replay = admin.post("/admin/sites/ecomarket/purge", data={"csrf": csrf}, follow_redirects=False)
    assert replay.status_code == 303 and replay.headers["location"] == "/admin/login"


@pytest.mark.parametrize(("column", "age"), [("created_at", SESSION_SECONDS + 1), ("seen_at", IDLE_SECONDS + 1)])
def test_expiry_and_idle_time_end_a_session(admin, column, age):
    login(admin)
    assert signed_in(admin)
    sql(admin.database_url, sa.update(admin_sessions).values({column: admin_sessions.c[column] - age}))
    assert not signed_in(admin)
    assert sql(admin.database_url, sa.select(admin_sessions)) == []  # and it is gone


def test_a_session_holds_in_another_process_until_the_password_changes(make_client, database_url):
    first = make_client(database_url=database_url, admin_password=PASSWORD)
    login(first)
    cookie = first.cookies["gk_admin"]
    same = make_client(database_url=database_url, admin_password=PASSWORD)  # another worker
    same.cookies.set("gk_admin", cookie, path="/admin")
    assert signed_in(same)
    changed = make_client(database_url=database_url, admin_password="a new password")  # restarted
    changed.cookies.set("gk_admin", cookie, path="/admin")
    assert not signed_in(changed)


def from_address(client, address: str):
    """The same client (one event loop, one database pool) from another address, with its own
    cookies: the test transport's `client` is the ASGI scope's client address."""
    client._transport.client = (address, 40000)
    client.cookies.clear()
    return client


def test_a_user_name_lock_out_leaves_the_right_password_from_a_clean_address(make_client):
    """On SQLite only: the counting is the same statement on both (test_login_limit.py runs
    it on PostgreSQL against two processes), and this takes 50 password checks."""
    admin = make_client(admin_password=PASSWORD)
    # USER_LIMIT allowed attempts, ADDRESS_LIMIT from each of many addresses, lock the name.
    addresses = [f"198.51.100.{i}" for i in range(USER_LIMIT // ADDRESS_LIMIT)]
    for address in addresses:
        guesser = from_address(admin, address)
        assert {login(guesser, password="guess").status_code for _ in range(ADDRESS_LIMIT)} == {401}
    once = from_address(admin, "203.0.113.7")
    assert login(once, password="typo").status_code == 401  # a clean address's one attempt
    assert login(once).status_code == 429  # it has failed: the lock-out holds for it
    clean = from_address(admin, "203.0.113.8")
    assert login(clean).status_code == 303 and signed_in(clean)
    assert login(from_address(admin, addresses[0])).status_code == 429
