"""Process-per-contender runs for the benchmark scripts (``--isolated N``).

The parent runs each contender alone in a fresh interpreter (the same script with
``--contender NAME`` and the script's own arguments), the contenders interleaved across
``N`` repetitions (A B C A B C …). A child times every workload twice, the first run in the
fresh process ("cold") and a second one ("warm"), and prints one line ``ISOLATED {json}``
with both. The parent reports, per workload and contender, the median over the ``N``
processes of the warm run's wall time and process CPU time (user + system, every thread:
``time.process_time`` in the child), their ratios to
the base contender, the cold run's median wall time, the best warm wall time (the minimum
over the processes, for comparison with best-of-N), and the median CPU of the whole child
(``getrusage(RUSAGE_CHILDREN)`` around its ``wait``: interpreter start, imports, connection
and both runs). The date (UTC) and the load average are printed before and after.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timezone

MARK = "ISOLATED "

# One workload's result in a child: wall and CPU seconds of the cold and the warm run.
Result = dict[str, float]


def default_pg_url() -> str:
    """The PostgreSQL server the benchmark scripts use unless ``--url`` says otherwise:
    ``CHAKRA_BENCH_PG_URL``, else ``CHAKRA_TEST_PG_URL``, else the local server."""
    return os.environ.get(
        "CHAKRA_BENCH_PG_URL",
        os.environ.get("CHAKRA_TEST_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
    )


def stamp() -> str:
    """The date (UTC) and the load average, for the lines around a table."""
    one, five, fifteen = os.getloadavg()
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"{now}, load average {one:.2f} {five:.2f} {fifteen:.2f} ({os.cpu_count()} CPUs)"


def emit(results: dict[str, Result]) -> None:
    """Child side: prints the results line the parent reads."""
    print(MARK + json.dumps(results), flush=True)


def timed_twice(cold: tuple[float, float], warm: tuple[float, float]) -> Result:
    """A child's result from its (wall, cpu) of the cold and the warm run."""
    return {"wall": warm[0], "cpu": warm[1], "cold_wall": cold[0], "cold_cpu": cold[1]}


def run_child(argv: Sequence[str]) -> tuple[dict[str, Result], float]:
    """Runs one child to its end; its results and its whole-process CPU seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run([sys.executable, *argv], capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"child {argv} failed ({proc.returncode}):\n{proc.stderr}")
    lines = [x for x in proc.stdout.splitlines() if x.startswith(MARK)]
    if not lines:
        raise SystemExit(f"child {argv} printed no results:\n{proc.stdout}\n{proc.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return json.loads(lines[-1][len(MARK) :]), cpu


def fmt(s: float) -> str:
    """Seconds as ms, or µs below a millisecond."""
    return f"{s * 1e6:.1f} µs" if s < 1e-3 else f"{s * 1e3:.2f} ms"


def run(
    script: str,
    args: Sequence[str],
    contenders: Sequence[str],
    base: str,
    reps: int,
    per: dict[str, int] | None = None,
) -> None:
    """Parent side: ``reps`` interleaved repetitions of every contender, each in a fresh
    process, then the table of medians. ``per`` divides a workload's times (per get)."""
    per = per or {}
    print(f"start: {stamp()}", flush=True)
    got: dict[tuple[str, str], list[Result]] = {}
    whole: dict[str, list[float]] = {}
    for rep in range(reps):
        for who in contenders:
            t = time.perf_counter()
            res, cpu = run_child([script, *args, "--contender", who])
            whole.setdefault(who, []).append(cpu)
            for w, r in res.items():
                got.setdefault((w, who), []).append(r)
            print(
                f"  rep {rep + 1}/{reps} {who}: {time.perf_counter() - t:.1f} s, "
                f"process CPU {cpu:.2f} s",
                file=sys.stderr,
                flush=True,
            )
    print(f"end:   {stamp()}")
    print(
        f"each contender alone in a fresh process, {reps} interleaved repetitions, medians; "
        "warm = the second run in the process, cold = the first"
    )
    print(
        f"| workload | contender | wall | ÷ {base} | CPU | ÷ {base} | cold wall | ÷ {base} "
        f"| best wall | ÷ {base} |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    workloads = list(dict.fromkeys(w for w, _ in got))
    for w in workloads:
        d = per.get(w, 1)

        def med(who: str, key: str, w: str = w, d: int = d) -> float | None:
            rs = got.get((w, who))
            return statistics.median(r[key] for r in rs) / d if rs else None

        def best(who: str, w: str = w, d: int = d) -> float | None:
            rs = got.get((w, who))
            return min(r["wall"] for r in rs) / d if rs else None

        bw, bc, bcold, bbest = (
            med(base, "wall"),
            med(base, "cpu"),
            med(base, "cold_wall"),
            best(base),
        )
        for who in contenders:
            mw, mc, mcold, mbest = (
                med(who, "wall"),
                med(who, "cpu"),
                med(who, "cold_wall"),
                best(who),
            )
            if mw is None or mc is None or mcold is None or mbest is None:
                continue

            def ratio(x: float, b: float | None) -> str:
                return f"{x / b:.2f}x" if b else "—"

            print(
                f"| {w} | {who} | {fmt(mw)} | {ratio(mw, bw)} | {fmt(mc)} | {ratio(mc, bc)} "
                f"| {fmt(mcold)} | {ratio(mcold, bcold)} | {fmt(mbest)} | {ratio(mbest, bbest)} |"
            )
    print("whole child process CPU (start-up, imports, both runs), median:")
    for who in contenders:
        print(f"  {who}: {statistics.median(whole[who]):.2f} s")
