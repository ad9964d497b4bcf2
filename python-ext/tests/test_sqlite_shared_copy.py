"""Python's ``sqlite3`` module and Chakra on one SQLite file, in one process.

SQLite's locks are POSIX advisory locks, which belong to the process: closing any file
descriptor of a file drops every lock the process holds on it. One SQLite library keeps
track of its own descriptors and defers such closes; two copies of SQLite in one process
cannot, and ``sqlite3``'s ``close()`` then silently drops Chakra's locks. The extension
links the same SQLite as CPython's ``_sqlite3`` so the process has one copy.

Every check here reads the file back independently: with ``sqlite3`` in a separate process
(its own locks), and with hand-written SQL; expected rows are computed in plain Python.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path
from typing import Any

import chakra
import pytest
from chakra import Field, Integer, Model, String

JOURNAL_MODES = ["wal", "delete"]


class CopyItem(Model):
    __tablename__ = "copy_items"

    id = Field(Integer, primary_key=True)
    who = Field(String(20))


def other_process(path: str, code: str, *args: Any, busy: float = 30) -> Any:
    """Runs ``code`` (which sets ``out``) in a fresh Python process with ``con``, a
    ``sqlite3`` connection to ``path`` (busy timeout ``busy`` seconds), and ``args``;
    returns ``out``."""
    script = (
        textwrap.dedent(
            """
        import json, sqlite3, sys
        args = json.loads(sys.argv[2])
        con = sqlite3.connect(sys.argv[1], timeout=float(sys.argv[3]), isolation_level=None)
        out = None
        """
        )
        + textwrap.dedent(code)
        + "\nprint(json.dumps(out))\ncon.close()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, path, json.dumps(list(args)), str(busy)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def ids_elsewhere(path: str) -> list[int]:
    """The rows' ids as another process reads them."""
    return other_process(  # type: ignore[no-any-return]
        path, "out = [r[0] for r in con.execute('SELECT id FROM copy_items ORDER BY id')]"
    )


def integrity_elsewhere(path: str) -> str:
    return other_process(path, "out = con.execute('PRAGMA integrity_check').fetchone()[0]")  # type: ignore[no-any-return]


@pytest.mark.parametrize("journal", JOURNAL_MODES)
async def test_sqlite3_in_process_then_chakra_writes_are_seen_everywhere(
    new_db: Any, journal: str
) -> None:
    db = new_db("sqlite")
    url = f"{db.url}?journal_mode={journal}"
    path = db.url.removeprefix("sqlite://")
    chakra.configure(url)
    try:
        await chakra.create_tables(CopyItem)
        await CopyItem.objects.create(id=1, who="chakra")

        # In this process: Python's sqlite3 reads the file, then closes it.
        con = sqlite3.connect(path)
        assert [r[0] for r in con.execute("SELECT id FROM copy_items")] == [1]
        con.close()

        await CopyItem.objects.create(id=2, who="chakra")
        await CopyItem.objects.create(id=3, who="chakra")
        # Another process sees every row Chakra saved.
        assert ids_elsewhere(path) == [1, 2, 3]

        # In this process: sqlite3 writes a row and closes; Chakra sees it.
        con = sqlite3.connect(path)
        con.execute("INSERT INTO copy_items (id, who) VALUES (100, 'sqlite3')")
        con.commit()
        con.close()
        got = await chakra.fetch("SELECT id, who FROM copy_items ORDER BY id", url=url)
        assert got == [(1, "chakra"), (2, "chakra"), (3, "chakra"), (100, "sqlite3")]

        # And a row Chakra saves after that is seen by another process too.
        await CopyItem.objects.create(id=4, who="chakra")
        assert ids_elsewhere(path) == [1, 2, 3, 4, 100]
        assert integrity_elsewhere(path) == "ok"
    finally:
        chakra.close(url)


@pytest.mark.parametrize("journal", JOURNAL_MODES)
async def test_chakra_keeps_its_write_lock_when_sqlite3_closes_in_process(
    new_db: Any, journal: str
) -> None:
    """Chakra's transaction holds the write lock; ``sqlite3`` reads the file in this process
    and closes. Another process must still find the database locked until Chakra commits,
    and both writes are there afterwards."""
    db = new_db("sqlite")
    url = f"{db.url}?journal_mode={journal}"
    path = db.url.removeprefix("sqlite://")
    chakra.configure(url)
    try:
        await chakra.create_tables(CopyItem)
        await CopyItem.objects.create(id=1, who="chakra")
        attempt = """
        try:
            con.execute("BEGIN IMMEDIATE")
            con.execute("INSERT INTO copy_items (id, who) VALUES (3, 'other')")
            con.execute("COMMIT")
            out = "wrote"
        except sqlite3.OperationalError as e:
            out = str(e)
        """
        async with chakra.Session() as s:
            async with s.begin():
                s.add(CopyItem(id=2, who="chakra"))
                await s.flush()
                con = sqlite3.connect(path)
                assert con.execute("SELECT count(*) FROM copy_items").fetchone() == (1,)
                con.close()
                # The other process gives up at once on a held lock (busy timeout 0).
                assert other_process(path, attempt, busy=0) == "database is locked"
        assert ids_elsewhere(path) == [1, 2]
        assert other_process(path, attempt) == "wrote"
        assert ids_elsewhere(path) == [1, 2, 3]
        assert integrity_elsewhere(path) == "ok"
    finally:
        chakra.close(url)


@pytest.mark.parametrize("journal", JOURNAL_MODES)
async def test_concurrent_writer_in_another_process_loses_nothing(
    new_db: Any, journal: str
) -> None:
    """After ``sqlite3`` opened and closed the file in this process, Chakra and a writer in
    another process insert side by side: every row of both is there, the file is sound."""
    db = new_db("sqlite")
    url = f"{db.url}?journal_mode={journal}"
    path = db.url.removeprefix("sqlite://")
    n = 150
    chakra.configure(url)
    try:
        await chakra.create_tables(CopyItem)
        await CopyItem.objects.create(id=1, who="chakra")
        con = sqlite3.connect(path)
        con.execute("INSERT INTO copy_items (id, who) VALUES (2, 'sqlite3')")
        con.commit()
        con.close()

        writer = """
        lo, n = args
        for i in range(lo, lo + n):
            con.execute("BEGIN IMMEDIATE")
            con.execute("INSERT INTO copy_items (id, who) VALUES (?, 'other')", (i,))
            con.execute("COMMIT")
        out = n
        """
        other = asyncio.create_task(asyncio.to_thread(other_process, path, writer, 10_000, n))
        mine = list(range(1_000, 1_000 + n))
        for i in mine:
            await CopyItem.objects.create(id=i, who="chakra")
        assert await other == n

        expected = [1, 2, *mine, *range(10_000, 10_000 + n)]
        assert ids_elsewhere(path) == expected
        assert integrity_elsewhere(path) == "ok"
        got = await chakra.fetch("SELECT id FROM copy_items ORDER BY id", url=url)
        assert [r[0] for r in got] == expected
    finally:
        chakra.close(url)


def sqlite_files_mapped() -> set[str]:
    """The libsqlite3 files mapped into this process, read from /proc/self/maps."""
    with open("/proc/self/maps") as maps:
        return {
            os.path.realpath(line.split()[-1])
            for line in maps
            if "libsqlite3" in line and line.split()[-1].startswith("/")
        }


async def test_one_copy_is_shared_with_python_sqlite3_and_no_warning(new_db: Any) -> None:
    """The extension and CPython's ``_sqlite3`` run on one library: the one file mapped."""
    mapped = sqlite_files_mapped()
    assert len(mapped) == 1, mapped
    info = chakra.sqlite_info()
    assert info["shared_with_sqlite3"] is True, info
    assert info["built_in"] is False, info
    assert info["library"] == info["sqlite3_library"] == next(iter(mapped)), info
    assert info["version"] == info["sqlite3_version"] == sqlite3.sqlite_version
    major, minor, patch = (int(p) for p in sqlite3.sqlite_version.split("."))
    assert info["version_number"] == major * 1_000_000 + minor * 1_000 + patch
    assert info["minimum_version"] == "3.35.0"

    db = new_db("sqlite")
    with warnings.catch_warnings():
        warnings.simplefilter("error", chakra.SqliteCopyWarning)
        chakra.configure(db.url)
        try:
            await chakra.execute("CREATE TABLE t (x INTEGER)")
            con = sqlite3.connect(db.url.removeprefix("sqlite://"))
            con.close()
            assert await chakra.fetch("SELECT count(*) FROM t") == [(0,)]
        finally:
            chakra.close(db.url)


def test_another_copy_beside_chakra_is_detected_and_warned_once(tmp_path: Path) -> None:
    """A real second SQLite in the process: a copy of the library file, loaded as such,
    stands for ``_sqlite3``'s own copy (as a python-build-standalone Python carries one).
    Chakra tells it apart from its own and warns once, with the named warning class."""
    (system,) = sqlite_files_mapped()
    copy = tmp_path / "libsqlite3-other.so.0"
    shutil.copyfile(system, copy)
    script = textwrap.dedent(
        """
        import ctypes, json, sys, types, warnings
        import chakra  # first: its libsqlite3.so.0 is the system's
        # A second copy of SQLite in this process (by path: the file is another one; had it
        # been loaded first, its soname would have served Chakra's dependency too).
        other = ctypes.CDLL(sys.argv[1])
        stand_in = types.ModuleType("_sqlite3")
        stand_in.__file__ = sys.argv[1]
        stand_in.sqlite_version = "other"
        sys.modules["_sqlite3"] = stand_in
        raised = []
        with warnings.catch_warnings():
            warnings.simplefilter("error", chakra.SqliteCopyWarning)
            for name in ("e1.db", "e2.db"):
                try:
                    chakra.fetch_sync("SELECT 1", url="sqlite://" + sys.argv[2] + "/" + name)
                    raised.append(False)
                except chakra.SqliteCopyWarning:
                    raised.append(True)
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            for name in ("a.db", "b.db"):
                url = "sqlite://" + sys.argv[2] + "/" + name
                chakra.fetch_sync("SELECT 1", url=url)
                chakra.close(url)
        out = {
            "raised": raised,
            "warnings": [[w.category.__name__, str(w.message)] for w in seen],
            "is_runtime_warning": issubclass(chakra.SqliteCopyWarning, RuntimeWarning),
            "info": chakra.sqlite_info(),
        }
        print(json.dumps(out))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(copy), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["is_runtime_warning"]
    # Made an error by the warnings filter, it is raised at every open; as a warning, once.
    assert out["raised"] == [True, True]
    assert [w[0] for w in out["warnings"]] == ["SqliteCopyWarning"], out["warnings"]
    message = out["warnings"][0][1]
    assert os.path.realpath(copy) in message and system in message, message
    assert "Do not open Chakra's database files with sqlite3 in this process" in message
    info = out["info"]
    assert info["shared_with_sqlite3"] is False, info
    assert info["sqlite3_library"] == os.path.realpath(copy), info
    assert info["library"] == system, info


def test_a_sqlite3_module_with_its_own_copy_is_warned_about(tmp_path: Path) -> None:
    """CPython's own ``_sqlite3`` built against a second SQLite, as python-build-standalone
    ships one: the module file and the library copied, the library's name in both rewritten
    (same length, so the ELF files stay valid: ``libsqlite3.so.0`` → ``libsqlitex.so.0``).
    Python's ``sqlite3`` then works on its own copy beside Chakra's; Chakra says so."""
    module = importlib.import_module("_sqlite3")
    assert module.__file__, "this test needs CPython's _sqlite3 as a shared module"
    (system,) = sqlite_files_mapped()
    old, new = b"libsqlite3.so.0", b"libsqlitex.so.0"
    lib_dir, mod_dir = tmp_path / "lib", tmp_path / "mod"
    lib_dir.mkdir()
    mod_dir.mkdir()
    module_file = Path(module.__file__)
    for source, target in [
        (Path(system), lib_dir / new.decode()),
        (module_file, mod_dir / module_file.name),
    ]:
        data = source.read_bytes()
        assert data.count(old) == 1, f"{source} names {old!r} {data.count(old)} times"
        target.write_bytes(data.replace(old, new))
    script = textwrap.dedent(
        """
        import json, os, sqlite3, sys, warnings
        import _sqlite3
        import chakra
        assert _sqlite3.__file__.startswith(sys.argv[1]), _sqlite3.__file__
        con = sqlite3.connect(":memory:")
        assert con.execute("SELECT 40 + 2").fetchone() == (42,)
        con.close()
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            url = "sqlite://" + sys.argv[2] + "/app.db"
            chakra.fetch_sync("SELECT 1", url=url)
            chakra.close(url)
        print(json.dumps({
            "warnings": [w.category.__name__ for w in seen],
            "info": chakra.sqlite_info(),
        }))
        """
    )
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = str(lib_dir)
    env["PYTHONPATH"] = os.pathsep.join([str(mod_dir), env.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, "-c", script, str(mod_dir), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["warnings"] == ["SqliteCopyWarning"], out
    info = out["info"]
    assert info["shared_with_sqlite3"] is False, info
    assert info["sqlite3_library"] == os.path.realpath(lib_dir / new.decode()), info
    assert info["library"] == system, info
