"""Fork safety (issue 19, item 6): children forked while other threads are querying never
inherit a SQLite connection or SQLite's lock state (7-10 of 30 used to hang forever in
``unixShmMap``). Runs in a child process so a hang fails the test by timeout, never the run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = r"""
import os, sys, threading, time, warnings
warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads: what is tested
sys.path.insert(0, {tests!r})
import chakra
from models import ALL, User

chakra.configure({url!r})
chakra.create_tables_sync(*ALL, if_not_exists=True)
User.objects.create_sync(username="seed", email="e")
stop = threading.Event()

def busy(i):
    n = 0
    while not stop.is_set():
        User.objects.filter(id__gte=0).count_sync()
        if n % 5 == 0:
            User.objects.create_sync(username=f"t{{i}}-{{n}}", email="e")
        n += 1

threads = [threading.Thread(target=busy, args=(i,), daemon=True) for i in range(4)]
for t in threads:
    t.start()
time.sleep(0.2)
children = []
for k in range({forks}):
    pid = os.fork()
    if pid == 0:
        n = User.objects.filter(username="seed").count_sync()
        User.objects.create_sync(username=f"child{{k}}", email="e")
        os._exit(0 if n == 1 else 3)
    children.append(pid)
    time.sleep(0.01)
hung, failed = 0, 0
deadline = time.monotonic() + 30
for pid in children:
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            failed += os.waitstatus_to_exitcode(status) != 0
            break
        if time.monotonic() > deadline:
            hung += 1
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            break
        time.sleep(0.01)
stop.set()
for t in threads:
    t.join()
kids = User.objects.filter(username__startswith="child").count_sync()
print(hung, failed, kids)
"""


def run(new_db: object, tmp_path: Path, backend: str, forks: int) -> None:
    d = new_db(backend)  # type: ignore[operator]
    path = tmp_path / f"fork_{backend}.py"
    path.write_text(SCRIPT.format(tests=str(Path(__file__).parent), url=d.url, forks=forks))
    p = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-3000:]
    assert p.stdout.split() == ["0", "0", str(forks)], (p.stdout, p.stderr[-3000:])
    assert "panicked" not in p.stderr, p.stderr[-3000:]


def test_children_forked_while_threads_query_sqlite_never_hang(
    new_db: object, tmp_path: Path
) -> None:
    run(new_db, tmp_path, "sqlite", 30)


def test_children_forked_while_threads_query_postgres(new_db: object, tmp_path: Path) -> None:
    run(new_db, tmp_path, "postgres", 10)


EXIT_SCRIPT = r"""
import sys, threading, time
sys.path.insert(0, {tests!r})
import chakra
from models import ALL, User

chakra.configure({url!r})
chakra.create_tables_sync(*ALL, if_not_exists=True)
s = chakra.SyncSession()
s.begin_sync().__enter__()          # holds SQLite's write lock until exit
User.objects  # noqa
with chakra.outside_transaction():
    for i in range(3):
        threading.Thread(
            target=lambda i=i: User.objects.create_sync(username=f"d{{i}}", email="e"),
            daemon=True,
        ).start()
time.sleep(0.3)                     # the daemon threads wait for the lock
print("exiting")
"""


def test_exit_while_daemon_threads_wait_for_a_sqlite_lock_is_clean(
    new_db: object, tmp_path: Path
) -> None:
    d = new_db("sqlite")  # type: ignore[operator]
    path = tmp_path / "exit_waiting.py"
    path.write_text(EXIT_SCRIPT.format(tests=str(Path(__file__).parent), url=d.url))
    p = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and p.stdout.strip() == "exiting", (p.stdout, p.stderr[-3000:])
    assert "panicked" not in p.stderr and "Tokio" not in p.stderr, p.stderr[-3000:]
