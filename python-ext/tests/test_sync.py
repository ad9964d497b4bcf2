"""The synchronous mirror (``*_sync`` methods): works outside any event loop and inside a
running one without deadlocking."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import chakra
from models import ALL, User


def test_sync_api_outside_a_loop(new_db: object) -> None:
    for backend in ("sqlite", "postgres"):
        d = new_db(backend)  # type: ignore[operator]
        chakra.configure(d.url)
        chakra.create_tables_sync(*ALL)
        u = User.objects.create_sync(username="a", email="e")
        assert u.id == 1
        User.objects.bulk_create_sync([User(username=f"u{i}", email="e") for i in range(3)])
        assert User.objects.count_sync() == 4
        assert User.objects.filter(username__startswith="u").count_sync() == 3
        assert User.objects.get_sync(id=1).username == "a"
        assert [x.id for x in User.objects.order_by("-id").limit(2).all_sync()] == [4, 3]
        assert User.objects.exists_sync()
        assert User.objects.first_sync() is not None
        assert User.objects.last_sync().id == 4  # type: ignore[union-attr]
        assert User.objects.filter(id=1).update_sync(balance=3) == 1
        obj, created = User.objects.get_or_create_sync(username="a")
        assert not created and obj.balance == 3
        obj, created = User.objects.update_or_create_sync(username="z", defaults={"email": "z"})
        assert created
        u.balance = 9
        u.save_sync()
        assert User.objects.get_sync(id=1).balance == 9
        assert User.objects.filter(id__gt=3).delete_sync() == 2
        assert User.objects.values_list("id", flat=True).order_by("id").all_sync() == [1, 2, 3]
        chakra.close(d.url)


async def test_sync_api_inside_a_running_loop(db: object) -> None:
    # Called from a coroutine: blocks this loop while it runs, never deadlocks.
    User.objects.create_sync(username="a", email="e")
    assert User.objects.count_sync() == 1
    # Async work around it still runs.
    await User.objects.create(username="b", email="e")
    assert User.objects.count_sync() == 2
    assert await User.objects.count() == 2


def test_sync_api_from_threads(new_db: object) -> None:
    d = new_db("postgres")  # type: ignore[operator]
    chakra.configure(d.url)
    chakra.create_tables_sync(*ALL)
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            for i in range(20):
                User.objects.create_sync(username=f"t{k}_{i}", email="e")
                User.objects.filter(username__startswith=f"t{k}_").count_sync()
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert User.objects.count_sync() == 80
    chakra.close(d.url)


def test_several_event_loops_in_turn(tmp_path: Path) -> None:
    chakra.configure(f"sqlite://{tmp_path / 'loops.db'}")
    chakra.create_tables_sync(*ALL)
    for i in range(5):
        asyncio.run(User.objects.create(username=f"l{i}", email="e"))
    loop = asyncio.new_event_loop()
    try:
        assert loop.run_until_complete(User.objects.count()) == 5
    finally:
        loop.close()
    assert asyncio.run(User.objects.count()) == 5
    chakra.close()


def test_sync_session_transfer(new_db: object) -> None:
    from chakra import SyncSession

    for backend in ("sqlite", "postgres"):
        d = new_db(backend)  # type: ignore[operator]
        chakra.configure(d.url)
        chakra.create_tables_sync(*ALL)
        User.objects.bulk_create_sync(
            [User(username="a", email="e", balance=500), User(username="b", email="e")]
        )
        with SyncSession() as s:
            with s.begin_sync():
                a = s.get_sync(User, 1)
                b = s.get_sync(User, 2)
                assert a is not None and b is not None
                a.balance -= 100
                b.balance += 100
                try:
                    with s.begin_sync():
                        s.add(User(username="gone", email="e"))
                        s.flush_sync()
                        raise RuntimeError
                except RuntimeError:
                    pass
        assert User.objects.order_by("id").values_list("balance", flat=True).all_sync() == [
            400,
            100,
        ]
        assert User.objects.count_sync() == 2
        chakra.close(d.url)


def test_sync_transaction_reruns_a_conflict(new_db: object) -> None:
    from chakra import SyncSession

    d = new_db("postgres")  # type: ignore[operator]
    chakra.configure(d.url)
    chakra.create_tables_sync(*ALL)
    User.objects.bulk_create_sync([User(username="a", email="e", balance=500)])
    runs = 0

    def body(s: SyncSession) -> int:
        nonlocal runs
        runs += 1
        a = s.get_sync(User, 1)
        assert a is not None
        if runs == 1:
            with chakra.outside_transaction():  # another connection's write
                User.objects.filter(id=1).update_sync(balance=1)
        a.balance -= 100
        return a.balance

    with SyncSession() as s:
        assert s.transaction_sync(body, isolation="read committed") == -99
    assert runs == 2
    assert User.objects.get_sync(id=1).balance == -99
    chakra.close(d.url)


def test_sync_example_script_runs(new_db: object) -> None:
    import os
    import subprocess
    import sys

    script = Path(__file__).parent.parent / "examples" / "sync_script.py"
    for backend in ("sqlite", "postgres"):
        d = new_db(backend)  # type: ignore[operator]
        env = {**os.environ, "CHAKRA_DATABASE_URL": d.url}
        p = subprocess.run(
            [sys.executable, str(script)], env=env, capture_output=True, text=True, check=False
        )
        assert p.returncode == 0, p.stderr
        assert p.stdout == "['alice', 'bob'] 2\n"
