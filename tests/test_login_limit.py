"""The login limit against two real server processes sharing one database: a burst of
simultaneous wrong passwords is counted before any is checked, so no more than the limit
reach the password check, whichever process answers — on SQLite and PostgreSQL."""

import http.client
import re
import secrets
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest

from gatekeeper.admin_sessions import ADDRESS_LIMIT
from test_durability import free_port, start_server

PASSWORD = "the right one"
BURST = 50


def request(port: int, method: str, path: str, *, source: str = "127.0.0.1", body: str = "", headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read().decode()
    finally:
        connection.close()


def login_form(port: int) -> tuple[str, str]:
    """(csrf token, its cookie) of the login form: the same token serves every attempt."""
    _, headers, html = request(port, "GET", "/admin/login")
    cookie = next(v.split(";")[0] for k, v in headers if k.lower() == "set-cookie" and v.startswith("gk_admin_login="))
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1), cookie


def attempt(port: int, csrf: str, cookie: str, password: str, source: str = "127.0.0.1") -> int:
    body = urlencode({"user": "admin", "password": password, "csrf": csrf})
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    return request(port, "POST", "/admin/login", source=source, body=body, headers=headers)[0]


@pytest.fixture
def two_servers(database_url, tmp_path):
    key, ports, processes = secrets.token_hex(16), [free_port(), free_port()], []
    try:
        for i, port in enumerate(ports):
            processes.append(start_server(database_url, port, tmp_path / f"server{i}.log", key, "--admin-password", PASSWORD))
        yield ports
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)


def test_a_burst_of_wrong_logins_across_two_processes_is_refused_after_the_limit(two_servers):
    csrf, cookie = login_form(two_servers[0])
    with ThreadPoolExecutor(max_workers=BURST) as pool:
        statuses = list(pool.map(lambda i: attempt(two_servers[i % 2], csrf, cookie, f"guess-{i}"), range(BURST)))
    assert statuses.count(401) == ADDRESS_LIMIT and statuses.count(429) == BURST - ADDRESS_LIMIT, statuses
    assert attempt(two_servers[1], csrf, cookie, PASSWORD) == 429  # the right one, too, from this address
    # Another address has its own count (the loopback /8 gives the test more than one).
    assert attempt(two_servers[0], csrf, cookie, PASSWORD, source="127.0.0.2") == 303
