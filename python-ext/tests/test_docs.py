"""The documentation's Python code blocks (docs/*.md, the mkdocs site's pages) run: every
page's blocks, in order, on SQLite, PostgreSQL and MySQL/MariaDB (there without the blocks
marked ``<!-- docs-check: not on mysql: why -->``), each page in a process of its own on a
fresh database holding the docs' models and sample rows (``docs_page.py``,
``docs_models.py``). The Rust blocks run the same way in ``docs-check/``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from docs_page import blocks

DOCS = Path(__file__).resolve().parents[2] / "docs"
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
