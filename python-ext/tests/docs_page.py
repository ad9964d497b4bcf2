"""Runs the Python code blocks of one documentation page, in order, in one namespace, on
the database at URL with the docs' models and sample rows (``docs_models.py``):

    python docs_page.py docs/queries.md sqlite:///tmp/x.db

A block's names are there for the blocks after it, as for a reader going down the page.
Blocks start with ``chakra``, ``asyncio``, ``database_url`` (the page's database) and the
models of ``docs_models`` in scope. A failing block ends the run with its traceback, whose
line numbers are the page's. ``test_docs.py`` runs every page this way, each in a process
of its own (a page may declare models, which registers them process-wide)."""

from __future__ import annotations

import ast
import asyncio
import inspect
import re
import sys
from pathlib import Path

# A Python code block, or hidden setup code in an HTML comment (`<!-- python` … `-->`: run
# in its place, not shown on the site; the Rust blocks' hidden `# ` lines play this part).
BLOCK = re.compile(r"^( *)(?:```python|<!-- python)[^\n]*\n(.*?)^\1(?:```|-->)", re.S | re.M)


def blocks(text: str) -> list[tuple[int, str]]:
    """The page's Python blocks and hidden setup, in order: (line of the first code line,
    unindented code)."""
    out = []
    for m in BLOCK.finditer(text):
        indent = len(m.group(1))
        first = text.count("\n", 0, m.start(2)) + 1
        code = "\n".join(line[indent:] for line in m.group(2).splitlines())
        out.append((first, code))
    return out


def main() -> None:
    page, url = Path(sys.argv[1]), sys.argv[2]
    sys.path.insert(0, str(Path(__file__).parent))
    import chakra
    import docs_models

    chakra.configure(url)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.run_until_complete(docs_models.sample_data())
    ns: dict[str, object] = {
        "__name__": "__docs__",
        "chakra": chakra,
        "asyncio": asyncio,
        "database_url": url,
    }
    ns.update({m.__name__: m for m in docs_models.ALL})
    for first, code in blocks(page.read_text()):
        # Padded so a traceback's line numbers are the page's.
        compiled = compile(
            "\n" * (first - 1) + code,
            str(page),
            "exec",
            flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT,
        )
        if compiled.co_flags & inspect.CO_COROUTINE:
            loop.run_until_complete(eval(compiled, ns))
        else:
            exec(compiled, ns)
    chakra.close(url)
    loop.close()


if __name__ == "__main__":
    main()
