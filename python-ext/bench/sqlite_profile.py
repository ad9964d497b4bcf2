"""One contender of ``sqlite_bench.py`` run N times in a loop, for a profiler.

Usage: python bench/sqlite_profile.py WORKLOAD N, WORKLOAD one of get, get_async, raw_get,
insert, insert_async, raw_insert, raw_insert_objects, fetch. It configures Chakra on a fresh
file, inserts 10,000 rows, then runs N gets (``raw_get``: N rounded down to thousands) or N
bulk inserts of 10,000 rows (each after an untimed ``DELETE``), and prints the CPU time of
the loop.

Instructions per operation, start-up and set-up cancelled out (docs/performance.md):

    valgrind --tool=callgrind --callgrind-out-file=a python bench/sqlite_profile.py get 2000
    valgrind --tool=callgrind --callgrind-out-file=b python bench/sqlite_profile.py get 12000
    # (totals of b - totals of a) / 10000
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time

import chakra
from sqlite_bench import GETS, N, Raw, SqUser, objs


def main() -> None:
    what, reps = sys.argv[1], int(sys.argv[2])
    path = os.path.join(tempfile.mkdtemp(prefix="chakra_sqlite_profile_"), "bench.db")
    chakra.configure(f"sqlite://{path}")
    chakra.create_tables_sync(SqUser)
    SqUser.objects.bulk_create_sync(objs())
    raw = Raw(path)
    keys = [r[0] for r in raw.c.execute("SELECT id FROM sq_users ORDER BY id")]
    loop = asyncio.new_event_loop()

    async def gets() -> None:
        for i in range(reps):
            await SqUser.objects.get(id=keys[(i * 7) % N])

    def run() -> None:
        if what == "get":
            for i in range(reps):
                SqUser.objects.get_sync(id=keys[(i * 7) % N])
        elif what == "get_async":
            loop.run_until_complete(gets())
        elif what == "raw_get":
            for _ in range(reps // GETS):
                raw.gets(keys)
        elif what in ("insert", "insert_async", "raw_insert", "raw_insert_objects"):
            for _ in range(reps):
                chakra.execute_script_sync("DELETE FROM sq_users")
                if what == "insert":
                    SqUser.objects.bulk_create_sync(objs())
                elif what == "insert_async":
                    loop.run_until_complete(SqUser.objects.bulk_create(objs()))
                elif what == "raw_insert":
                    raw.insert()
                else:
                    raw.insert_objects()
        elif what == "fetch":
            for _ in range(reps):
                SqUser.objects.all_sync()
        else:
            raise SystemExit(f"unknown workload {what!r}")

    t, c = time.perf_counter(), time.process_time()
    run()
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    print(f"{what} x{reps}: wall {wall:.3f} s, CPU {cpu:.3f} s, load {os.getloadavg()[0]:.2f}")
    raw.c.close()
    chakra.close()
    loop.close()


if __name__ == "__main__":
    main()
