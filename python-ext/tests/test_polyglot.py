"""The polyglot example end to end (examples/polyglot), on SQLite and PostgreSQL: the shared
migrations applied with ``chakra migrate apply``; the FastAPI service (Python) and the axum
service (Rust) started on loopback; a user created through one and read through the other; a
post added through the Rust service; the Python worker's update seen from both."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import chakra
import pytest
from chakra import migrate

# One xdist worker runs this file's tests (scripts/test.sh runs pytest with `--dist
# loadgroup`): the module fixture builds the Rust service once, and the two services' ports
# are taken by one test at a time.
pytestmark = pytest.mark.xdist_group("polyglot")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "polyglot"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def call(method: str, url: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("content-type", "application/json")
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())  # type: ignore[no-any-return]


def wait_until_up(url: str, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read().decode() if proc.stdout else ""
            raise AssertionError(f"{what} exited with {proc.returncode}:\n{out}")
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return  # it answers (404 for an unknown id is fine)
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{what} did not start")


@pytest.fixture(scope="module")
def rust_service() -> Path:
    """Builds the axum service once."""
    subprocess.run(
        ["cargo", "build", "--quiet", "-p", "polyglot-api"], cwd=ROOT, check=True, timeout=900
    )
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return target / "debug" / "polyglot-api"


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, new_db: Any) -> Iterator[str]:
    d = new_db(request.param)
    yield d.url
    chakra.close(d.url)


def test_python_rust_and_the_worker_share_one_database(database: str, rust_service: Path) -> None:
    code = migrate.run("apply", database_url=database, dir=ROOT / "migrations", models=[])
    assert code == 0
    env = {**os.environ, "CHAKRA_DATABASE_URL": database}
    py_port, rs_port = free_port(), free_port()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        py = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app:app", "--port", str(py_port)],
            cwd=EXAMPLE / "api_py",
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        procs.append(py)
        rs = subprocess.Popen(
            [str(rust_service), database, str(rs_port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        procs.append(rs)
        py_url, rs_url = f"http://127.0.0.1:{py_port}", f"http://127.0.0.1:{rs_port}"
        wait_until_up(f"{py_url}/users/0", py, "the Python service")
        wait_until_up(f"{rs_url}/users/0", rs, "the Rust service")

        made = call("POST", f"{py_url}/users", {"username": "ann ✓"})
        uid = made["id"]
        seen = call("GET", f"{rs_url}/users/{uid}")
        assert (seen["username"], seen["balance"], seen["posts"]) == ("ann ✓", 0, 0)
        assert seen["served_by"] == "rust"
        for title in ("first", "second"):
            call("POST", f"{rs_url}/users/{uid}/posts", {"title": title})
        worker = subprocess.run(
            [sys.executable, "worker.py", "--once"],
            cwd=EXAMPLE / "api_py",
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert worker.returncode == 0, worker.stderr
        assert "1 balances updated" in worker.stdout
        for url in (py_url, rs_url):
            got = call("GET", f"{url}/users/{uid}")
            assert (got["balance"], got["posts"]) == (20, 2), got
        # A post for a missing user is refused by the database's foreign key, named.
        with pytest.raises(urllib.error.HTTPError) as e:
            call("POST", f"{rs_url}/users/999999/posts", {"title": "orphan"})
        assert e.value.code == 422
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
