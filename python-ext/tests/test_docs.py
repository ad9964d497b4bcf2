"""The documentation's Python code blocks (docs/*.md, the mkdocs site's pages) run: every
page's blocks, in order, on SQLite, PostgreSQL and MySQL/MariaDB (there without the blocks
marked ``<!-- docs-check: not on mysql: why -->``), each page in a process of its own on a
fresh database holding the docs' models and sample rows (``docs_page.py``,
``docs_models.py``). The Rust blocks run the same way in ``docs-check/``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import chakra
import pytest
from conftest import MYSQL_ADMIN, PG_ADMIN
from docs_page import backend_of, blocks

# `CHAKRA_DOCS_DIR` puts other pages in their place: the failing page of
# `test_a_failing_page_leaves_no_database`.
DOCS = Path(os.environ.get("CHAKRA_DOCS_DIR") or Path(__file__).resolve().parents[2] / "docs")
PAGES = [p.name for p in sorted(DOCS.glob("*.md")) if blocks(p.read_text())]


def test_the_docs_have_python_examples() -> None:
    assert sum(len(blocks((DOCS / p).read_text())) for p in PAGES) >= 10


@pytest.mark.parametrize("backend", ["sqlite", "postgres", "mysql"])
@pytest.mark.parametrize("page", PAGES)
def test_python_blocks_run(page: str, backend: str, new_db: object) -> None:
    db = new_db(backend)  # type: ignore[operator]
    runner = Path(__file__).with_name("docs_page.py")
    done = subprocess.run(
        [sys.executable, str(runner), str(DOCS / page), db.url],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=DOCS.parent,
    )
    assert done.returncode == 0, (
        f"docs/{page} on {backend}: a Python example failed\n{done.stdout}\n{done.stderr}"
    )


# A page whose example records its database's URL, then fails.
FAILING_PAGE = """# Failing

```python
import os

with open(os.environ["CHAKRA_DOCS_SEEN"], "a") as seen:
    seen.write(database_url + "\\n")
raise RuntimeError("an example failed on purpose")
```
"""


def database_exists(url: str) -> bool:
    """Whether the database of ``url`` (PostgreSQL or MySQL/MariaDB) exists, asked of the
    server's catalog with hand-written SQL."""
    name = url.split("?", 1)[0].rsplit("/", 1)[1]
    if backend_of(url) == "postgres":
        rows = chakra.fetch_sync(
            "SELECT count(*) FROM pg_database WHERE datname = %s", [name], url=PG_ADMIN
        )
    else:
        rows = chakra.fetch_sync(
            "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s",
            [name],
            url=MYSQL_ADMIN,
        )
    return bool(rows[0][0] == 1)


def test_a_failing_page_leaves_no_database(tmp_path: Path) -> None:
    """A page that fails is reported, and its database is dropped all the same: the page's
    test runs in a pytest of its own on a page that fails on purpose, and the databases it
    ran on (seen by the page itself) are gone afterwards."""
    if os.environ.get("CHAKRA_DOCS_DIR"):
        pytest.skip("the inner run")
    (tmp_path / "failing.md").write_text(FAILING_PAGE)
    seen = tmp_path / "seen"
    env = dict(os.environ, CHAKRA_DOCS_DIR=str(tmp_path), CHAKRA_DOCS_SEEN=str(seen))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"{__file__}::test_python_blocks_run",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).parent,
        env=env,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "3 failed" in done.stdout, done.stdout
    assert "an example failed on purpose" in done.stdout, done.stdout
    urls = seen.read_text().split()
    servers = [u for u in urls if backend_of(u) in ("postgres", "mysql")]
    assert sorted(backend_of(u) for u in servers) == ["mysql", "postgres"], urls
    left = [u for u in servers if database_exists(u)]
    assert not left, f"left behind: {left}"


def test_the_errors_page_names_every_error_class() -> None:
    import inspect

    from chakra import errors

    page = (DOCS / "errors.md").read_text()
    classes = [
        name
        for name, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.ChakraError) and cls.__module__ == errors.__name__
    ]
    assert len(classes) > 30
    missing = [c for c in classes if f"`{c}`" not in page]
    assert not missing, f"docs/errors.md does not describe {missing}"


def test_the_public_python_api_is_documented() -> None:
    """Every public class and function of the package, and every public method and property
    of its classes, has a docstring (its own or the one it overrides)."""
    import inspect

    import chakra
    from chakra import errors, migrate

    missing = []
    for module in (chakra, errors, migrate):
        for name in getattr(module, "__all__", None) or [
            n for n, _ in inspect.getmembers(module) if not n.startswith("_")
        ]:
            obj = getattr(module, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            if getattr(obj, "__module__", "").split(".")[0] != "chakra":
                continue
            if not inspect.getdoc(obj):
                missing.append(f"{module.__name__}.{name}")
            if inspect.isclass(obj):
                for attr, value in vars(obj).items():
                    if attr.startswith("_") or not (
                        inspect.isfunction(value)
                        or isinstance(value, (classmethod, staticmethod, property))
                    ):
                        continue
                    if not inspect.getdoc(getattr(obj, attr, None)) and not inspect.getdoc(value):
                        missing.append(f"{module.__name__}.{name}.{attr}")
    assert not missing, f"no docstring: {missing}"
