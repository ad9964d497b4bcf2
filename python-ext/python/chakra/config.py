"""Which database Chakra talks to.

Order: :func:`configure` (or a ``Session(url)``), else ``CHAKRA_DATABASE_URL``, else
``[database] url`` in ``./chakra.toml``, else ``sqlite://chakra.db``. URLs:
``sqlite://app.db``, ``sqlite:///abs/path.db``, ``sqlite::memory:``,
``postgres://user@host:5432/db``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextvars import ContextVar

from . import _chakra

__all__ = ["close", "configure", "current_url", "outside_transaction", "pool", "target"]

# The ambient transaction: the pool it belongs to and its handle, set by ``session.begin()``
# (``session.transaction(fn)``, ``SyncSession.begin_sync()``) for the task or thread that
# opened it (and the tasks it starts), like Django's ``atomic()``.
_ambient: ContextVar[tuple[_chakra.PoolRef, _chakra.TxHandle] | None] = ContextVar(
    "chakra_ambient_transaction", default=None
)

# A fork never hands the child SQLite's lock state: running SQLite calls end first and new
# ones wait until the fork is done; the child opens connections of its own.
if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=_chakra.fork_prepare,
        after_in_parent=_chakra.fork_parent,
        after_in_child=_chakra.fork_child,
    )

_url: str | None = None
_pools: dict[str, _chakra.PoolRef] = {}
_default: _chakra.PoolRef | None = None


def configure(url: str | None = None) -> None:
    """Makes ``url`` the default database. Raises ``chakra.errors.InvalidUrl`` at once for
    a URL that cannot be used; connecting happens on the first query.

    Without ``url``, the default goes back to the lookup order (``CHAKRA_DATABASE_URL``,
    then ``./chakra.toml``, then ``sqlite://chakra.db``), read now, so a bad setting there
    is an error here rather than on the first query."""
    global _url, _default
    if url is None:
        _chakra.check_url(_chakra.default_url())
        _url = None
    else:
        _chakra.check_url(url)
        _url = url
    _default = None


def current_url() -> str:
    """The URL queries use when none is given."""
    return _url if _url is not None else _chakra.default_url()


def pool(url: str | None = None) -> _chakra.PoolRef:
    """The pool of ``url`` (default: :func:`current_url`)."""
    global _default
    if url is None:
        if _default is not None:
            return _default
        p = pool(current_url())
        _default = p
        return p
    cached = _pools.get(url)
    if cached is None:
        cached = _chakra.PoolRef(url)
        _pools[url] = cached
    return cached


def close(url: str | None = None) -> None:
    """Closes the pool of ``url`` (default: every pool). The next query reconnects."""
    global _default
    if url is None:
        for p in _pools.values():
            p.close()
        _pools.clear()
    else:
        removed = _pools.pop(url, None)
        if removed is not None:
            removed.close()
    _default = None


def target(url: str | None = None) -> _chakra.PoolRef | _chakra.TxHandle:
    """Where a statement on ``url`` (default: :func:`current_url`) runs: the current task's
    transaction when one is open on that database (``session.begin()``), else the pool.
    ``Model.objects`` queries and writes, related managers, raw SQL and bulk operations all
    run here, so they join the transaction."""
    ambient = _ambient.get()
    if ambient is not None:
        p = pool(url)
        if p is ambient[0]:
            return ambient[1]
        return p
    return pool(url)


@contextlib.contextmanager
def outside_transaction() -> Iterator[None]:
    """``with chakra.outside_transaction():`` statements inside run on pooled connections of
    their own, not in the current task's transaction (an audit row that must stay when the
    transaction rolls back; on SQLite such a write waits for the transaction's lock)."""
    token = _ambient.set(None)
    try:
        yield
    finally:
        _ambient.reset(token)
