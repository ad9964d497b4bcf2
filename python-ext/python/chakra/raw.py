"""Raw SQL with bound parameters: ``await chakra.execute(sql, params)`` returns the number of
affected rows (``Model.objects.raw(sql, params)`` returns instances: see ``QuerySet.raw``).

Placeholders are ``%s`` as in Django, ``%%`` is a literal ``%``; a ``%s`` inside a quoted
string, a quoted identifier or a comment is text. The core counts the placeholders against
the parameters before any SQL (``errors.InvalidQuery`` naming both counts), translates them
to the database's (``$1`` on PostgreSQL, ``?`` on SQLite) and binds every value: nothing is
ever formatted into the text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import _bridge, _chakra, config

__all__ = ["execute", "execute_sync", "fetch", "fetch_sync"]


def _reader(
    url: str | None, using: str | None, replica: bool | None, read_only: bool
) -> _chakra.PoolRef:
    """Where a raw read runs: the primary, unless ``read_only`` vouches that the text only
    reads, when a replica may serve it (``replica=True`` or the database's
    ``replica_reads``)."""
    return config.routed(
        config.pool(url, database=using),
        replica if read_only else False,
        raw_read_only=read_only,
    )


async def fetch(
    sql: str,
    params: Sequence[Any] = (),
    *,
    dicts: bool = False,
    url: str | None = None,
    using: str | None = None,
    read_only: bool = False,
    replica: bool | None = None,
) -> list[Any]:
    """Runs ``sql`` with ``params`` bound (one per ``%s``); returns its rows as tuples, or
    as dicts keyed by column name with ``dicts=True``. Values come back by the database's
    column types (on SQLite, by the stored value: text stays text). ``using`` names the
    database; raw SQL runs on its primary unless ``read_only=True`` says it only reads,
    when it may run on a replica (``replica=True``, or the database's ``replica_reads``)."""
    job = _chakra.fetch_job(_reader(url, using, replica, read_only), sql, params, dicts)
    return await _bridge.run(job)  # type: ignore[no-any-return]


def fetch_sync(
    sql: str,
    params: Sequence[Any] = (),
    *,
    dicts: bool = False,
    url: str | None = None,
    using: str | None = None,
    read_only: bool = False,
    replica: bool | None = None,
) -> list[Any]:
    """Synchronous :func:`fetch`."""
    job = _chakra.fetch_job(_reader(url, using, replica, read_only), sql, params, dicts)
    return _bridge.run_sync(job)  # type: ignore[no-any-return]


async def execute(
    sql: str, params: Sequence[Any] = (), url: str | None = None, *, using: str | None = None
) -> int:
    """Runs ``sql`` with ``params`` bound (one per ``%s``); returns the affected-row count.
    Always on the primary (of database ``using``, default the default one)."""
    return await _bridge.run(_chakra.execute_job(config.target(url, database=using), sql, params))  # type: ignore[no-any-return]


def execute_sync(
    sql: str, params: Sequence[Any] = (), url: str | None = None, *, using: str | None = None
) -> int:
    """Synchronous :func:`execute`."""
    return _bridge.run_sync(_chakra.execute_job(config.target(url, database=using), sql, params))  # type: ignore[no-any-return]
