"""What the request log and /metrics cost on the consent POST: one Gatekeeper server on
SQLite per variant, driven like `python -m bench` (bench/load.py), the variants taking
turns for a few rounds so that a change in the machine's load falls on all of them.

    python -m bench logs [--rounds 3] [--requests 3000] [--seconds 20] [--connections 32]

Variants: metrics off and no request log (the baseline), metrics on (as shipped) with no
request log (`--log-level warning`), then each request logged as text and as JSON
(`--log-level info`, `GATEKEEPER_LOG_FORMAT`). The log goes to a file, as it would to a
pipe. The server's CPU time per POST is the cost that holds on a busy machine; the
rates are shown too. "Metrics off" replaces gatekeeper.metrics' counters and histograms with no-ops in
the server process (bench/no_metrics.py); nothing in Gatekeeper can turn them off.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import statistics
import sys
import tempfile
from pathlib import Path

from .load import REPO, count_records, cpu_seconds, drive, free_port, gatekeeper_command, start

VARIANTS = {
    "metrics off, no request log": ({"metrics": False, "level": "warning"}, {}),
    "metrics on, no request log": ({"metrics": True, "level": "warning"}, {}),
    "metrics on, request log as text": ({"metrics": True, "level": "info"}, {"GATEKEEPER_LOG_FORMAT": "text"}),
    "metrics on, request log as JSON": ({"metrics": True, "level": "info"}, {"GATEKEEPER_LOG_FORMAT": "json"}),
}


def command(port: int, database_url: str, metrics: bool, level: str) -> list[str]:
    serve = gatekeeper_command(port, database_url)
    serve[serve.index("--log-level") + 1] = level
    if metrics:
        return serve
    # `python -m gatekeeper serve …` with the metrics made no-ops first.
    return [sys.executable, "-c", "import bench.no_metrics; from gatekeeper.cli import main; main(prog_name='gatekeeper')",
            *serve[3:]]


def run(name: str, workdir: Path, round_: int, args) -> tuple[float, float, int, float]:
    """(POSTs/s, p50 ms, log lines written, server CPU µs per POST) of one variant's server."""
    options, env = VARIANTS[name]
    slug = f"{list(VARIANTS).index(name)}-{round_}"
    database_url = f"sqlite:///{workdir}/consent-{slug}.db"
    port = free_port()
    log = workdir / f"server-{slug}.log"
    env = {"GATEKEEPER_SECRET_KEYS": secrets.token_hex(16), "PYTHONPATH": str(REPO), **env}
    process = start(command(port, database_url, **options), port, log, env)
    try:
        cpu = cpu_seconds(process.pid)
        result = asyncio.run(drive(name, [port], args.requests, args.seconds, args.connections))
        cpu = cpu_seconds(process.pid) - cpu
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    stored = count_records(database_url) - 80  # the warm-up's records
    if stored != result.answered or result.failed:
        raise SystemExit(f"bench: {name}: {result.answered} answered 201 ({result.failed} not), {stored} records stored")
    lines = sum(1 for line in log.read_text().splitlines() if "/api/v1/consent" in line)
    return result.rate, result.percentile(50), lines, 1e6 * cpu / (result.answered + result.failed + 80)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench logs", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="turns each variant takes")
    parser.add_argument("--requests", type=int, default=3000, help="POSTs per variant and round (after 80 warm-up)")
    parser.add_argument("--seconds", type=float, default=20.0, help="time limit per variant and round")
    parser.add_argument("--connections", type=int, default=32, help="concurrent keep-alive connections")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="gatekeeper-bench-logs-"))
    runs: dict[str, list[tuple[float, float, int, float]]] = {name: [] for name in VARIANTS}
    for round_ in range(args.rounds):
        for name in VARIANTS:
            runs[name].append(run(name, workdir, round_, args))
            rate, _, _, cpu = runs[name][-1]
            print(f"round {round_ + 1}: {name}: {rate:.0f} POSTs/s, {cpu:.0f} µs CPU per POST", file=sys.stderr)
    base = statistics.median(r[0] for r in runs[next(iter(VARIANTS))])
    base_cpu = statistics.median(r[3] for r in runs[next(iter(VARIANTS))])
    print(f"\n{args.connections} connections, up to {args.requests} POSTs or {args.seconds:.0f} s per variant, "
          f"{args.rounds} rounds (medians), SQLite, {os.cpu_count()} CPUs\n")
    print("| variant | server CPU µs per POST | vs baseline | POSTs/s | vs baseline | p50 ms | request lines logged |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, results in runs.items():
        rate, p50, cpu = (statistics.median(r[i] for r in results) for i in (0, 1, 3))
        print(f"| {name} | {cpu:.0f} | {cpu / base_cpu:.2f}x | {rate:.0f} | {rate / base:.2f}x | {p50:.1f} | {results[-1][2]} |")
