"""``chakra migrate`` from Python, and migrations shared with Rust, on SQLite and PostgreSQL.

The Python side is the ``chakra`` console script (``chakra.migrate``) with the example app's
models (``examples/blog_models.py``, ``examples/blog_app.py``); the Rust side is the
``chakra`` binary and ``chakra/examples/blog_app.rs`` (the same app's models, embedding
``chakra::cli::run()``), built once per session. Everything that imports the example app's
models runs in a subprocess: its classes (``User``, ``Post``, …) would replace the test
models of the same names in this process.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import chakra
import pytest
from chakra import BigInteger, Field, Model, String, migrate
from conftest import BACKENDS, Db

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "python-ext" / "examples"
MIGRATIONS = ROOT / "migrations"
CONSOLE = Path(sys.executable).parent / "chakra"
APPS = ["comments", "posts", "profiles", "tags", "users"]

NewDb = Callable[[str], Db]


@dataclass
class Rust:
    """The Rust binaries: ``chakra`` and the example app."""

    chakra: Path
    blog_app: Path


def _edited(*pairs: str) -> str:
    """The example app's models with each ``old`` text replaced by its ``new`` one (pairs);
    a text that is not there fails the test instead of leaving the models unchanged."""
    text = (EXAMPLES / "blog_models.py").read_text()
    for old, new in zip(pairs[::2], pairs[1::2], strict=True):
        assert old in text, f"blog_models.py no longer contains {old!r}"
        text = text.replace(old, new)
    return text


@pytest.fixture(scope="session")
def rust() -> Rust:
    """Builds the ``chakra`` binary and the ``blog_app`` example (a no-op when built)."""
    build = subprocess.run(
        ["cargo", "build", "-q", "-p", "chakra", "--bin", "chakra", "--example", "blog_app"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    assert build.returncode == 0, f"cargo build failed:\n{build.stderr}"
    meta = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    target = Path(json.loads(meta.stdout)["target_directory"]) / "debug"
    return Rust(chakra=target / "chakra", blog_app=target / "examples" / "blog_app")


def sh(
    *cmd: str | Path,
    code: int = 0,
    cwd: Path = EXAMPLES,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Runs ``cmd`` (no colours, stdin closed) and checks its exit status."""
    full_env = {k: v for k, v in os.environ.items() if k != "CHAKRA_DATABASE_URL"}
    full_env.update({"NO_COLOR": "1", **(env or {})})
    done = subprocess.run(
        [str(c) for c in cmd],
        cwd=cwd,
        env=full_env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == code, (
        f"{' '.join(map(str, cmd))} exited {done.returncode}, expected {code}\n"
        f"--- stdout\n{done.stdout}--- stderr\n{done.stderr}"
    )
    return done


def cli(*args: str | Path, **kw: Any) -> subprocess.CompletedProcess[str]:
    """The ``chakra`` console script the package installs."""
    return sh(CONSOLE, *args, **kw)


def py_app(*args: str) -> Any:
    """``examples/blog_app.py``: the Python service of the example app (JSON out)."""
    return json.loads(sh(sys.executable, EXAMPLES / "blog_app.py", *args).stdout)


def tomls(d: Path) -> list[str]:
    return sorted(p.relative_to(d).as_posix() for p in d.rglob("*.toml"))


def test_the_console_script_is_installed() -> None:
    assert CONSOLE.exists(), "pip/maturin installs the `chakra` console script"
    out = cli("migrate", "--help").stdout
    for sub in ("apply", "rollback", "status", "sql", "make", "check", "lint", "schema"):
        assert sub in out
    assert "--models" in cli("migrate", "make", "--help").stdout
    assert cli("--version").stdout.startswith("chakra ")
    # python -m chakra is the same command.
    assert "apply" in sh(sys.executable, "-m", "chakra", "migrate", "--help").stdout


def test_python_and_rust_models_write_byte_identical_migrations(rust: Rust, tmp_path: Path) -> None:
    py, rs = tmp_path / "py", tmp_path / "rs"
    cli("migrate", "make", "--models", "blog_models", "--dir", py)
    sh(rust.blog_app, "migrate", "make", "--dir", rs)
    assert tomls(py) == tomls(rs) == [f"{app}/0001_initial.toml" for app in APPS]
    for name in tomls(py):
        assert (py / name).read_bytes() == (rs / name).read_bytes(), name
    # The join table goes with the model declaring the relation; foreign keys order the
    # dependencies.
    posts = (py / "posts/0001_initial.toml").read_text()
    assert 'dependencies = [["tags", "0001_initial"], ["users", "0001_initial"]]' in posts
    assert 'table = "posts_tags"' in posts
    # The embedded command line with the models (examples/blog_app.py) writes the same.
    again = tmp_path / "again"
    sh(sys.executable, EXAMPLES / "blog_app.py", "migrate", "make", "--dir", again)
    assert all((again / n).read_bytes() == (py / n).read_bytes() for n in tomls(py))


def test_the_example_models_match_the_committed_migrations(rust: Rust) -> None:
    out = cli("migrate", "make", "--models", "blog_models", "--dir", MIGRATIONS, "--check")
    assert "models and migrations agree" in out.stdout
    sh(rust.blog_app, "migrate", "make", "--dir", MIGRATIONS, "--check")


@pytest.mark.parametrize("backend", BACKENDS)
def test_python_make_rust_apply_rust_and_python_read_each_other(
    backend: str, new_db: NewDb, rust: Rust, tmp_path: Path
) -> None:
    db = new_db(backend)
    d = tmp_path / "migrations"
    made = cli("migrate", "make", "--models", "blog_models", "--dir", d).stdout
    assert "wrote" in made and tomls(d) == [f"{app}/0001_initial.toml" for app in APPS]

    applied = sh(rust.chakra, "migrate", "apply", "--dir", d, "--database-url", db.url).stdout
    assert sorted(applied.split("\n")[:-1]) == [f"applied {app}/0001_initial" for app in APPS]
    status = sh(rust.chakra, "migrate", "status", "--dir", d, "--database-url", db.url).stdout
    assert status.count("[x] 0001_initial") == 5 and "[ ]" not in status
    # The migrations Python wrote describe the Python models: nothing left to make.
    cli("migrate", "make", "--models", "blog_models", "--dir", d, "--check")
    cli("migrate", "check", "--models", "blog_models", "--dir", d, "--database-url", db.url)

    # Python writes, Rust reads.
    py_app("write", db.url)
    rust_env = {"CHAKRA_DATABASE_URL": db.url}
    shown = sh(rust.blog_app, "show", env=rust_env).stdout
    assert 'py_ada <py_ada@example.com> profile: Some("written by py")' in shown
    assert '"Hello from py" tags ["py"], 1 comment(s)' in shown

    # Rust writes, Python reads.
    sh(rust.blog_app, "demo", env=rust_env)
    got = py_app("read", db.url)
    rustacean = next(u for u in got["users"] if u["username"] == "rustacean")
    assert rustacean == {
        "id": rustacean["id"],
        "username": "rustacean",
        "email": "rust@example.com",
        "is_active": True,
        "balance": 100,
        "has_created_at": True,
    }
    assert {"user": "rustacean", "bio": "written from Rust"} in got["profiles"]
    assert {
        "title": "Migrations shared by Rust and Python",
        "author": "rustacean",
        "tags": ["orm", "rust"],
    } in got["posts"]
    assert {"title": "Relationships", "author": "rustacean", "tags": []} in got["posts"]
    assert {
        "post": "Migrations shared by Rust and Python",
        "author": "rustacean",
        "body": "first!",
    } in got["comments"]
    assert [u["username"] for u in got["users"]] == ["py_ada", "rustacean"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_rust_make_python_apply_python_writes_and_reads(
    backend: str, new_db: NewDb, rust: Rust, tmp_path: Path
) -> None:
    db = new_db(backend)
    d = tmp_path / "migrations"
    sh(rust.blog_app, "migrate", "make", "--dir", d)
    assert tomls(d) == [f"{app}/0001_initial.toml" for app in APPS]

    applied = cli("migrate", "apply", "--dir", d, "--database-url", db.url).stdout
    assert sorted(applied.split("\n")[:-1]) == [f"applied {app}/0001_initial" for app in APPS]
    assert "nothing to do" in cli("migrate", "apply", "--dir", d, "--database-url", db.url).stdout
    cli("migrate", "make", "--models", "blog_models", "--dir", d, "--check")

    ids = py_app("write", db.url)
    got = py_app("read", db.url)
    assert got["users"] == [
        {
            "id": ids["user"],
            "username": "py_ada",
            "email": "py_ada@example.com",
            "is_active": True,
            "balance": 42,
            "has_created_at": True,
        }
    ]
    assert got["profiles"] == [{"user": "py_ada", "bio": "written by py"}]
    assert got["posts"] == [{"title": "Hello from py", "author": "py_ada", "tags": ["py"]}]
    assert got["comments"] == [{"post": "Hello from py", "author": "py_ada", "body": "first!"}]
    # And Rust reads the same rows.
    shown = sh(rust.blog_app, "show", env={"CHAKRA_DATABASE_URL": db.url}).stdout
    assert '"Hello from py" tags ["py"], 1 comment(s)' in shown

    # Rolled back and applied again from Python.
    back = cli("migrate", "rollback", "--steps", "5", "--dir", d, "--database-url", db.url)
    assert back.stdout.count("rolled back") == 5
    cli("migrate", "apply", "--dir", d, "--database-url", db.url)
    assert py_app("read", db.url)["users"] == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_apply_the_committed_migrations_then_check_catches_a_manual_alter_table(
    backend: str, new_db: NewDb, capfd: pytest.CaptureFixture[str]
) -> None:
    db = new_db(backend)
    # The Python API, in this process (no models: the database against its history).
    assert migrate.run("apply", database_url=db.url, dir=MIGRATIONS, models=[]) == 0
    assert "applied users/0002_account_fields" in capfd.readouterr().out
    assert migrate.run("status", database_url=db.url, dir=MIGRATIONS, models=[]) == 0
    assert "[ ]" not in capfd.readouterr().out

    check = ("migrate", "check", "--models", "blog_models", "--dir", MIGRATIONS)
    ok = cli(*check, "--database-url", db.url)
    assert "the database matches the migrations" in ok.stdout

    chakra.execute_script_sync("ALTER TABLE users ADD COLUMN nickname TEXT", url=db.url)
    chakra.close(db.url)
    drift = cli(*check, "--database-url", db.url, code=1)
    assert (
        "drift: column users.nickname is in the database but not in the migrations" in drift.stdout
    )
    assert migrate.run("check", database_url=db.url, dir=MIGRATIONS, models=[]) == 1
    assert "users.nickname" in capfd.readouterr().out


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_new_python_model_goes_to_its_app_and_applies(
    backend: str, new_db: NewDb, rust: Rust, tmp_path: Path
) -> None:
    db = new_db(backend)
    d = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, d)
    (tmp_path / "blog_more.py").write_text(
        "from blog_models import *  # noqa: F403\n"
        "from chakra import CASCADE, Field, ForeignKey, Model, String\n\n"
        "class Bookmark(Model):\n"
        '    __tablename__ = "bookmarks"\n'
        '    __app__ = "bookmarks"\n'
        '    user = ForeignKey("User", on_delete=CASCADE)\n'
        "    url = Field(String(500))\n"
    )
    env = {"PYTHONPATH": str(EXAMPLES)}
    args = ("migrate", "make", "--models", "blog_more", "--dir", d)
    would = cli(*args, "--check", cwd=tmp_path, env=env, code=1).stdout
    assert "would write" in would and "bookmarks/0001_initial.toml" in would
    cli(*args, cwd=tmp_path, env=env)
    text = (d / "bookmarks/0001_initial.toml").read_text()
    assert 'dependencies = [["users", "0002_account_fields"]]' in text
    sh(rust.chakra, "migrate", "apply", "--dir", d, "--database-url", db.url)
    cli(*args, "--check", cwd=tmp_path, env=env)
    check = ("migrate", "check", "--models", "blog_more", "--dir", d, "--database-url", db.url)
    cli(*check, cwd=tmp_path, env=env)


@pytest.mark.parametrize("backend", BACKENDS)
def test_check_lists_the_migrations_the_models_need(
    backend: str, new_db: NewDb, tmp_path: Path
) -> None:
    db = new_db(backend)
    assert migrate.run("apply", database_url=db.url, dir=MIGRATIONS, models=[]) == 0
    (tmp_path / "more_fields.py").write_text(
        _edited(
            "name: Field[str] = Field(String(50), unique=True)",
            "name: Field[str] = Field(String(50), unique=True)\n"
            '    color: Field[str] = Field(String(20), default="")',
        )
    )
    check = ("migrate", "check", "--dir", MIGRATIONS, "--database-url", db.url)
    needs = cli(*check, "--models", "more_fields", cwd=tmp_path, code=1).stdout
    assert "drift: the models need a migration: AddField tags.color" in needs, needs
    assert "the database matches" not in needs


def test_check_lists_a_new_table_of_a_declared_app(tmp_path: Path) -> None:
    db_url = f"sqlite://{tmp_path / 'c.db'}"
    assert migrate.run("apply", database_url=db_url, dir=MIGRATIONS, models=[]) == 0
    (tmp_path / "blog_more.py").write_text(
        "from blog_models import *  # noqa: F403\n"
        "from chakra import CASCADE, Field, ForeignKey, Model, String\n\n"
        "class Bookmark(Model):\n"
        '    __tablename__ = "bookmarks"\n'
        '    __app__ = "bookmarks"\n'
        '    user = ForeignKey("User", on_delete=CASCADE)\n'
    )
    check = ("migrate", "check", "--dir", MIGRATIONS, "--database-url", db_url)
    needs = cli(
        *check, "--models", "blog_more", cwd=tmp_path, env={"PYTHONPATH": str(EXAMPLES)}, code=1
    )
    assert "drift: the models need a migration: CreateModel bookmarks" in needs.stdout


def test_models_from_chakra_toml_and_comma_separated(tmp_path: Path) -> None:
    env = {"PYTHONPATH": str(EXAMPLES)}
    (tmp_path / "chakra.toml").write_text('[migrations]\nmodels = ["blog_models"]\n')
    cli("migrate", "make", "--dir", MIGRATIONS, "--check", cwd=tmp_path, env=env)
    cli("migrate", "make", "--models=blog_models,blog_app", "--dir", MIGRATIONS, "--check")
    cli(
        "migrate",
        "make",
        "--models",
        "blog_models",
        "--models",
        "blog_app",
        "--check",
        "--dir",
        MIGRATIONS,
    )
    # Only make and check import them.
    (tmp_path / "chakra.toml").write_text('[migrations]\nmodels = ["not_here"]\n')
    cli("migrate", "lint", "--dir", MIGRATIONS, cwd=tmp_path)
    bad = cli("migrate", "check", "--dir", MIGRATIONS, cwd=tmp_path, code=2)
    assert "[migrations] models in chakra.toml: no module named 'not_here'" in bad.stderr
    (tmp_path / "chakra.toml").write_text("[migrations]\nmodels = 3\n")
    bad = cli("migrate", "make", "--dir", MIGRATIONS, cwd=tmp_path, env=env, code=2)
    assert "[migrations] models must be a list of module names" in bad.stderr


def test_bad_usage_exits_2_with_a_clear_message(tmp_path: Path) -> None:
    missing = cli("migrate", "make", "--models", "no_such_models", code=2)
    assert "--models: no module named 'no_such_models'" in missing.stderr
    (tmp_path / "broken_models.py").write_text("raise RuntimeError('boom')\n")
    broken = cli("migrate", "make", "--models", "broken_models", cwd=tmp_path, code=2)
    assert "RuntimeError: boom" in broken.stderr and "importing 'broken_models'" in broken.stderr
    unknown = cli("migrate", "apply", "--no-such-flag", code=2)
    assert "unexpected argument '--no-such-flag'" in unknown.stderr
    assert "--models needs a value" in cli("migrate", "make", "--models", code=2).stderr
    none = cli("migrate", "make", "--dir", tmp_path / "m", cwd=tmp_path, code=2)
    assert "--models myapp.models" in none.stderr
    assert cli("migrate", "frobnicate", code=2).stderr.startswith("error:")
    # The Python API returns the same statuses.
    assert migrate.main(["migrate", "apply", "--no-such-flag"]) == 2
    assert migrate.main(["apply", "--no-such-flag"]) == 2
    assert migrate.run("make", models=["no_such_models"]) == 2


class MigBookmark(Model):
    """A model of this test process, declaring its app."""

    __tablename__ = "mig_bookmarks"
    __app__ = "bookmarks"

    id = Field(BigInteger, primary_key=True)
    url = Field(String(500))


def test_app_declared_in_python_reaches_make(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    assert MigBookmark.__chakra__.app == "bookmarks"
    d = tmp_path / "m"
    assert migrate.run("make", "--check", dir=d, models=[MigBookmark]) == 1
    assert "bookmarks/0001_initial.toml" in capfd.readouterr().out
    assert migrate.run("make", dir=d, models=[MigBookmark]) == 0
    assert tomls(d) == ["bookmarks/0001_initial.toml"]
    assert 'app = "bookmarks"' in (d / "bookmarks/0001_initial.toml").read_text()
    assert migrate.run("make", "--check", dir=d, models=[MigBookmark]) == 0
    with pytest.raises(chakra.errors.ConfigError, match="migrations folder name"):

        class BadApp(Model):
            __app__ = "not-an-app"
            id = Field(BigInteger, primary_key=True)


@pytest.mark.parametrize("backend", BACKENDS)
def test_python_and_rust_appliers_at_once_apply_each_migration_once(
    backend: str, new_db: NewDb, rust: Rust
) -> None:
    db = new_db(backend)
    apply = ("migrate", "apply", "--dir", str(MIGRATIONS), "--database-url", db.url)
    env = {k: v for k, v in os.environ.items() if k != "CHAKRA_DATABASE_URL"}
    procs = [
        subprocess.Popen(
            [str(exe), *apply],
            cwd=EXAMPLES,
            env={**env, "NO_COLOR": "1"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for exe in (CONSOLE, rust.chakra, CONSOLE, rust.chakra)
    ]
    applied: list[str] = []
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, f"{out}\n{err}"
        applied += [line for line in out.splitlines() if line.startswith("applied ")]
    n = len(tomls(MIGRATIONS))
    assert len(applied) == len(set(applied)) == n
    status = cli("migrate", "status", "--dir", MIGRATIONS, "--database-url", db.url).stdout
    assert status.count("[x]") == n


def _masked(text: str) -> str:
    """Output with the applied-at timestamps left out."""
    return re.sub(r"applied \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", "applied <at>", text)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_console_script_and_the_rust_binary_say_the_same(
    backend: str, new_db: NewDb, rust: Rust
) -> None:
    """The same commands, one database each: the same output and exit status."""
    dbs = {"py": new_db(backend), "rs": new_db(backend)}
    m = str(MIGRATIONS)
    commands: list[tuple[int, tuple[str, ...]]] = [
        (0, ("status", "--dir", m, "--database-url", "{url}")),
        (0, ("sql", "--dir", m, "--database-url", "{url}")),
        (0, ("sql", "--dir", m, "--dialect", "sqlite")),
        (0, ("sql", "--dir", m, "--dialect", "postgres")),
        (0, ("lint", "--dir", m)),
        (0, ("schema", "--dir", m, "--out", "-")),
        (0, ("apply", "--to", "users/0002_account_fields", "--dir", m, "--database-url", "{url}")),
        (0, ("status", "--dir", m, "--database-url", "{url}")),
        (0, ("apply", "--dir", m, "--database-url", "{url}")),
        (0, ("check", "--dir", m, "--database-url", "{url}")),
        (0, ("sql", "--rollback", "--steps", "2", "--dir", m, "--database-url", "{url}")),
        (0, ("rollback", "--steps", "2", "--dir", m, "--database-url", "{url}")),
        (0, ("status", "--dir", m, "--database-url", "{url}")),
        (1, ("apply", "--to", "users/9999_nope", "--dir", m, "--database-url", "{url}")),
        (1, ("rollback", "--dir", str(EXAMPLES), "--database-url", "{url}")),
        (2, ("apply", "--steps", "1", "--dir", m)),
        (2, ("sql", "--dialect", "oracle", "--rollback")),
    ]
    for code, args in commands:
        said = {}
        for side, exe in (("py", CONSOLE), ("rs", rust.chakra)):
            argv = [a.replace("{url}", dbs[side].url) for a in args]
            done = sh(exe, "migrate", *argv, code=code)
            url = dbs[side].url
            # A SQLite URL's file is named in messages too ("the database file … does not exist").
            path = url.removeprefix("sqlite://")
            said[side] = (
                _masked(done.stdout).replace(url, "<url>").replace(path, "<url>"),
                _masked(done.stderr).replace(url, "<url>").replace(path, "<url>"),
            )
        assert said["py"] == said["rs"], args


def test_renames_are_said_up_front_or_reported(tmp_path: Path) -> None:
    # A model of the users table whose username is called handle.
    (tmp_path / "renamed_models.py").write_text(
        _edited(
            "username: Field[str] = Field(String(50), unique=True)",
            "handle: Field[str] = Field(String(50), unique=True)",
        )
    )
    d = tmp_path / "m"
    shutil.copytree(MIGRATIONS, d)
    args = ("migrate", "make", "--models", "renamed_models", "--dir", d)
    # Nobody to ask: remove + add, and a note saying so.
    would = cli(*args, "--check", cwd=tmp_path, code=1).stdout
    assert "AddField users.handle" in would and "RemoveField users.username" in would
    d2 = tmp_path / "m2"
    shutil.copytree(MIGRATIONS, d2)
    # handle is NOT NULL without a default: the rows already there need a value.
    refused = cli(*args[:-1], d2, "--no-input", cwd=tmp_path, code=1).stderr
    assert "users.handle is NOT NULL without a database default" in refused
    assert "--default users.handle=VALUE" in refused
    noted = cli(*args[:-1], d2, "--no-input", "--default", "handle=anon", cwd=tmp_path).stderr
    assert "users.username -> users.handle may be a rename" in noted
    added = [p for p in tomls(d2) if p.startswith("users/0003")]
    assert len(added) == 1
    assert 'default = "anon"' in (d2 / added[0]).read_text()
    said = cli(*args, "--rename", "users.username=handle", cwd=tmp_path)
    written = [p for p in tomls(d) if p.startswith("users/0003")]
    assert len(written) == 1, said.stdout
    text = (d / written[0]).read_text()
    assert 'type = "RenameField"' in text and 'new_name = "handle"' in text
    cli(*args, "--check", cwd=tmp_path)


def test_make_asks_about_a_rename_on_a_terminal(tmp_path: Path) -> None:
    """Interactive ``make`` (stdin a terminal): Rust asks, the answer is read from the
    console script's stdin."""
    (tmp_path / "renamed_models.py").write_text(
        _edited(
            "username: Field[str] = Field(String(50), unique=True)",
            "handle: Field[str] = Field(String(50), unique=True)",
        )
    )
    d = tmp_path / "m"
    shutil.copytree(MIGRATIONS, d)
    leader, follower = os.openpty()
    try:
        os.write(leader, b"y\n")
        env = {k: v for k, v in os.environ.items() if k != "CHAKRA_DATABASE_URL"}
        done = subprocess.run(
            [str(CONSOLE), "migrate", "make", "--models", "renamed_models", "--dir", str(d)],
            cwd=tmp_path,
            env={**env, "NO_COLOR": "1"},
            stdin=follower,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    finally:
        os.close(follower)
        os.close(leader)
    assert done.returncode == 0, done.stderr
    assert "Was users.username renamed to users.handle? [y/N]" in done.stderr
    written = [p for p in tomls(d) if p.startswith("users/0003")]
    assert len(written) == 1
    assert 'type = "RenameField"' in (d / written[0]).read_text()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_callable_default_asks_for_the_value_existing_rows_get(
    backend: str, new_db: NewDb, tmp_path: Path
) -> None:
    """``default=datetime.utcnow`` lives in the program: adding such a NOT NULL field to a
    table with rows needs a value for them (``--default``), and the model keeps its callable."""
    db = new_db(backend)
    (tmp_path / "joined_models.py").write_text(
        _edited(
            "from __future__ import annotations",
            "from __future__ import annotations\n\nimport datetime as dt",
            "    balance: Field[int] = Field(BigInteger, default=0)",
            "    balance: Field[int] = Field(BigInteger, default=0)\n"
            "    joined: Field[dt.datetime] = Field(DateTime, default=dt.datetime.utcnow)",
        )
    )
    d = tmp_path / "m"
    shutil.copytree(MIGRATIONS, d)
    cli("migrate", "apply", "--dir", d, "--database-url", db.url)
    py_app("write", db.url)  # rows in users
    args = ("migrate", "make", "--models", "joined_models", "--dir", d, "--no-input")
    refused = cli(*args, cwd=tmp_path, code=1).stderr
    assert "users.joined is NOT NULL without a database default" in refused, refused
    assert "--default users.joined=VALUE" in refused
    assert not [p for p in tomls(d) if p.startswith("users/0003")]
    cli(*args, "--default", "joined=now()", cwd=tmp_path)
    (written,) = [p for p in tomls(d) if p.startswith("users/0003")]
    text = (d / written).read_text()
    assert 'type = "AddField"' in text and 'default = "now()"' in text
    assert 'type = "AlterField"' in text
    cli("migrate", "apply", "--dir", d, "--database-url", db.url)
    cli("migrate", "make", "--models", "joined_models", "--dir", d, "--check", cwd=tmp_path)
    checked = cli(
        "migrate",
        "check",
        "--models",
        "joined_models",
        "--dir",
        d,
        "--database-url",
        db.url,
        cwd=tmp_path,
    ).stdout
    assert "the database matches the migrations" in checked


TICKETS = """\
from chakra import BigInteger, Field, Integer, Model, String
{imports}

class Ticket(Model):
    __tablename__ = "tickets"
    __app__ = "tickets"
    id = Field(BigInteger(), primary_key=True, auto_increment=True)
    owner = Field(String(40))
    status = Field(String(20))
    priority = Field(Integer())
{meta}
"""

TICKETS_META = """
    class Meta:
        indexes = [Index(fields=["owner", "status"], name="tickets_owner_status")]
        constraints = [
            UniqueConstraint(fields=["owner"], name="tickets_one_open", condition=Q(status="open")),
            UniqueConstraint(
                Lower("owner"), name="tickets_owner_ci_open", condition=Q(status="open")
            ),
            CheckConstraint(check=Q(priority__range=[1, 5]), name="tickets_priority_ok"),
        ]
"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_meta_indexes_and_constraints_are_made_applied_and_rolled_back(
    backend: str, new_db: NewDb, tmp_path: Path
) -> None:
    db = new_db(backend)
    d = tmp_path / "migrations"
    env = {"PYTHONPATH": str(tmp_path)}
    make = ("migrate", "make", "--no-input", "--models", "tickets_models", "--dir", d)
    models = tmp_path / "tickets_models.py"
    models.write_text(TICKETS.format(imports="", meta=""))
    cli(*make, cwd=tmp_path, env=env)
    imports = "from chakra import CheckConstraint, Index, Lower, Q, UniqueConstraint"
    models.write_text(TICKETS.format(imports=imports, meta=TICKETS_META))
    cli(*make, cwd=tmp_path, env=env)
    assert tomls(d) == ["tickets/0001_initial.toml", "tickets/0002_auto.toml"]
    # The same file the Rust derive's model writes (chakra/tests/migrate_table_options.rs).
    golden = ROOT / "tests/front_doors/table_options_0002.toml"
    assert (d / "tickets/0002_auto.toml").read_text() == golden.read_text()
    cli(*make, "--check", cwd=tmp_path, env=env)
    url = ("--database-url", db.url)
    cli("migrate", "apply", "--dir", d, *url, cwd=tmp_path)
    check = ("migrate", "check", "--models", "tickets_models", "--dir", d, *url)
    cli(*check, cwd=tmp_path, env=env)
    ins = "INSERT INTO tickets (owner, status, priority) VALUES (%s, %s, %s)"
    for row in [("ann", "open", 1), ("ann", "closed", 2), ("ann", "closed", 5), ("bob", "open", 3)]:
        chakra.execute_sync(ins, row, url=db.url)
    for row in [("ann", "open", 4), ("cid", "open", 9), ("cid", "new", 0), ("ANN", "open", 2)]:
        with pytest.raises(chakra.errors.ChakraError):
            chakra.execute_sync(ins, row, url=db.url)
    # Rolling back the options' migration removes them: the rows they refused now go in.
    cli("migrate", "rollback", "--steps", "1", "--dir", d, *url, cwd=tmp_path)
    chakra.execute_sync(ins, ("ann", "open", 9), url=db.url)
    chakra.execute_sync(ins, ("ANN", "open", 2), url=db.url)
    cli("migrate", "check", "--dir", d, *url, cwd=tmp_path)


def test_index_expressions_are_checked(tmp_path: Path) -> None:
    """An index key is a field or Lower/Upper/Length of one; the core checks its type when
    ``make`` reads the model, naming model, option and field."""
    from chakra import F, Index, Length, Lower, Upper

    assert Index(Upper(Lower(F("owner"))), Length("status"), name="t_x").spec("T")[
        "expressions"
    ] == [
        ("func", "Upper", [("func", "Lower", [("field", "owner")])]),
        ("func", "Length", [("field", "status")]),
    ]
    with pytest.raises(TypeError, match="an index key is a field name"):
        Index(Lower(1), name="t_bad").spec("T")
    with pytest.raises(TypeError, match=r"fields=\[...\] or expressions"):
        Index(name="t_empty").spec("T")
    models = tmp_path / "bad_index_models.py"
    meta = '\n    class Meta:\n        indexes = [Index(Lower("priority"), name="tickets_p")]\n'
    models.write_text(TICKETS.format(imports="from chakra import Index, Lower", meta=meta))
    d = tmp_path / "migrations"
    make = ("migrate", "make", "--no-input", "--models", "bad_index_models", "--dir", d)
    err = cli(*make, code=1, cwd=tmp_path, env={"PYTHONPATH": str(tmp_path)}).stderr
    assert "Ticket" in err and "tickets_p" in err and "Lower" in err, err


PER_DATABASE_MODELS = """
from chakra import BigInteger, Field, Model, String


class PdAccount(Model):
    __tablename__ = "pd_accounts"
    id = Field(BigInteger, primary_key=True)
    name = Field(String(40))


class PdEvent(Model):
    __tablename__ = "pd_events"
    __database__ = "analytics"
    id = Field(BigInteger, primary_key=True)
    kind = Field(String(40))
"""


def test_each_database_makes_and_applies_its_own_models(tmp_path: Path) -> None:
    """``--database NAME``: the database's own folder (``migrations`` in chakra.toml) and
    only the models bound to it (``__database__``); tables read back with ``sqlite3``."""
    (tmp_path / "pd_models.py").write_text(PER_DATABASE_MODELS)
    (tmp_path / "chakra.toml").write_text(
        '[migrations]\nmodels = ["pd_models"]\n\n'
        '[databases.default]\nurl = "sqlite://main.db"\nmigrations = "db/main"\n\n'
        '[databases.analytics]\nurl = "sqlite://analytics.db"\nmigrations = "db/analytics"\n'
    )
    env = {"PYTHONPATH": str(tmp_path)}
    cli("migrate", "make", "--database", "analytics", "--app", "stats", cwd=tmp_path, env=env)
    cli("migrate", "make", "--database", "default", "--app", "shop", cwd=tmp_path, env=env)
    analytics = "".join(p.read_text() for p in (tmp_path / "db/analytics").rglob("*.toml"))
    main = "".join(p.read_text() for p in (tmp_path / "db/main").rglob("*.toml"))
    assert "pd_events" in analytics and "pd_accounts" not in analytics
    assert "pd_accounts" in main and "pd_events" not in main
    for db in ("analytics", "default"):
        cli("migrate", "apply", "--database", db, cwd=tmp_path, env=env)
        cli("migrate", "check", "--database", db, cwd=tmp_path, env=env)

    def tables(name: str) -> list[str]:
        with sqlite3.connect(tmp_path / name) as c:
            rows = c.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'pd_%'"
            ).fetchall()
        return sorted(r[0] for r in rows)

    assert tables("analytics.db") == ["pd_events"]
    assert tables("main.db") == ["pd_accounts"]
    # Without --database every model counts, as with one database: default's folder lacks
    # pd_events.
    out = cli("migrate", "check", "--dir", "db/main", cwd=tmp_path, env=env, code=1).stdout
    assert "pd_events" in out
