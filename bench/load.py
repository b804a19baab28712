"""Consent POST throughput and latency: Gatekeeper on SQLite and PostgreSQL next to a bare
Starlette JSON endpoint, each a uvicorn server process, driven from this process over
loopback with keep-alive connections. The bare endpoint runs twice: under uvicorn as it
comes (the ratios' baseline) and under gatekeeper serve's HTTP protocol, which sends each
answer in one piece (the second ratio: what is left when both have that protocol).

    python -m bench [--rounds 3] [--seconds 5] [--connections 32] [--requests N]

Every target's servers run for the whole bench; each round drives each target in turn
for the same time, so the bare endpoint and Gatekeeper see the same machine (a load that
comes and goes on a shared machine would otherwise favour whichever ran in a quiet
moment). Prints a Markdown table (the README's), the ratio per round, and checks that
every 201 left its chained record.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from gatekeeper.db import consent_records, create_engine

from . import chained

REPO = Path(__file__).resolve().parent.parent
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"
BODY = json.dumps({"site": "locomail", "categories": {"analytics": True}, "revision": 1, "language": "nl"}).encode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(command: list[str], port: int, log: Path, env: dict | None = None) -> subprocess.Popen:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GATEKEEPER_")} | (env or {})
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=clean, stdout=out, stderr=subprocess.STDOUT, cwd=log.parent)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"bench: server exited:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"bench: server not healthy within 60 s:\n{log.read_text()}")


def gatekeeper_command(port: int, database_url: str) -> list[str]:
    return [sys.executable, "-m", "gatekeeper", "serve", "--host", "127.0.0.1", "--port", str(port),
            "--database-url", database_url, "--sites-dir", str(REPO / "sites"), "--log-level", "warning"]


def bare_command(port: int) -> list[str]:
    return [sys.executable, "-m", "uvicorn", "bench.bare:app", "--host", "127.0.0.1", "--port", str(port),
            "--log-level", "warning", "--no-server-header", "--no-access-log", "--app-dir", str(REPO)]


def bare_one_send_command(port: int) -> list[str]:
    """The same endpoint under gatekeeper serve's HTTP protocol (each answer in one send)."""
    return [sys.executable, "-m", "bench.bare", str(port)]


def cpu_seconds(pid: int) -> float:
    """The process's user + system CPU time, all its threads (Linux /proc), which a busy
    machine's other work does not inflate the way it does wall-clock rates."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    name: str
    answered: int
    failed: int
    seconds: float
    latencies: list[float]
    notes: dict = field(default_factory=dict)  # records per commit, head lock wait, chain check
    cpu: float = 0.0  # the target's server processes' CPU seconds (not PostgreSQL's own)

    @property
    def cpu_per_post(self) -> float:
        """µs of server CPU per answered request: what a busy machine's other work does not inflate."""
        return 1e6 * self.cpu / max(1, self.answered + self.failed)

    @property
    def rate(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


async def _connection(port: int, budget: list[int], deadline: float, latencies: list[float], statuses: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = (
        f"POST /api/v1/consent HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: http://127.0.0.1:{port}\r\n"
        f"User-Agent: {CHROME}\r\nContent-Type: application/json\r\nContent-Length: {len(BODY)}\r\n\r\n"
    ).encode() + BODY
    try:
        while budget[0] > 0 and time.monotonic() < deadline:
            budget[0] -= 1
            sent = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - sent)
            statuses.append(int(head.split(b" ", 2)[1]))
    finally:
        writer.close()


async def _bounded(name: str, seconds: float, *connections) -> None:
    """The deadline is only checked between requests: a server that stops answering must not hang the bench."""
    try:
        await asyncio.wait_for(asyncio.gather(*connections), timeout=seconds + 30)
    except TimeoutError:
        raise SystemExit(f"bench: {name}: the server stopped answering ({seconds + 30:.0f} s)") from None


async def warm_up(name: str, ports: list[int]) -> None:
    """80 POSTs per server (20 on each of 4 connections), not counted."""
    await _bounded(name, 10, *(_connection(port, [20], time.monotonic() + 10, [], []) for port in ports for _ in range(4)))


async def drive(name: str, ports: list[int], requests: int, seconds: float, connections: int) -> Result:
    """`connections` spread over the servers on `ports` (one server: all on it)."""
    latencies: list[float] = []
    statuses: list[int] = []
    budget = [requests]
    began = time.perf_counter()
    await _bounded(name, seconds, *(
        _connection(ports[i % len(ports)], budget, time.monotonic() + seconds, latencies, statuses) for i in range(connections)
    ))
    elapsed = time.perf_counter() - began
    ok = sum(1 for s in statuses if s == 201)
    return Result(name, ok, len(statuses) - ok, elapsed, latencies)


def combine(rounds: list[Result]) -> Result:
    first = rounds[0]
    return Result(first.name, sum(r.answered for r in rounds), sum(r.failed for r in rounds),
                  sum(r.seconds for r in rounds), [x for r in rounds for x in r.latencies], cpu=sum(r.cpu for r in rounds))


def count_records(database_url: str) -> int:
    async def run() -> int:
        engine = create_engine(database_url)
        try:
            async with engine.connect() as connection:
                return (await connection.execute(sa.select(sa.func.count()).select_from(consent_records))).scalar_one()
        finally:
            await engine.dispose()

    return asyncio.run(run())


@dataclass
class Target:
    name: str
    commands: list[list[str]]
    ports: list[int]
    env: dict
    database_url: str | None = None
    processes: list[subprocess.Popen] = field(default_factory=list)
    rounds: list[Result] = field(default_factory=list)

    def start(self, workdir: Path) -> None:
        for command, port in zip(self.commands, self.ports):
            self.processes.append(start(command, port, workdir / f"{self.name.split()[0].lower()}-{port}.log", self.env))
        asyncio.run(warm_up(self.name, self.ports))

    def cpu_seconds(self) -> float:
        return sum(cpu_seconds(process.pid) for process in self.processes)

    def result(self) -> Result:
        """All rounds together; with a database, what its servers' /metrics and the chain say."""
        result = combine(self.rounds)
        if self.database_url is not None:
            result.notes = chained.server_metrics(self.ports)
        return result

    def stop(self) -> None:
        for process in self.processes:
            process.send_signal(signal.SIGINT)  # a clean stop, so a profiled server writes its profile
            process.wait(timeout=30)
        self.processes.clear()

    def check(self, result: Result) -> None:
        """Every 201 has its record, and every chain is intact."""
        if self.database_url is None:
            return
        stored = count_records(self.database_url) - 80 * len(self.ports)  # the warm-up's records
        if stored != result.answered:
            raise SystemExit(f"bench: {self.name}: {result.answered} answered 201 but {stored} records stored")
        result.notes["chain"] = chained.chain_intact(self.database_url)


def targets(args, workdir: Path, cluster) -> list[Target]:
    env = {"GATEKEEPER_SECRET_KEYS": secrets.token_hex(16)}
    found = [Target("bare Starlette JSON endpoint", [bare_command(port := free_port())], [port], {}),
             Target("bare endpoint, one send per answer (as gatekeeper serve)", [bare_one_send_command(port := free_port())],
                    [port], {"PYTHONPATH": str(REPO)})]
    sqlite_url = f"sqlite:///{workdir}/consent.db"
    command = gatekeeper_command(port := free_port(), sqlite_url)
    if args.profile:
        command = chained.profiled(command, workdir / "sqlite.prof")
    found.append(Target("Gatekeeper, SQLite", [command], [port], env, sqlite_url))
    if cluster is not None:
        pg_url = cluster.create_database("bench")
        found.append(Target("Gatekeeper, PostgreSQL", [gatekeeper_command(port := free_port(), pg_url)], [port], env, pg_url))
        pg_url = cluster.create_database("bench_two")
        ports = [free_port(), free_port()]
        found.append(Target("Gatekeeper, PostgreSQL, two server processes", [gatekeeper_command(p, pg_url) for p in ports],
                            ports, env, pg_url))
    return found


def run(args, workdir: Path, cluster) -> list[Result]:
    running = targets(args, workdir, cluster)
    try:
        for target in running:
            target.start(workdir)
        for number in range(1, args.rounds + 1):
            for target in running:
                before = target.cpu_seconds()
                result = asyncio.run(drive(target.name, target.ports, args.requests, args.seconds, args.connections))
                result.cpu = target.cpu_seconds() - before
                target.rounds.append(result)
            bare = running[0].rounds[-1].rate
            print(f"round {number}: " + ", ".join(f"{t.name} {t.rounds[-1].rate:.0f}/s ({t.rounds[-1].rate / bare:.2f}x)"
                                                   for t in running), file=sys.stderr)
        results = [target.result() for target in running]
    finally:
        for target in running:
            target.stop()
    for target, result in zip(running, results):
        target.check(result)
    if args.profile:
        chained.print_profile(workdir / "sqlite.prof")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds; each drives every target in turn")
    parser.add_argument("--seconds", type=float, default=5.0, help="time per target per round")
    parser.add_argument("--requests", type=int, default=10**9, help="at most this many POSTs per target per round")
    parser.add_argument("--connections", type=int, default=32, help="concurrent keep-alive connections")
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL targets")
    parser.add_argument("--profile", action="store_true",
                        help="run the SQLite server under cProfile and print where its time went (slower: not for the table)")
    args = parser.parse_args()

    from gatekeeper.pgcluster import Cluster, ClusterUnavailable

    workdir = Path(tempfile.mkdtemp(prefix="gatekeeper-bench-"))
    cluster = None
    if not args.no_postgres:
        try:
            cluster = Cluster.start(fsync=True)
        except ClusterUnavailable as exc:
            print(f"bench: PostgreSQL skipped: {exc}", file=sys.stderr)
    try:
        results = run(args, workdir, cluster)
    finally:
        if cluster is not None:
            cluster.stop()

    bare = results[0].rate
    print(f"\n{args.connections} connections, {args.rounds} rounds of {args.seconds:g} s per target, "
          f"{os.cpu_count()} CPUs, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} at the end\n")
    one_send = results[1].rate
    print("| target | POSTs | POSTs/s | p50 ms | p99 ms | vs bare | vs bare, one send | server CPU µs per POST | "
          "records per commit | head lock ms per commit (with its query) | head moved by the other server | chain after |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in results:
        n = r.notes
        extra = (f"{n['batch']:.1f} | {n['lock_ms']:.2f} | {n['moved']} of {n['commits']} commits | {n['chain']}"
                 if n else "– | – | – | –")
        print(f"| {r.name} | {r.answered} | {r.rate:.0f} | {r.percentile(50):.1f} | {r.percentile(99):.1f} | "
              f"{r.rate / bare:.2f}x | {r.rate / one_send:.2f}x | {r.cpu_per_post:.0f} | {extra} |" + (f" ({r.failed} failed)" if r.failed else ""))


if __name__ == "__main__":
    main()
