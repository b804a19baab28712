"""Firefox ESR and WebKitGTK driven through WebDriver, for the cross-engine smoke suite:
Firefox through its built-in WebDriver BiDi (no geckodriver: no package index ships one
for Linux), WebKit through Debian's WebKitWebDriver (classic WebDriver over HTTP), both
sending their traffic through the tracker proxy. One small interface for the tests:
goto, reload, value (a JS expression whose value is JSON), click (a JS expression giving
an element), cookies, forget.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from .server import free_port

FIREFOX = shutil.which("firefox-esr") or shutil.which("firefox")
WEBKIT_DRIVER = shutil.which("WebKitWebDriver")
MINIBROWSER = next(iter(sorted(Path("/usr/lib").glob("*/webkit2gtk-4.*/MiniBrowser"))), None)
XVFB = shutil.which("Xvfb")
START_TIMEOUT = 30


class EngineError(RuntimeError):
    pass


def missing(engine: str) -> str | None:
    """Why `engine` cannot run here, or None."""
    if engine == "firefox":
        return None if FIREFOX else "firefox-esr is not installed (scripts/ensure-browser installs it as root)"
    needs = {"WebKitWebDriver": WEBKIT_DRIVER, "MiniBrowser": MINIBROWSER, "Xvfb": XVFB}
    absent = [name for name, path in needs.items() if not path]
    return f"{', '.join(absent)} not installed (webkit2gtk-driver, xvfb; scripts/ensure-browser)" if absent else None


def start_xvfb() -> tuple[subprocess.Popen, str]:
    """A private X server on a display it picks itself (`-displayfd`): two runs at once, or
    another X server, cannot collide on a number chosen here."""
    read_end, write_end = os.pipe()
    try:
        process = subprocess.Popen([XVFB, "-displayfd", str(write_end), "-screen", "0", "1280x800x24",
                                    "-nolisten", "tcp"], pass_fds=(write_end,),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(write_end)
        write_end = -1
        answer = b""
        deadline = time.monotonic() + START_TIMEOUT
        while not answer.endswith(b"\n"):
            ready, _, _ = select.select([read_end], [], [], max(0.0, deadline - time.monotonic()))
            chunk = os.read(read_end, 16) if ready else b""
            if not chunk:  # timed out, or Xvfb exited without naming a display
                process.kill()
                process.wait(timeout=10)
                raise EngineError("Xvfb did not start")
            answer += chunk
        return process, f":{int(answer)}"
    finally:
        os.close(read_end)
        if write_end >= 0:
            os.close(write_end)


class Firefox:
    """Firefox ESR, headless, over WebDriver BiDi on its own port."""

    def __init__(self, proxy_port: int):
        from websockets.sync.client import connect

        self.profile = Path(tempfile.mkdtemp(prefix="gk-firefox-"))
        prefs = {
            "network.proxy.type": 1, "network.proxy.http": "127.0.0.1", "network.proxy.http_port": proxy_port,
            "network.proxy.ssl": "127.0.0.1", "network.proxy.ssl_port": proxy_port,
            "network.proxy.no_proxies_on": "", "network.proxy.allow_hijacking_localhost": False,
            "browser.shell.checkDefaultBrowser": False, "app.update.enabled": False,
            "datareporting.policy.dataSubmissionEnabled": False, "toolkit.telemetry.enabled": False,
            "network.captive-portal-service.enabled": False, "network.connectivity-service.enabled": False,
        }
        (self.profile / "user.js").write_text("".join(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n" for k, v in prefs.items()))
        self.process = subprocess.Popen(
            [FIREFOX, "--headless", "--no-remote", "--profile", str(self.profile), "--remote-debugging-port", "0"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        deadline = time.monotonic() + START_TIMEOUT
        address = None
        while address is None and time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if not line and self.process.poll() is not None:
                break
            found = re.search(r"WebDriver BiDi listening on (ws://\S+)", line)
            address = found and found[1]
        if address is None:
            self.close()
            raise EngineError("Firefox did not start WebDriver BiDi")
        self.stack = contextlib.ExitStack()
        self.ws = self.stack.enter_context(connect(address.rstrip("/") + "/session", open_timeout=10, max_size=None))
        self.next_id = 0
        self.send("session.new", {"capabilities": {"alwaysMatch": {"acceptInsecureCerts": True}}})
        self.context = self.send("browsingContext.getTree", {})["contexts"][0]["context"]

    def send(self, method: str, params: dict) -> dict:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            message = json.loads(self.ws.recv(timeout=30))
            if message.get("id") == self.next_id:
                if message.get("type") == "error":
                    raise EngineError(f"{method}: {message.get('error')}: {message.get('message')}")
                return message["result"]
        raise EngineError(f"{method}: no answer")

    def goto(self, url: str) -> None:
        self.send("browsingContext.navigate", {"context": self.context, "url": url, "wait": "complete"})

    def reload(self) -> None:
        self.send("browsingContext.reload", {"context": self.context, "wait": "complete"})

    def _evaluate(self, expression: str, ownership: str = "none") -> dict:
        result = self.send("script.evaluate", {"expression": expression, "target": {"context": self.context},
                                               "awaitPromise": True, "resultOwnership": ownership})
        if result.get("type") == "exception":
            raise EngineError(f"{expression}: {result['exceptionDetails'].get('text')}")
        return result["result"]

    def value(self, expression: str):
        return json.loads(self._evaluate(f"JSON.stringify({expression})").get("value", "null"))

    def click(self, element: str) -> None:
        """A real pointer click in the middle of the element (open shadow roots included)."""
        node = self._evaluate(element, "root")
        if node.get("type") != "node":
            raise EngineError(f"not an element: {element}")
        origin = {"type": "element", "element": {"sharedId": node["sharedId"]}}
        self.send("input.performActions", {"context": self.context, "actions": [{
            "type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"},
            "actions": [{"type": "pointerMove", "x": 0, "y": 0, "origin": origin},
                        {"type": "pointerDown", "button": 0}, {"type": "pointerUp", "button": 0}],
        }]})

    def cookies(self) -> dict[str, dict]:
        return {c["name"]: c for c in self.send("storage.getCookies", {})["cookies"]}

    def forget(self) -> None:
        """A new visitor: every cookie of every site deleted."""
        self.send("storage.deleteCookies", {})

    def close(self) -> None:
        try:
            if getattr(self, "ws", None):
                try:
                    self.send("session.end", {})
                except Exception:  # noqa: BLE001 - closing anyway
                    pass
                self.stack.close()
        finally:
            self.process.kill()
            self.process.wait(timeout=10)
            shutil.rmtree(self.profile, ignore_errors=True)


class WebKit:
    """WebKitGTK's MiniBrowser under WebKitWebDriver (classic WebDriver), on a private Xvfb."""

    ELEMENT = "element-6066-11e4-a52e-4f735466cecf"

    def __init__(self, proxy_port: int):
        self.xvfb, self.display = start_xvfb()
        port = free_port()
        # The proxy through the environment (GLib's proxy resolver): WebKit's `sslProxy`
        # capability would speak TLS to the proxy itself.
        proxy = f"http://127.0.0.1:{proxy_port}"
        env = {**os.environ, "DISPLAY": self.display, "http_proxy": proxy, "https_proxy": proxy,
               "no_proxy": "127.0.0.1,localhost"}
        self.driver = subprocess.Popen([WEBKIT_DRIVER, f"--port={port}"], env=env,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                self._call("GET", "/status")
                break
            except OSError:
                if time.monotonic() > deadline or self.driver.poll() is not None:
                    self.close()
                    raise EngineError("WebKitWebDriver did not start") from None
                time.sleep(0.2)
        capabilities = {
            "acceptInsecureCerts": True,
            "webkitgtk:browserOptions": {"binary": str(MINIBROWSER), "args": ["--automation"]},
        }
        try:
            self.session = self._call("POST", "/session", {"capabilities": {"alwaysMatch": capabilities}})["sessionId"]
        except Exception:
            self.close()
            raise

    def _call(self, method: str, path: str, body: dict | None = None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read() or b"{}").get("value")
        except urllib.error.HTTPError as exc:
            raise EngineError(f"{method} {path}: {exc.read()[:300]!r}") from None

    def _session(self, method: str, path: str, body: dict | None = None):
        return self._call(method, f"/session/{self.session}{path}", body)

    def goto(self, url: str) -> None:
        self._session("POST", "/url", {"url": url})

    def reload(self) -> None:
        self._session("POST", "/refresh", {})

    def value(self, expression: str):
        return json.loads(self._session("POST", "/execute/sync", {"script": f"return JSON.stringify({expression})", "args": []}) or "null")

    def click(self, element: str) -> None:
        ref = self._session("POST", "/execute/sync", {"script": f"return {element}", "args": []})
        if not isinstance(ref, dict) or self.ELEMENT not in ref:
            raise EngineError(f"not an element: {element}")
        self._session("POST", f"/element/{ref[self.ELEMENT]}/click", {})

    def cookies(self) -> dict[str, dict]:
        return {c["name"]: c for c in self._session("GET", "/cookie")}

    def forget(self) -> None:
        """A new visitor on the shop: its cookies deleted (classic WebDriver reaches only
        the current page's site; the stand-ins set theirs there too)."""
        self._session("DELETE", "/cookie")

    def close(self) -> None:
        try:
            if getattr(self, "session", None):
                try:
                    self._session("DELETE", "")
                except Exception:  # noqa: BLE001 - closing anyway
                    pass
        finally:
            for process in (self.driver, self.xvfb):
                process.kill()
                process.wait(timeout=10)


ENGINES = {"firefox": Firefox, "webkit": WebKit}
