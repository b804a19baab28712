"""What the bench reads from Gatekeeper besides its answers: records per commit and the wait
for the chain heads' lock (from each server's /metrics), whether every hash chain is intact
afterwards (gatekeeper.verify), and, with --profile, where a server's time went (cProfile).
"""

from __future__ import annotations

import asyncio
import pstats
import sys
import urllib.request
from pathlib import Path

import sqlalchemy as sa

from gatekeeper.db import chain_heads, create_engine
from gatekeeper.verify import verify_site


def _metric(text: str, name: str) -> float:
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name + " "))


def server_metrics(ports: list[int]) -> dict:
    """Summed over the servers: records per commit, head-lock wait per commit (only commits
    that took the lock wait for it), commits, and PostgreSQL batches that found the head moved."""
    totals = {"lock": 0.0, "commits": 0.0, "records": 0.0, "moved": 0.0}
    for port in ports:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
            text = response.read().decode()
        totals["lock"] += _metric(text, "gatekeeper_log_chain_lock_seconds_sum")
        totals["commits"] += _metric(text, "gatekeeper_log_commit_batch_size_count")
        totals["records"] += _metric(text, "gatekeeper_log_commit_batch_size_sum")
        totals["moved"] += _metric(text, "gatekeeper_log_chain_head_moved_total")
    commits = max(1.0, totals["commits"])
    return {"batch": totals["records"] / commits, "lock_ms": 1000 * totals["lock"] / commits,
            "moved": int(totals["moved"]), "commits": int(totals["commits"])}


def chain_intact(database_url: str) -> str:
    async def run() -> str:
        engine = create_engine(database_url)
        try:
            async with engine.connect() as connection:
                sites = list((await connection.execute(sa.select(chain_heads.c.site))).scalars())
            outcomes = [await verify_site(engine, site) for site in sites]
        finally:
            await engine.dispose()
        broken = [f"{o.site}: {o.problem}" for o in outcomes if not o.ok]
        if broken:
            raise SystemExit("bench: the hash chain is broken after the run: " + "; ".join(broken))
        return "intact (" + ", ".join(f"{o.site} {o.reached.seq}" for o in outcomes if o.reached.seq) + ")"

    return asyncio.run(run())


def profiled(command: list[str], output: Path) -> list[str]:
    """`python -m gatekeeper serve …` under cProfile."""
    assert command[1:3] == ["-m", "gatekeeper"]
    return [command[0], "-m", "cProfile", "-o", str(output), *command[1:]]


def print_profile(path: Path, top: int = 25) -> None:
    print(f"\nbench: where the SQLite server's time went (cProfile, top {top} by own time):", file=sys.stderr)
    pstats.Stats(str(path), stream=sys.stderr).sort_stats("tottime").print_stats(top)
