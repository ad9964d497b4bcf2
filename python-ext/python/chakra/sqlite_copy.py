"""Chakra's SQLite and Python's ``sqlite3`` module in one process.

Two copies of SQLite in one process break each other's file locks (closing a ``sqlite3``
connection drops the locks Chakra holds on the same file). The published extension links
the system's shared ``libsqlite3``, the copy CPython's ``_sqlite3`` links on Linux
distributions, so the process has one SQLite. Where it cannot (a Python whose ``sqlite3``
carries its own copy, or an extension built with SQLite inside), Chakra warns with
:class:`SqliteCopyWarning` when it opens a SQLite file, and :func:`sqlite_info` says which
library each side runs on. See ``docs/sqlite.md``.
"""

from __future__ import annotations

from typing import TypedDict

from . import _chakra

__all__ = ["SqliteCopyWarning", "SqliteInfo", "sqlite_info"]


class SqliteCopyWarning(RuntimeWarning):
    """Python's ``sqlite3`` module is loaded with another copy of SQLite than Chakra's:
    opening Chakra's database files with ``sqlite3`` in this process is unsafe. Given once
    per process, when Chakra opens a SQLite file."""


class SqliteInfo(TypedDict):
    """What :func:`sqlite_info` returns."""

    #: Chakra's SQLite version (``sqlite3_libversion()``), e.g. ``"3.40.1"``.
    version: str
    #: The same as a number, e.g. ``3040001``.
    version_number: int
    #: The file Chakra's SQLite was loaded from (``None`` if it cannot be told).
    library: str | None
    #: True when SQLite is compiled into Chakra's extension (``None`` if unknown).
    built_in: bool | None
    #: The oldest SQLite Chakra runs on (an older one is a ``ConfigError`` at connect).
    minimum_version: str
    #: The SQLite version of Python's ``sqlite3`` module (``None`` without one).
    sqlite3_version: str | None
    #: The file holding ``sqlite3``'s SQLite, when found.
    sqlite3_library: str | None
    #: True when ``sqlite3`` and Chakra share one SQLite, False when they do not, ``None``
    #: when it cannot be told (no ``sqlite3`` module, or not a Unix system).
    shared_with_sqlite3: bool | None


def sqlite_info() -> SqliteInfo:
    """Which SQLite Chakra runs on, and whether Python's ``sqlite3`` module shares it
    (``_sqlite3`` is imported to find out; no file is opened)."""
    return _chakra.sqlite_info()
