"""The typed example app (``examples/typed_library.py``): it runs on SQLite and PostgreSQL
(each answer checked against hand-written SQL and the rows it inserted), and both type
checkers, mypy --strict and pyright --strict, accept it and reject exactly the marked lines
of ``static_types/wrong_types.py`` (misuses, narrower claims, and types widened to ``Any``).

The test command (``scripts/test.sh``) also runs both checkers over the example; here the
rejected lines are pinned too, so a declaration that widens (to ``Any``, or loses its
``None``) fails a test, not only a lint step."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import chakra
import pytest

HERE = Path(__file__).parent
PYEXT = HERE.parent
EXAMPLE = PYEXT / "examples" / "typed_library.py"
WRONG = HERE / "static_types" / "wrong_types.py"


def _marked_lines(path: Path) -> set[int]:
    lines = path.read_text().splitlines()
    return {i for i, line in enumerate(lines, 1) if line.rstrip().endswith("# E")}


def _errors_by_file(output: str, pattern: str) -> dict[str, set[int]]:
    """``{file name: {line, ...}}`` of the errors a checker printed."""
    found: dict[str, set[int]] = {}
    for m in re.finditer(pattern, output, re.MULTILINE):
        found.setdefault(Path(m.group("file")).name, set()).add(int(m.group("line")))
    return found


def _run(args: list[str], env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        args,
        cwd=PYEXT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )
    return proc.stdout + proc.stderr


def test_the_wrong_types_file_marks_its_errors() -> None:
    # Guards the guard: a file with no marked lines would prove nothing.
    assert len(_marked_lines(WRONG)) >= 20


def test_mypy_strict_accepts_the_example_and_rejects_exactly_the_marked_lines() -> None:
    out = _run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            "pyproject.toml",
            "--strict",
            str(EXAMPLE),
            str(WRONG),
        ],
        env={"MYPYPATH": str(EXAMPLE.parent)},
    )
    errors = _errors_by_file(out, r"^(?P<file>[^:\s]+\.py):(?P<line>\d+): error:")
    assert errors.get(EXAMPLE.name, set()) == set(), out
    assert errors.get(WRONG.name, set()) == _marked_lines(WRONG), out
    assert set(errors) <= {WRONG.name}, out


def test_pyright_strict_accepts_the_example_and_rejects_exactly_the_marked_lines() -> None:
    # Strict mode and the example's folder on the search path come from pyproject.toml.
    out = _run(
        [sys.executable, "-m", "pyright", "--pythonpath", sys.executable, str(EXAMPLE), str(WRONG)]
    )
    errors = _errors_by_file(out, r"^\s*(?P<file>/\S+\.py):(?P<line>\d+):\d+ - error:")
    assert errors.get(EXAMPLE.name, set()) == set(), out
    assert errors.get(WRONG.name, set()) == _marked_lines(WRONG), out
    assert set(errors) <= {WRONG.name}, out


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_the_typed_example_app_runs(
    backend: str, new_db: Callable[[str], Any], tmp_path: Path
) -> None:
    db = new_db(backend)
    proc = subprocess.run(
        [sys.executable, str(EXAMPLE)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "CHAKRA_DATABASE_URL": db.url},
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    # The rows the app inserts: three books (ids 1..3), Ursula's two and Terry's one; the
    # update gives "The Lathe of Heaven" 100 pages, the save gives "Mort" 273.
    by_id = ["The Dispossessed", "The Lathe of Heaven", "Mort"]
    assert out["async"] == {
        "titles": ["The Dispossessed", "The Lathe of Heaven"],
        "first": "The Dispossessed",
        "count": 2,
        "values": [
            {"title": "The Dispossessed", "pages": 387},
            {"title": "The Lathe of Heaven", "pages": 100},
            {"title": "Mort", "pages": 273},
        ],
        "pairs": [["The Dispossessed", 387], ["The Lathe of Heaven", 100], ["Mort", 273]],
        "streamed": by_id,
        "page": ["Mort", "The Dispossessed"],
        "by_id": [1, 2, 3],
        "with_author": ["Terry", None],
        "prefetched": [["The Dispossessed", "The Lathe of Heaven"], ["Mort"]],
        "returned": True,
        "tagged": ["Mort"],
    }
    assert out["sync"] == {
        "titles": by_id,
        "values": [{"title": t} for t in by_id],
        "page": by_id,
        "inactive": 1,
    }
    # What the app wrote, read back with hand-written SQL.
    try:
        rows = chakra.fetch_sync(
            "SELECT b.title, b.pages, a.name FROM typed_books b "
            "JOIN typed_authors a ON a.id = b.author_id ORDER BY b.id",
            url=db.url,
        )
        assert [tuple(r) for r in rows] == [
            ("The Dispossessed", 387, "Ursula"),
            ("The Lathe of Heaven", 100, "Ursula"),
            ("Mort", 273, "Terry"),
        ]
        (links,) = chakra.fetch_sync("SELECT COUNT(*) FROM typed_book_tags", url=db.url)
        assert tuple(links) == (1,)
        loans = chakra.fetch_sync(
            "SELECT m.active, l.returned_at IS NOT NULL FROM typed_loans l "
            "JOIN typed_members m ON m.id = l.member_id",
            url=db.url,
        )
        assert [tuple(r) for r in loans] == [(False, True)]
    finally:
        chakra.close(db.url)


def test_a_declared_key_field_changes_nothing_and_a_misnamed_one_is_refused() -> None:
    """``writer_id = writer.key_field()`` only gives the key a static type: the model's
    fields, columns and DDL are those of the same model without the declaration."""
    from chakra import BigInteger, Field, ForeignKey, Model, Text

    class KfWriter(Model):
        __tablename__ = "kf_writers"
        id = Field(BigInteger, primary_key=True)

    class KfPlain(Model):
        __tablename__ = "kf_novels"
        id = Field(BigInteger, primary_key=True)
        writer = ForeignKey(KfWriter, nullable=True)
        title = Field(Text)

    class KfDeclared(Model):
        __tablename__ = "kf_novels"
        id = Field(BigInteger, primary_key=True)
        writer = ForeignKey(KfWriter, nullable=True)
        writer_id = writer.key_field()
        title = Field(Text)

    assert KfDeclared.__chakra__.field_names() == ["id", "writer_id", "title"]
    assert KfPlain.__chakra__.field_names() == ["id", "writer_id", "title"]
    for dialect in ("postgres", "sqlite"):
        assert chakra.create_table_sql(KfDeclared, dialect) == chakra.create_table_sql(
            KfPlain, dialect
        )
    assert KfDeclared.writer_id is KfDeclared._fields["writer_id"]
    novel = KfDeclared(title="Mort")
    assert novel.writer_id is None and novel.writer is None

    with pytest.raises(TypeError, match=r"KfWrong\.author_id .*must be named 'writer_id'"):

        class KfWrong(Model):
            __tablename__ = "kf_wrong"
            writer = ForeignKey(KfWriter)
            author_id = writer.key_field()

    assert "KfWrong" not in chakra.registry
