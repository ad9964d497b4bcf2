"""The documentation's Python code blocks (docs/*.md, the mkdocs site's pages) are valid
Python: each compiles (top-level ``await`` allowed), so a renamed keyword or a broken
example fails here. (Running them against a database is the docs issue's next step.)"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
BLOCK = re.compile(r"^( *)```python\n(.*?)^\1```", re.S | re.M)


def blocks() -> list[tuple[str, str]]:
    out = []
    for page in sorted(DOCS.glob("*.md")):
        for i, m in enumerate(BLOCK.finditer(page.read_text())):
            indent = len(m.group(1))
            src = "\n".join(line[indent:] for line in m.group(2).splitlines())
            out.append((f"{page.name}#{i}", src))
    return out


BLOCKS = blocks()


def test_the_docs_have_python_examples() -> None:
    assert len(BLOCKS) >= 10


@pytest.mark.parametrize(("where", "src"), BLOCKS, ids=[w for w, _ in BLOCKS])
def test_python_blocks_compile(where: str, src: str) -> None:
    compile(src, where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


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
