"""Where an awaited get by primary key spends its time, against asyncpg (issue 20's W5).

Usage: python bench/get_parts.py [--url postgres://...] [--rounds 7] [--n 2000]

In one process, interleaved round by round (so a loaded machine weighs on every contender
alike), each round times ``--n`` calls of:

  asyncpg get        ``await conn.fetchrow(...)`` + the same plain object (bench.py's W5 objects)
  chakra async get   ``await BenchUser.objects.get(id=...)``
  chakra sync get    ``BenchUser.objects.get_sync(id=...)`` (the calling thread drives the op)
  await noop job     ``await _bridge.run(noop_job())``: the bridge alone, no statement
  run_sync noop job  ``noop_job().run_sync()``

and prints the medians of wall and process CPU time (user + system, every thread) per call,
then the decomposition: (async get minus sync get) against (await noop minus run_sync
noop). When the two differences agree, what separates the async get from the sync one is
the bridge's thread hand-over, not the statement or the hydration.

The URL defaults to CHAKRA_BENCH_PG_URL, else CHAKRA_TEST_PG_URL, else
postgres://postgres@127.0.0.1:5432/postgres; a database chakra_bench_get_<random> is created
there and dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import asyncpg
import chakra
import isolated
from chakra import _bridge, _chakra

from bench import COLS, BenchUser, RawUser, row, scratch_database

ROWS = 1_000


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--url", default=isolated.default_pg_url())
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--n", type=int, default=2_000)
    args = ap.parse_args()
    async with scratch_database(args.url, "chakra_bench_get") as url:
        chakra.configure(url)
        await chakra.create_tables(BenchUser)
        await BenchUser.objects.bulk_create(
            [
                BenchUser(username=u, email=e, created_at=c, is_active=a, balance=b)
                for u, e, c, a, b in (row(i) for i in range(ROWS))
            ]
        )
        conn = await asyncpg.connect(url)
        sql = f"SELECT {COLS} FROM bench_users WHERE id = $1"
        n = args.n

        async def asyncpg_get() -> None:
            for i in range(n):
                r = await conn.fetchrow(sql, i % ROWS + 1)
                assert r is not None
                RawUser(r)

        async def chakra_async() -> None:
            for i in range(n):
                await BenchUser.objects.get(id=i % ROWS + 1)

        async def chakra_sync() -> None:
            for i in range(n):
                BenchUser.objects.get_sync(id=i % ROWS + 1)

        async def noop_await() -> None:
            for _ in range(n):
                await _bridge.run(_chakra.noop_job())

        async def noop_sync() -> None:
            for _ in range(n):
                _chakra.noop_job().run_sync()

        contenders: dict[str, Callable[[], Awaitable[None]]] = {
            "asyncpg get + object": asyncpg_get,
            "chakra async get": chakra_async,
            "chakra sync get": chakra_sync,
            "await noop job": noop_await,
            "run_sync noop job": noop_sync,
        }
        for fn in contenders.values():  # warm-up: statements prepared, pools filled
            await fn()
        got: dict[str, list[tuple[float, float]]] = {k: [] for k in contenders}
        print(f"start: load average {os.getloadavg()[0]:.2f}")
        for _ in range(args.rounds):
            for k, fn in contenders.items():
                t, c = time.perf_counter(), time.process_time()
                await fn()
                got[k].append(((time.perf_counter() - t) / n, (time.process_time() - c) / n))
        print(f"end:   load average {os.getloadavg()[0]:.2f}")
        med = {
            k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
            for k, v in got.items()
        }
        base = med["asyncpg get + object"]
        print(f"\nper call, median of {args.rounds} rounds of {n} (wall / CPU, ÷ asyncpg):")
        for k, (w, c) in med.items():
            print(
                f"  {k:<22} {w * 1e6:7.1f} / {c * 1e6:6.1f} µs"
                f"   {w / base[0]:5.2f}x / {c / base[1]:5.2f}x"
            )
        a, s = med["chakra async get"], med["chakra sync get"]
        na, ns = med["await noop job"], med["run_sync noop job"]
        diffs = {
            "async get - sync get": (a[0] - s[0], a[1] - s[1]),
            "await noop - run_sync noop": (na[0] - ns[0], na[1] - ns[1]),
            "the aim (0.8x asyncpg)": (0.8 * base[0], 0.8 * base[1]),
        }
        print()
        for k, (w, c) in diffs.items():
            print(f"  {k:<28} {w * 1e6:7.1f} / {c * 1e6:6.1f} µs")
        await conn.close()


if __name__ == "__main__":
    asyncio.run(main())
