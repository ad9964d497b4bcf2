"""Clean exit: 50 short scripts (SQLite and PostgreSQL) that each run queries, including
ones left in flight, all exit with status 0."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    sys.path.insert(0, {tests!r})
    import chakra
    from models import ALL, User

    chakra.configure({url!r})

    async def main():
        await chakra.create_tables(*ALL, if_not_exists=True)
        await User.objects.create(username="s{n}", email="e")
        assert await User.objects.filter(username="s{n}").count() == 1
        await asyncio.gather(*(User.objects.filter(id__gt=i).count() for i in range(5)))
        # Leave queries in flight at exit: the runtime must still shut down cleanly.
        for _ in range(3):
            asyncio.get_running_loop().create_task(User.objects.all())
        async with chakra.Session() as s:
            async with s.begin():
                u = await s.get(User, 1)
                u.balance += 1

    asyncio.run(main())
    if {n} % 2:
        print(User.objects.count_sync())
    """
)


def run_script(path: Path) -> tuple[int, str]:
    p = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, timeout=120, check=False
    )
    return p.returncode, p.stderr[-2000:]


def test_fifty_scripts_exit_cleanly(new_db: object, tmp_path: Path) -> None:
    tests = str(Path(__file__).parent)
    sqlite = new_db("sqlite")  # type: ignore[operator]
    pg = new_db("postgres")  # type: ignore[operator]
    paths = []
    for n in range(50):
        url = sqlite.url if n % 2 == 0 else pg.url
        path = tmp_path / f"script_{n}.py"
        path.write_text(SCRIPT.format(tests=tests, url=url, n=n))
        paths.append(path)
    with ThreadPoolExecutor(max_workers=2) as ex:
        results = list(ex.map(run_script, paths))
    failed = [(p.name, rc, err) for p, (rc, err) in zip(paths, results, strict=True) if rc != 0]
    assert not failed, failed


FORK_SCRIPT = textwrap.dedent(
    """
    import asyncio, os, sys
    sys.path.insert(0, {tests!r})
    import chakra
    from models import ALL, User

    chakra.configure({url!r})
    chakra.create_tables_sync(*ALL, if_not_exists=True)
    User.objects.create_sync(username="parent", email="e")   # runtime and pool started
    pid = os.fork()
    if pid == 0:
        # The child gets a runtime and connections of its own.
        User.objects.create_sync(username="child", email="e")
        n = asyncio.run(User.objects.count())
        os._exit(0 if n == 2 else 3)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, status
    assert User.objects.count_sync() == 2      # the parent's pool still works
    assert asyncio.run(User.objects.filter(username="child").exists())
    """
)


def test_forked_child_gets_its_own_runtime(new_db: object, tmp_path: Path) -> None:
    tests = str(Path(__file__).parent)
    for backend in ("sqlite", "postgres"):
        d = new_db(backend)  # type: ignore[operator]
        path = tmp_path / f"fork_{backend}.py"
        path.write_text(FORK_SCRIPT.format(tests=tests, url=d.url))
        rc, err = run_script(path)
        assert rc == 0, err
