"""gatekeeper.shop's cost: requests/s of one Starlette product page (bench/shop_app.py, a
Jinja2 template), bare and behind ConsentMiddleware (report mode: cookie verified, both
policies with a fresh nonce), each a uvicorn process with the same options, driven
alternately from this process over loopback keep-alive connections. Each server's own CPU
time per GET (from /proc) is reported too: it does not depend on the shared client.

    python -m bench shop [--requests 6000] [--seconds 15] [--connections 16] [--rounds 10]

Visitors are 500 returning ones with a signed decision granting analytics (and a _ga
cookie), cycled. On a shared machine one round can be slowed by anything, so the rounds
come in pairs (bare then guarded, then the other way round) and the cost is the median
over the pairs of each pair's ratio. The budget: the middleware costs under 10%.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

from gatekeeper.cookies import COOKIE_NAME
from gatekeeper.tokens import ConsentToken, TokenSigner

from .load import REPO, Result, _bounded, free_port, start

BUDGET = 0.10


def command(app: str, port: int) -> list[str]:
    return [sys.executable, "-m", "uvicorn", f"bench.shop_app:{app}", "--host", "127.0.0.1", "--port", str(port),
            "--log-level", "warning", "--no-server-header", "--no-access-log", "--app-dir", str(REPO)]


def visitors(keys: str, count: int = 500) -> list[bytes]:
    signer, now = TokenSigner([keys]), int(time.time())
    return [
        f"{COOKIE_NAME}={signer.sign(ConsentToken(site='ecomarket', id=secrets.token_urlsafe(16), granted=('analytics',), rev=1, iat=now))}"
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
    warm = [len(cookies)]  # every visitor once: their first page (the signature check) is not measured
    await _bounded(name, 10, *(_connection(port, cookies, warm, time.monotonic() + 10, [], []) for _ in range(4)))
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
    parser.add_argument("--requests", type=int, default=6000, help="GETs per target and round")
    parser.add_argument("--seconds", type=float, default=15.0, help="time limit per target and round")
    parser.add_argument("--connections", type=int, default=16, help="concurrent keep-alive connections")
    parser.add_argument("--rounds", type=int, default=10, help="rounds per target, in alternating order")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="gatekeeper-bench-shop-"))
    keys = secrets.token_hex(16)
    env = {"GATEKEEPER_SECRET_KEYS": keys, "GATEKEEPER_SITES_DIR": str(REPO / "sites")}
    cookies = visitors(keys)
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    targets = {"Starlette page": "page", "the same page behind ConsentMiddleware": "guarded"}
    rounds: dict[str, list[Result]] = {name: [] for name in targets}
    processes = {}
    try:
        for name, app in targets.items():
            port = free_port()
            processes[name] = (start(command(app, port), port, workdir / f"{app}.log", env), port)
        for i in range(args.rounds):
            for name in (targets if i % 2 == 0 else reversed(targets)):
                process, port = processes[name]
                result = asyncio.run(drive(name, port, cookies, args, process.pid))
                if result.failed:
                    raise SystemExit(f"bench: {name}: {result.failed} requests did not answer 200")
                rounds[name].append(result)
    finally:
        for process, _ in processes.values():
            process.terminate()
            process.wait(timeout=15)

    bare_name, guarded_name = targets
    rate_ratios = [g.rate / b.rate for b, g in zip(rounds[bare_name], rounds[guarded_name])]
    cpu_ratios = [g.notes["cpu_us"] / b.notes["cpu_us"] for b, g in zip(rounds[bare_name], rounds[guarded_name])]
    print(f"\n{args.connections} connections, {args.rounds} rounds of up to {args.requests} GETs or {args.seconds:.0f} s "
          f"per target, in alternating order; medians over the rounds\n")
    print("| target | GETs/s | vs bare | p50 ms | p99 ms | server CPU µs/GET | vs bare |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, results in rounds.items():
        typical = sorted(results, key=lambda r: r.rate)[len(results) // 2]
        cpu = statistics.median(r.notes["cpu_us"] for r in results)
        rate_ratio = statistics.median(rate_ratios) if name == guarded_name else 1.0
        cpu_ratio = statistics.median(cpu_ratios) if name == guarded_name else 1.0
        print(f"| {name} | {statistics.median(r.rate for r in results):.0f} | {rate_ratio:.2f}x | {typical.percentile(50):.2f} "
              f"| {typical.percentile(99):.2f} | {cpu:.0f} | {cpu_ratio:.2f}x |")
    cost = 1 - statistics.median(rate_ratios)
    verdict = "within" if cost < BUDGET else "OVER"
    print(f"\nThe middleware costs {cost:.1%} of the bare page's requests/s ({verdict} the {BUDGET:.0%} budget; "
          f"per pair of rounds {min(rate_ratios):.2f}x to {max(rate_ratios):.2f}x); server CPU per GET "
          f"{statistics.median(cpu_ratios) - 1:+.1%} (per pair {min(cpu_ratios) - 1:+.1%} to {max(cpu_ratios) - 1:+.1%}).")
    print(f"Load average before and after: {load_before} / {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
