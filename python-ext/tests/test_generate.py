"""``chakra generate models --lang python`` from Python (``python -m chakra generate …``): the
models generated from the repository's shared migrations and from the hard-case fixture
(``chakra/tests/fixtures/generate_hard``: a self-reference, two keys to one table, a join
table, a keyword column, a decimal, an enum, a composite unique index, a partial index, a
check) and from an inspected database (``inspected_shop``: a composite key whose first column
is a foreign key, declared ``ForeignKey(..., primary_key=True)``) pass ``mypy --strict`` and
``migrate make --check`` against the same migrations (no
difference, as hand-written models would); hand-written code in keep regions survives
regeneration; ``--check`` names a stale file; rows written through the generated models on
SQLite and PostgreSQL read back equal to what was written, checked with hand-written SQL.

Everything that imports the generated modules runs in a subprocess: their classes (``User``,
``Post``…) would replace the test models of the same names in this process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import Db

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT / "migrations"
HARD = ROOT / "chakra" / "tests" / "fixtures" / "generate_hard"
# What ``migrate inspect`` wrote for a hand-written PostgreSQL schema: a composite key whose
# first column is a foreign key (``order_lines``), a reserved-word table, an enum, an array.
INSPECTED = ROOT / "chakra" / "tests" / "fixtures" / "inspected_shop"


def chakra(
    *args: str | Path, cwd: Path, code: int = 0, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m chakra <args>`` in ``cwd`` (no colours); checks the exit status."""
    r = subprocess.run(
        [sys.executable, "-m", "chakra", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(cwd), **(env or {})},
        check=False,
    )
    assert r.returncode == code, f"exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r


def generate(tmp: Path, module: str, migrations: Path) -> Path:
    out = tmp / f"{module}.py"
    chakra(
        "generate", "models", "--lang", "python", "--out", out, "--migrations", migrations, cwd=tmp
    )
    return out


@pytest.mark.parametrize(
    ("module", "migrations"),
    [("shared_models", SHARED), ("hard_models", HARD), ("inspected_models", INSPECTED)],
)
def test_generated_models_pass_mypy_strict_and_make_check(
    tmp_path: Path, module: str, migrations: Path
) -> None:
    out = generate(tmp_path, module, migrations)
    mypy = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(out)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert mypy.returncode == 0, mypy.stdout + mypy.stderr
    made = chakra(
        "migrate", "make", "--models", module, "--dir", migrations, "--check", cwd=tmp_path
    )
    assert "agree" in made.stdout, made.stdout


def test_regenerating_changes_no_byte_and_keeps_hand_written_code(tmp_path: Path) -> None:
    out = generate(tmp_path, "shared_models", SHARED)
    first = out.read_bytes()
    again = chakra(
        "generate", "models", "--lang", "python", "--out", out, "--migrations", SHARED, cwd=tmp_path
    )
    assert "unchanged" in again.stdout
    assert out.read_bytes() == first
    text = first.decode()
    region = "    # chakra: keep User\n    # chakra: end keep\n"
    assert region in text
    mine = (
        "    # chakra: keep User\n"
        "    def shout(self) -> str:\n"
        "        return self.username.upper()\n"
        "    # chakra: end keep\n"
    )
    edited = text.replace(region, mine) + "\n\ndef helper() -> int:\n    return 42\n"
    # Generated text edited outside a region: stale, and regenerating puts it back.
    out.write_text(edited.replace('__tablename__ = "users"', '__tablename__ = "members"'))
    stale = chakra(
        "generate",
        "models",
        "--lang",
        "python",
        "--out",
        out,
        "--migrations",
        SHARED,
        "--check",
        cwd=tmp_path,
        code=1,
    )
    assert str(out) in stale.stdout and "stale" in stale.stdout
    chakra(
        "generate", "models", "--lang", "python", "--out", out, "--migrations", SHARED, cwd=tmp_path
    )
    assert out.read_text() == edited
    chakra(
        "generate",
        "models",
        "--lang",
        "python",
        "--out",
        out,
        "--migrations",
        SHARED,
        "--check",
        cwd=tmp_path,
    )
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "import shared_models as m; u = m.User(username='ann'); print(u.shout(), m.helper())",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["ANN", "42"]


ROUND_TRIP = textwrap.dedent(
    """
    import asyncio, decimal, sys
    import chakra
    import hard_models as m

    async def main(url: str) -> None:
        chakra.configure(url)
        ann = await m.Person.objects.create(name="Ann")
        bob = await m.Person.objects.create(
            name="Bob", type_="guest", nickname="b", parent_id=ann.id,
            balance=decimal.Decimal("12.50"), status=m.PersonStatus.OnHold,
        )
        await m.Message.objects.create(sender_id=ann.id, recipient_id=bob.id, body="hi")
        # Read back with hand-written SQL, by the columns the migrations name.
        rows = await chakra.fetch(
            "SELECT name, type, nickname, parent_id, status FROM people ORDER BY id"
        )
        print(repr([tuple(r) for r in rows]))
        msgs = await chakra.fetch("SELECT sender_id, recipient_id, body FROM messages")
        print(repr([tuple(r) for r in msgs] == [(ann.id, bob.id, "hi")]))
        back = await m.Person.objects.get(id=bob.id)
        print(repr((back.type_, str(back.balance), back.status is m.PersonStatus.OnHold)))
        chakra.close(url)

    asyncio.run(main(sys.argv[1]))
    """
)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_rows_written_through_generated_models_read_back(
    tmp_path: Path, backend: str, new_db: object
) -> None:
    db: Db = new_db(backend)  # type: ignore[operator]
    chakra("migrate", "apply", "--dir", HARD, "--database-url", db.url, cwd=tmp_path)
    generate(tmp_path, "hard_models", HARD)
    (tmp_path / "round_trip.py").write_text(ROUND_TRIP)
    r = subprocess.run(
        [sys.executable, "round_trip.py", db.url],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == repr(
        [("Ann", "member", None, None, "active"), ("Bob", "guest", "b", 1, "on hold")]
    ), lines
    assert lines[1] == "True", lines
    assert lines[2] == repr(("guest", "12.50", True)), lines


def test_the_extension_function_gives_what_the_command_writes(tmp_path: Path) -> None:
    from chakra import _chakra

    out = generate(tmp_path, "shared_models", SHARED)
    text, notes = _chakra.generate_models(SHARED, "python")
    assert text == out.read_text()
    assert notes == []
    rust, _ = _chakra.generate_models(str(SHARED), "rust", schema="")
    assert "pub struct User {" in rust and "schema =" not in rust
    kept, _ = _chakra.generate_models(
        SHARED,
        "python",
        existing=text.replace("# chakra: keep below\n", "# chakra: keep below\nX = 1\n"),
    )
    assert kept.endswith("# chakra: keep below\nX = 1\n")
    with pytest.raises(ValueError, match="java"):
        _chakra.generate_models(SHARED, "java")
    with pytest.raises(Exception, match='"nope"'):
        _chakra.generate_models(SHARED, "python", app="nope")


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_check_schema_names_a_stale_model_layer(
    tmp_path: Path, backend: str, new_db: object
) -> None:
    import ast

    import chakra as package

    db: Db = new_db(backend)  # type: ignore[operator]
    out = generate(tmp_path, "shared_models_check", SHARED)
    # Only the generated list is read (importing the module would register its classes in
    # this process).
    text = out.read_text()
    start = text.index("SCHEMA_MIGRATIONS: list[tuple[str, str, str]] = ")
    listed = text[start:].split(" = ", 1)[1]
    migrations: list[tuple[str, str, str]] = ast.literal_eval(listed[: listed.index("]") + 1])
    assert [m[:2] for m in migrations][:2] == [("users", "0001_initial"), ("posts", "0001_initial")]
    assert len(migrations) == 6
    try:
        # Nothing applied: every migration is named as not applied.
        missing = package.check_schema(migrations, url=db.url)
        assert len(missing) == 6 and all("not applied" in m for m in missing), missing
        chakra("migrate", "apply", "--dir", SHARED, "--database-url", db.url, cwd=tmp_path)
        assert package.check_schema(migrations, url=db.url) == []
        # Models generated before users/0002 was written: stale, named.
        older = [m for m in migrations if m[1] != "0002_account_fields"]
        stale = package.check_schema(older, url=db.url)
        assert len(stale) == 1 and "users/0002_account_fields" in stale[0], stale
        assert "not generated from" in stale[0]
    finally:
        package.close(db.url)


AT_CONNECT = textwrap.dedent(
    """
    import asyncio, sys
    import chakra
    from chakra import errors
    import hard_models as m

    async def main(url: str) -> None:
        chakra.configure(url)
        try:
            await m.Person.objects.count()
            print("connected")
        except errors.StaleModels as e:
            print("stale:", e)
        except errors.ChakraError as e:
            print("connected, then:", type(e).__name__)
        chakra.close(url)

    asyncio.run(main(sys.argv[1]))
    """
)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_stale_generated_module_fails_the_connect_by_name(
    tmp_path: Path, backend: str, new_db: object
) -> None:
    """The generated module registers itself when imported; the pool its first query
    connects compares it with the database's applied history: nothing applied fails by
    name, ``schema_check=warn``/``off`` connect, applied migrations connect."""
    db: Db = new_db(backend)  # type: ignore[operator]
    generate(tmp_path, "hard_models", HARD)
    (tmp_path / "at_connect.py").write_text(AT_CONNECT)

    def run(url: str) -> str:
        r = subprocess.run(
            [sys.executable, "at_connect.py", url],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert r.returncode == 0, r.stdout + r.stderr
        return r.stdout.strip()

    def with_param(url: str, param: str) -> str:
        return f"{url}{'&' if '?' in url else '?'}{param}"

    out = run(db.url)
    assert out.startswith("stale:"), out
    assert "hard_models (" in out and "Person" in out, out
    assert "which the database has not applied" in out, out
    # The table does not exist either: warn and off connect, and the query then fails.
    assert run(with_param(db.url, "schema_check=off")).startswith("connected, then:")
    assert run(with_param(db.url, "schema_check=warn")).startswith("connected, then:")
    chakra("migrate", "apply", "--dir", HARD, "--database-url", db.url, cwd=tmp_path)
    assert run(db.url) == "connected"


MIGRATE_THEN_CONNECT = textwrap.dedent(
    """
    import asyncio, sys
    import chakra
    from chakra import errors, migrate
    import hard_models as m

    async def count() -> str:
        try:
            return f"connected: {await m.Person.objects.count()}"
        except errors.StaleModels as e:
            return f"stale: {e}"

    async def main(url: str, migrations: str) -> None:
        # The program's own settings, the check asked for explicitly.
        chakra.configure(url)
        print(await count())
        chakra.close(url)
        # The migration step: no URL given, no opt-out: the configured database.
        print("apply:", migrate.run("apply", dir=migrations))
        print(await count())
        chakra.close(url)

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_migrating_is_never_stopped_by_the_check(
    tmp_path: Path, backend: str, new_db: object
) -> None:
    """A program with generated models whose migration is not applied yet: its first query
    fails with ``StaleModels``; ``chakra.migrate.run("apply")`` from the same program, with
    the URL ``chakra.configure`` set (``schema_check=error`` in it), applies it; the next
    query connects. Also ``python -m chakra migrate apply`` with that URL."""
    db: Db = new_db(backend)  # type: ignore[operator]
    generate(tmp_path, "hard_models", HARD)
    (tmp_path / "migrate_then_connect.py").write_text(MIGRATE_THEN_CONNECT)
    url = f"{db.url}{'&' if '?' in db.url else '?'}schema_check=error"
    r = subprocess.run(
        [sys.executable, "migrate_then_connect.py", url, str(HARD)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_COLOR": "1", "CHAKRA_DATABASE_URL": "sqlite://elsewhere.db"},
        check=False,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.strip().splitlines()
    assert lines[0].startswith("stale:") and "not applied" in lines[0], r.stdout
    assert lines[0].count("chakra generate models") == 1, lines[0]
    assert lines[-2:] == ["apply: 0", "connected: 0"], r.stdout + r.stderr
    assert "applied net/0001_initial" in lines, r.stdout
    # Not the environment's database: that file was never created.
    assert not (tmp_path / "elsewhere.db").exists()
    # The command line with the same URL (the check asked for in it) on a new database.
    other: Db = new_db(backend)  # type: ignore[operator]
    other_url = f"{other.url}{'&' if '?' in other.url else '?'}schema_check=error"
    chakra("migrate", "apply", "--dir", HARD, "--database-url", other_url, cwd=tmp_path)
