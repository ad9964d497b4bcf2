"""Chakra leaves the shared SQLite library's threading mode alone. The extension links the
system's ``libsqlite3``, the copy CPython's ``sqlite3`` module uses; SQLite's threading mode
is process-wide, and a Python ``sqlite3`` connection made with ``check_same_thread=False``
relies on serialized mode (a mutex per connection) when several threads use it. Chakra's
first pool, made before anything else initialized the library, must not switch the process
to multi-thread mode (which it did: every connection opened afterwards had no mutex)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = r"""
import ctypes, sys
import chakra

# Nothing has initialized SQLite yet: Chakra's pool is the first user.
assert "_sqlite3" not in sys.modules
chakra.configure("sqlite://" + sys.argv[1])
chakra.execute_sync("CREATE TABLE t (x INTEGER)")
chakra.execute_sync("INSERT INTO t (x) VALUES (1)")
assert "_sqlite3" not in sys.modules

# A connection opened now with SQLite's default flags (as Python's sqlite3 opens its own),
# on the same copy of the library.
path = chakra.sqlite_info()["library"]
assert path, "the library's file could not be told"
lib = ctypes.CDLL(path)
lib.sqlite3_open_v2.argtypes = [
    ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p), ctypes.c_int, ctypes.c_char_p
]
lib.sqlite3_db_mutex.argtypes = [ctypes.c_void_p]
lib.sqlite3_db_mutex.restype = ctypes.c_void_p
lib.sqlite3_close.argtypes = [ctypes.c_void_p]
db = ctypes.c_void_p()
SQLITE_OPEN_READWRITE, SQLITE_OPEN_CREATE = 0x2, 0x4
flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
rc = lib.sqlite3_open_v2(b":memory:", ctypes.byref(db), flags, None)
assert rc == 0, rc
print("mutex" if lib.sqlite3_db_mutex(db) else "no mutex")
lib.sqlite3_close(db)

# Chakra's own connection still works, and Python's sqlite3 reads what it wrote.
import sqlite3
con = sqlite3.connect(sys.argv[1], check_same_thread=False)
print(con.execute("SELECT x FROM t").fetchall())
"""


def test_chakra_first_leaves_connections_their_mutex(tmp_path: Path) -> None:
    db = tmp_path / "mode.db"
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(db)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["mutex", "[(1,)]"], out.stdout
