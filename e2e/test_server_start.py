"""The test server's start-up survives losing its port: a port found free can be taken by
another process (Chromium's connections draw from the same range) before the server binds it.
"""

from __future__ import annotations

import socket
import urllib.request

from . import server as server_module
from .server import Server


def test_a_port_taken_before_the_server_binds_it_is_replaced(tmp_path, monkeypatch):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        taken_port = taken.getsockname()[1]
        offered = [taken_port, server_module.free_port()]
        monkeypatch.setattr(server_module, "free_port", lambda: offered.pop(0))
        running = Server.start(tmp_path)
        try:
            assert offered == [], "the taken port was not tried first"
            assert not running.url.endswith(f":{taken_port}")
            with urllib.request.urlopen(f"{running.url}/healthz", timeout=5) as response:
                assert response.status == 200
        finally:
            running.stop()
