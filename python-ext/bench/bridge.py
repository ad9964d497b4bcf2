"""The bridge's per-call cost with a query-free job, over several fresh runs.

Usage: python bench/bridge.py [--runs 3] [--n 20000]
Prints, per run, the cost of ``await``-ing a no-op job through the event loop (two thread
hops), of running it with ``run_sync`` (no hop: it completes on the calling thread), and of
asyncio's own ``run_in_executor`` for scale.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench import bridge_costs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--n", type=int, default=20_000)
    args = ap.parse_args()
    for i in range(args.runs):
        costs = asyncio.run(bridge_costs(args.n))
        shown = " | ".join(f"{k}: {v * 1e6:.1f} µs" for k, v in costs.items())
        print(f"run {i + 1}: {shown}")


if __name__ == "__main__":
    main()
