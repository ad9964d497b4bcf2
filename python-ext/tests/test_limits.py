"""Nesting limits (issue 19, items 1 and 2): JSON documents, ``Q`` trees and ``F`` arithmetic
nested past ``chakra.limits`` (100 levels) are a named error stating the limit, never a crash,
and what is accepted can be read back. The deep cases run in a child process, so a crash
(a stack overflow kills the process) fails the test instead of the run."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import chakra
import pytest
from chakra import errors
from models import Thing

HERE = Path(__file__).parent

# Run in a child process: every case prints one line; the process must exit 0.
CHILD = textwrap.dedent(
    """
    import asyncio, functools, operator, sys, time
    sys.path.insert(0, sys.argv[2])
    import chakra
    from chakra import F, Q, errors
    from models import Thing

    def nested(n):
        v = 1
        for _ in range(n):
            v = [v]
        return v

    def nested_dict(n):
        v = {}
        for _ in range(n):
            v = {"k": v}
        return v

    async def expect(what, exc, make):
        try:
            await make()
        except exc as e:
            assert "100 levels" in str(e), (what, str(e))
            print(what, "refused:", type(e).__name__)
            return
        raise AssertionError(f"{what}: not refused")

    async def main():
        chakra.configure(sys.argv[1])
        for depth in (101, 200, 15_000, 20_000):
            await expect(f"create list {depth}", errors.BadValue,
                         lambda: Thing.objects.create(name="x", data=nested(depth)))
            await expect(f"create dict {depth}", errors.BadValue,
                         lambda: Thing.objects.create(name="x", data=nested_dict(depth)))
        await expect("contains 20000", errors.BadValue,
                     lambda: Thing.objects.filter(data__contains=nested(20_000)).count())
        await expect("raw 20000", errors.BadValue,
                     lambda: chakra.execute("SELECT %s", [nested(20_000)]))
        q = Q(name="a")
        for _ in range(7_000):
            q = ~Q(q, name="b")
        await expect("Q 7000", errors.InvalidQuery, lambda: Thing.objects.filter(q).count())
        f = F("n")
        for _ in range(10_000):
            f = f + 1
        await expect("F 10000", errors.InvalidQuery, lambda: Thing.objects.filter(n=f).count())
        await expect("update F 10000", errors.InvalidQuery,
                     lambda: Thing.objects.filter(id=0).update(n=f))
        r = Q(nick="r")
        q = Q(nick="q")
        for _ in range(3_000):
            q = ~(~q & r)
        t = time.monotonic()
        await Thing.objects.filter(q).count()  # ~~q is q: one flat AND, fast
        # A guard against exponential work (hours), not a benchmark: generous under load.
        assert time.monotonic() - t < 30.0, time.monotonic() - t
        print("~(~q & r) 3000 ran")
        q = Q(nick="q")
        for _ in range(3_000):
            q = ~((~q & r) | Q(n__lte=0))
        t = time.monotonic()
        await expect("~((~q & r) | s) 3000", errors.InvalidQuery,
                     lambda: Thing.objects.filter(q).count())
        assert time.monotonic() - t < 30.0, time.monotonic() - t
        print("done")

    asyncio.run(main())
    """
)


def test_deep_nesting_is_refused_in_a_child_process(db: object) -> None:
    url = db.url  # type: ignore[attr-defined]
    chakra.close(url)
    run = subprocess.run(
        [sys.executable, "-c", CHILD, url, str(HERE)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, (run.returncode, run.stdout, run.stderr[-3000:])
    lines = run.stdout.splitlines()
    assert lines[-1] == "done", run.stdout
    assert sum("refused" in line for line in lines) == 14, run.stdout


async def test_json_up_to_the_limit_is_stored_and_read_back(db: object) -> None:
    def nested(n: int) -> object:
        v: object = "leaf"
        for i in range(n):
            v = [v] if i % 2 else {"k": v}
        return v

    limit = 100
    if db.backend == "mysql":  # type: ignore[attr-defined]
        [(version,)] = await chakra.fetch("SELECT VERSION()")
        # MariaDB's JSON_VALID refuses documents past 31 levels: refused by name before
        # any SQL (docs/mysql.md); MySQL keeps Chakra's 100.
        limit = 31 if "mariadb" in str(version).lower() else 100
    deepest = nested(limit)
    t = await Thing.objects.create(name="deep", data=deepest)
    back = await Thing.objects.get(id=t.id)
    assert back.data == deepest
    if db.backend == "mysql":  # type: ignore[attr-defined]
        # JSON containment is refused by name there (docs/mysql.md).
        with pytest.raises(errors.InvalidQuery):
            await Thing.objects.filter(data__contains=nested(limit)).count()
    else:
        assert await Thing.objects.filter(data__contains=nested(limit)).count() == 1
    try:
        await Thing.objects.create(name="deeper", data=nested(limit + 1))
    except errors.BadValue as e:
        assert e.field == "data" and "100 levels" in str(e), e
    except errors.InvalidQuery as e:
        assert limit == 31 and "MariaDB stores JSON up to 31 levels" in str(e), e
    else:
        raise AssertionError(f"{limit + 1} levels accepted")
    assert [x.name for x in await Thing.objects.all()] == ["deep"]


async def test_long_flat_q_chains_are_not_nesting(db: object) -> None:
    """``q1 | q2 | … | q2000`` built one ``|`` at a time is one flat OR, not 2,000 levels."""
    await Thing.objects.bulk_create([Thing(name=f"t{i}", n=i) for i in range(50)])
    q = chakra.Q(n=-1)
    for i in range(0, 2000, 7):
        q = q | chakra.Q(n=i)
    want = sorted(i for i in range(50) if i % 7 == 0)
    assert sorted(x.n for x in await Thing.objects.filter(q)) == want
    a = chakra.Q(n__gte=0)
    for i in range(2000):
        a = a & chakra.Q(n__lt=50 - (i % 3))
    assert await Thing.objects.filter(a).count() == 48


async def test_nested_negations_keep_djangos_null_semantics(db: object) -> None:
    """``~((~q & r) | s)`` nested 30 deep (2**30 if each negation doubled its operand)
    against rows evaluated in Python with SQL's three-valued logic."""
    nicks = [None, "q", "r", "x"]
    ns = [None, -1, 0, 1, 2, 3]
    for nick in nicks:
        for n in ns:
            await Thing.objects.create(name="t", nick=nick, n=n)

    def and3(a: bool | None, b: bool | None) -> bool | None:
        if a is False or b is False:
            return False
        return None if a is None or b is None else True

    def or3(a: bool | None, b: bool | None) -> bool | None:
        if a is True or b is True:
            return True
        return None if a is None or b is None else False

    def truth(nick: str | None, n: int | None, depth: int) -> bool | None:
        q: bool | None = None if nick is None else nick == "q"
        r = None if n is None else n >= 2
        s = None if n is None else n <= 0
        for _ in range(depth):
            q = or3(and3(q is not True, r), s) is not True  # ~: true when not true
        return q

    all_rows = await Thing.objects.order_by("id")
    for depth in (1, 2, 3, 30):
        q = chakra.Q(nick="q")
        for _ in range(depth):
            q = ~((~q & chakra.Q(n__gte=2)) | chakra.Q(n__lte=0))
        got = sorted(x.id for x in await Thing.objects.filter(q))
        want = sorted(x.id for x in all_rows if truth(x.nick, x.n, depth) is True)
        assert got == want, (depth, got, want)
        assert 0 < len(want) < len(all_rows) or depth == 30
