"""mkdocs hook: hides the lines of Rust code blocks that start with ``# `` (rustdoc's
convention: part of the example as the docs check runs it, not shown on the site)."""

from __future__ import annotations

import re
from typing import Any

FENCE = re.compile(r"^( *)```rust[^\n]*\n(.*?)^\1```", re.S | re.M)
HIDDEN = re.compile(r"^ *#(?: .*)?$")


def _strip(m: re.Match[str]) -> str:
    body = "".join(
        line for line in m.group(2).splitlines(keepends=True) if not HIDDEN.match(line.rstrip("\n"))
    )
    return m.group(0).replace(m.group(2), body, 1)


def on_page_markdown(markdown: str, **_: Any) -> str:
    return FENCE.sub(_strip, markdown)
