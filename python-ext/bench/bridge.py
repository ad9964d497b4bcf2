"""The bridge's per-call cost with a query-free job, over several fresh runs, then what the
runtime thread's spin window costs in CPU.

Usage: python bench/bridge.py [--runs 3] [--n 20000] [--url postgres://...] [--no-spin]
       [--spin-rounds 5]
Prints, per run, the cost of ``await``-ing a no-op job through the event loop (two thread
hops), of running it with ``run_sync`` (no hop: it completes on the calling thread), and of
asyncio's own ``run_in_executor`` for scale.

Then, unless ``--no-spin``, the same process is started once per spin window
(``CHAKRA_SPIN_US``: 200 µs, the default on 4 CPUs or more, and 0), alternating,
``--spin-rounds`` times, and the medians of wall and process CPU time (user + system, every
thread) per call are printed:
  saturated  ``await`` of a no-op job back to back, and of ``SELECT 1`` on PostgreSQL back
             to back (the runtime thread always has the next job within the window);
  idle       the same ``SELECT 1`` with 2 ms of idle event loop after each call (the caller
             never comes back within the window: the runtime thread spins after the first
             call only, then skips the window while the caller stays that slow).
The URL defaults to CHAKRA_BENCH_PG_URL, else CHAKRA_TEST_PG_URL, else
postgres://postgres@127.0.0.1:5432/postgres.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import isolated
from chakra import _bridge, _chakra

from bench import bridge_costs

IDLE_GAP_S = 0.002


async def spin_costs(url: str, n: int) -> dict[str, tuple[float, float]]:
    """Wall and CPU seconds per call for each pattern (see the module docstring)."""
    pool = _chakra.PoolRef(url)
    for _ in range(200):
        await _bridge.run(_chakra.batch_job(pool, "SELECT 1"))
    out: dict[str, tuple[float, float]] = {}

    async def timed(name: str, calls: int, one: Callable[[], Awaitable[None]]) -> None:
        t, c = time.perf_counter(), time.process_time()
        for _ in range(calls):
            await one()
        out[name] = ((time.perf_counter() - t) / calls, (time.process_time() - c) / calls)

    async def noop() -> None:
        await _bridge.run(_chakra.noop_job())

    async def select1() -> None:
        await _bridge.run(_chakra.batch_job(pool, "SELECT 1"))

    async def idle_select1() -> None:
        await _bridge.run(_chakra.batch_job(pool, "SELECT 1"))
        await asyncio.sleep(IDLE_GAP_S)

    async def idle_only() -> None:
        await asyncio.sleep(IDLE_GAP_S)

    await timed("saturated: await noop job", n, noop)
    await timed("saturated: await SELECT 1", n // 4, select1)
    await timed("idle: SELECT 1 + 2 ms idle", 1_000, idle_select1)
    await timed("idle: 2 ms idle alone", 1_000, idle_only)
    return out


def child(url: str, n: int) -> None:
    print(json.dumps(asyncio.run(spin_costs(url, n))))


def compare_spin(url: str, n: int, rounds: int) -> None:
    """Runs a child per spin window, alternating, ``rounds`` times; prints the medians."""
    results: dict[str, list[dict[str, list[float]]]] = {"200": [], "0": []}
    for _ in range(rounds):
        for spin in ("200", "0"):
            env = dict(os.environ, CHAKRA_SPIN_US=spin)
            done = subprocess.run(
                [sys.executable, __file__, "--child", "--url", url, "--n", str(n)],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            results[spin].append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(f"\nspin window (CHAKRA_SPIN_US), wall / process CPU per call, median of {rounds}:")
    print(f"  {'pattern':<30} {'spin 200 µs':>24} {'spin 0':>24}")
    for name in results["200"][0]:
        cells = []
        for spin in ("200", "0"):
            wall = statistics.median(r[name][0] for r in results[spin])
            cpu = statistics.median(r[name][1] for r in results[spin])
            cells.append(f"{wall * 1e6:8.1f} / {cpu * 1e6:6.1f} µs")
        print(f"  {name:<30} {cells[0]:>24} {cells[1]:>24}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--url", default=isolated.default_pg_url())
    ap.add_argument("--no-spin", action="store_true")
    ap.add_argument("--spin-rounds", type=int, default=5)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.url, args.n)
        return
    for i in range(args.runs):
        costs = asyncio.run(bridge_costs(args.n))
        shown = " | ".join(f"{k}: {v * 1e6:.1f} µs" for k, v in costs.items())
        print(f"run {i + 1}: {shown}")
    if not args.no_spin:
        compare_spin(args.url, args.n, args.spin_rounds)


if __name__ == "__main__":
    main()
