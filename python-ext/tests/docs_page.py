"""Runs the Python code blocks of one documentation page, in order, in one namespace, on
the database at URL with the docs' models and sample rows (``docs_models.py``):

    python docs_page.py docs/queries.md sqlite:///tmp/x.db

A block's names are there for the blocks after it, as for a reader going down the page.
Blocks start with ``chakra``, ``asyncio``, ``database_url`` (the page's database) and the
models of ``docs_models`` in scope. A failing block ends the run with its traceback, whose
line numbers are the page's. A block marked ``<!-- docs-check: not on mysql: why -->`` on
the line before it is left out on that backend. ``test_docs.py`` runs every page this way,
each in a process of its own (a page may declare models, which registers them
process-wide)."""

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


# A block that cannot run on a backend says so, with the reason, on the line before it:
# `<!-- docs-check: not on mysql: arrays -->` (hidden on the site; docs-check/build.rs reads
# the same marker for the Rust blocks).
NOT_ON = re.compile(r"<!-- docs-check: not on (\w+): [^>]+ -->\s*$")


def blocks(text: str, backend: str = "") -> list[tuple[int, str]]:
    """The page's Python blocks and hidden setup, in order: (line of the first code line,
    unindented code); with ``backend``, without the blocks marked as not running on it."""
    out = []
    for m in BLOCK.finditer(text):
        indent = len(m.group(1))
        first = text.count("\n", 0, m.start(2)) + 1
        before = text[: m.start()].rstrip("\n").rsplit("\n", 1)[-1]
        marker = NOT_ON.search(before)
        if backend and marker and marker.group(1) == backend:
            continue
        code = "\n".join(line[indent:] for line in m.group(2).splitlines())
        out.append((first, code))
    return out


def backend_of(url: str) -> str:
    """The backend a database URL names: ``sqlite``, ``postgres`` or ``mysql``."""
    scheme = url.split(":", 1)[0]
    return {"postgresql": "postgres", "mariadb": "mysql"}.get(scheme, scheme)


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
    for first, code in blocks(page.read_text(), backend_of(url)):
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
