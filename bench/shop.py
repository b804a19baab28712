"""gatekeeper.shop's cost: requests/s of one Starlette product page (bench/shop_app.py, a
Jinja2 template), bare and behind ConsentMiddleware (report mode: cookie verified, both
policies with a fresh nonce), each a uvicorn process with the same options, driven
alternately from this process over loopback keep-alive connections. Each server's own CPU
time per GET (from /proc) is reported too: it does not depend on the shared client.

    python -m bench shop [--requests 4000] [--seconds 15] [--connections 16] [--rounds 3]

Visitors are 500 returning ones with a signed decision granting analytics (and a _ga
cookie), cycled; the best round of each target counts (the machine may be shared).
The budget: the middleware costs under 10%.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

from gatekeeper.tokens import ConsentToken, TokenSigner

from .load import REPO, Result, _bounded, free_port, start

BUDGET = 0.10


def command(app: str, port: int) -> list[str]:
    return [sys.executable, "-m", "uvicorn", f"bench.shop_app:{app}", "--host", "127.0.0.1", "--port", str(port),
            "--log-level", "warning", "--no-server-header", "--no-access-log", "--app-dir", str(REPO)]


def visitors(keys: str, count: int = 500) -> list[bytes]:
    signer, now = TokenSigner([keys]), int(time.time())
    return [
        f"gk_consent={signer.sign(ConsentToken(site='ecomarket', id=secrets.token_urlsafe(16), granted=('analytics',), rev=1, iat=now))}"
        f"; _ga=GA1.1.{i}.{now}; cart=1-2".encode()
        for i in range(count)
    ]


async def _connection(port: int, cookies: list[bytes], budget: list[int], deadline: float, latencies: list[float], statuses: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while budget[0] > 0 and time.monotonic() < deadline:
            budget[0] -= 1
            cookie = cookies[budget[0] % len(cookies)]
            sent = time.perf_counter()
            writer.write(b"GET /product/7 HTTP/1.1\r\nHost: www.ecomarket.be\r\nCookie: " + cookie + b"\r\n\r\n")
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(int(l.split(b":", 1)[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:"))
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - sent)
            statuses.append(int(head.split(b" ", 2)[1]))
    finally:
        writer.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def drive(name: str, port: int, cookies: list[bytes], args, pid: int) -> Result:
    await _bounded(name, 10, *(_connection(port, cookies, [100], time.monotonic() + 10, [], []) for _ in range(4)))
    latencies: list[float] = []
    statuses: list[int] = []
    budget = [args.requests]
    cpu = cpu_seconds(pid)
    began = time.perf_counter()
    deadline = time.monotonic() + args.seconds
    await _bounded(name, args.seconds, *(_connection(port, cookies, budget, deadline, latencies, statuses) for _ in range(args.connections)))
    elapsed = time.perf_counter() - began
    ok = sum(1 for s in statuses if s == 200)
    result = Result(name, ok, len(statuses) - ok, elapsed, latencies)
    result.notes["cpu_us"] = 1e6 * (cpu_seconds(pid) - cpu) / max(len(statuses), 1)
    return result


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench shop", description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=4000, help="GETs per target and round")
    parser.add_argument("--seconds", type=float, default=15.0, help="time limit per target and round")
    parser.add_argument("--connections", type=int, default=16, help="concurrent keep-alive connections")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; the best of each target counts")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="gatekeeper-bench-shop-"))
    keys = secrets.token_hex(16)
    env = {"GATEKEEPER_SECRET_KEYS": keys, "GATEKEEPER_SITES_DIR": str(REPO / "sites")}
    cookies = visitors(keys)
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    targets = {"Starlette page": "page", "the same page behind ConsentMiddleware": "guarded"}
    best: dict[str, Result] = {}
    cpu_best: dict[str, float] = {}  # the least server CPU per GET over the rounds
    processes = {}
    try:
        for name, app in targets.items():
            port = free_port()
            processes[name] = (start(command(app, port), port, workdir / f"{app}.log", env), port)
        for _ in range(args.rounds):
            for name, (_, port) in processes.items():
                result = asyncio.run(drive(name, port, cookies, args, processes[name][0].pid))
                if result.failed:
                    raise SystemExit(f"bench: {name}: {result.failed} requests did not answer 200")
                if name not in best or result.rate > best[name].rate:
                    best[name] = result
                cpu_best[name] = min(cpu_best.get(name, math.inf), result.notes["cpu_us"])
    finally:
        for process, _ in processes.values():
            process.terminate()
            process.wait(timeout=15)

    bare = best["Starlette page"].rate
    print(f"\n{args.connections} connections, best of {args.rounds} alternating rounds of up to {args.requests} GETs "
          f"or {args.seconds:.0f} s per target\n")
    cpu_bare = cpu_best["Starlette page"]
    print("| target | GETs/s | vs bare | p50 ms | p99 ms | server CPU µs/GET | vs bare |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in best.values():
        cpu = cpu_best[r.name]
        print(f"| {r.name} | {r.rate:.0f} | {r.rate / bare:.2f}x | {r.percentile(50):.2f} | {r.percentile(99):.2f} "
              f"| {cpu:.0f} | {cpu / cpu_bare:.2f}x |")
    guarded = "the same page behind ConsentMiddleware"
    cost = 1 - best[guarded].rate / bare
    verdict = "within" if cost < BUDGET else "OVER"
    print(f"\nThe middleware costs {cost:.1%} of the bare page's requests/s ({verdict} the {BUDGET:.0%} budget); "
          f"server CPU {cpu_best[guarded] - cpu_bare:.0f} µs per GET more ({cpu_best[guarded] / cpu_bare - 1:+.1%}).")
    print(f"Load average before and after: {load_before} / {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
