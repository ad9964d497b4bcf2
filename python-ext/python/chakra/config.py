"""Which database Chakra talks to.

Order: :func:`configure` (or a ``Session(url)``), else ``CHAKRA_DATABASE_URL``, else
``[database] url`` in ``./chakra.toml``, else ``sqlite://chakra.db``. URLs:
``sqlite://app.db``, ``sqlite:///abs/path.db``, ``sqlite::memory:``,
``postgres://user@host:5432/db``.

Several databases: ``configure({"default": url, "analytics": {"url": ..., "replicas":
[...]}})`` or ``[databases.NAME]`` tables in ``chakra.toml``; ``using("analytics")`` on
querysets, sessions and raw SQL, ``__database__ = "analytics"`` on a model. Replica reads
follow the writes of the current :func:`read_scope` (docs/databases.md).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from typing import Any

from . import _chakra

__all__ = [
    "close",
    "configure",
    "current_url",
    "database_names",
    "outside_transaction",
    "pool",
    "read_scope",
    "target",
]

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
# The primary pools of named databases (``configure({...})`` / ``[databases.NAME]``).
_named: dict[str, _chakra.PoolRef] = {}
# Named databases were configured from code.
_configured_named = False

# The current read-your-writes scope (``read_scope()``): writes made in it are seen by its
# later replica reads. ``None``: each database's process-wide scope.
_read_scope: ContextVar[_chakra.WalMark | None] = ContextVar("chakra_read_scope", default=None)


def configure(url: str | Mapping[str, str | Mapping[str, Any]] | None = None) -> None:
    """Makes ``url`` the default database. Raises ``chakra.errors.InvalidUrl`` at once for
    a URL that cannot be used; connecting happens on the first query.

    A mapping configures several named databases (one must be ``"default"``), each a URL
    or a dict of the settings of a ``[databases.NAME]`` table: ``url``, ``replicas``,
    ``replica_reads``, ``read_your_writes``, ``replica_wait``, ``max_replica_lag``,
    ``replica_retry``, ``sticky_for``, ``migrations`` (its migrations folder), ``models``
    (model names bound to it, as ``__database__`` binds them), and the pool's
    (``max_size``, ``pooler``…). Checked now: an unknown key or bad value raises
    ``ConfigError`` naming it.

    Without ``url``, the default goes back to the lookup order (``CHAKRA_DATABASE_URL``,
    then ``./chakra.toml``, then ``sqlite://chakra.db``), read now, so a bad setting there
    is an error here rather than on the first query."""
    global _url, _default, _configured_named
    if isinstance(url, Mapping):
        _chakra.configure_databases(dict(url))
        _configured_named = True
        _url = None
    elif url is None:
        _chakra.reset_databases()
        _configured_named = False
        _chakra.check_url(_chakra.default_url())
        _chakra.database_names()
        _url = None
    else:
        _chakra.check_url(url)
        _chakra.reset_databases()
        _configured_named = False
        _url = url
    _default = None
    _named.clear()
    # The models the databases' settings list (``models = [...]``) are bound now; one URL
    # is one database: no list applies.
    from .models import bind_listed

    bind_listed(_chakra.database_models() if _url is None else {})


def current_url() -> str:
    """The URL queries use when none is given."""
    if _url is not None:
        return _url
    return _chakra.database_url("default")


def database_names() -> list[str]:
    """The names of the configured databases (``default`` always among them)."""
    if _url is not None and not _configured_named:
        return ["default"]
    return _chakra.database_names()


def database_pool(name: str) -> _chakra.PoolRef:
    """The primary pool of database ``name`` (``UnknownDatabase`` when none is configured)."""
    if name == "default" and _url is not None:
        return pool()
    found = _named.get(name)
    if found is None:
        found = _chakra.database_pool(name)
        _named[name] = found
    return found


def pool(url: str | None = None, *, database: str | None = None) -> _chakra.PoolRef:
    """The pool of ``url``, or of the database named ``database`` (default: the default
    database)."""
    global _default
    if database is not None:
        return database_pool(database)
    if url is None:
        if _default is not None:
            return _default
        p = pool(_url) if _url is not None else database_pool("default")
        _default = p
        return p
    cached = _pools.get(url)
    if cached is None:
        cached = _chakra.PoolRef(url)
        _pools[url] = cached
    return cached


def routed(
    base: _chakra.PoolRef, replica: bool | None = None, *, raw_read_only: bool = False
) -> _chakra.PoolRef:
    """``base`` as the current read scope routes it, when its database has replicas:
    writes and transactions recorded in the scope, plain reads on a replica that has
    replayed them when ``replica`` (else the database's ``replica_reads``) says so.
    Without replicas, ``base`` itself."""
    if not base.has_replicas():
        return base
    return base.scoped(replica, _read_scope.get(), raw_read_only)


class _ReadScope:
    """``with chakra.read_scope():`` / ``async with chakra.read_scope():``: a new
    read-your-writes scope for the code inside (a request, a job). Writes made in it are
    seen by its later reads, even those sent to a replica; outside any, each database has
    one process-wide scope."""

    def __init__(self) -> None:
        self._token: Any = None

    def __enter__(self) -> _chakra.WalMark:
        mark = _chakra.WalMark()
        self._token = _read_scope.set(mark)
        return mark

    def __exit__(self, *exc: object) -> None:
        _read_scope.reset(self._token)

    async def __aenter__(self) -> _chakra.WalMark:
        return self.__enter__()

    async def __aexit__(self, *exc: object) -> None:
        self.__exit__()


def read_scope() -> _ReadScope:
    """A new read-your-writes scope (see :class:`_ReadScope`)."""
    return _ReadScope()


def close(url: str | None = None) -> None:
    """Closes the pool of ``url`` (default: every pool). The next query reconnects."""
    global _default
    if url is None:
        for p in _pools.values():
            p.close()
        _pools.clear()
        for p in _named.values():
            p.close()
        _named.clear()
    else:
        removed = _pools.pop(url, None)
        if removed is not None:
            removed.close()
    _default = None


def target(
    url: str | None = None,
    *,
    database: str | None = None,
    replica: bool | None = None,
    raw_read_only: bool = False,
) -> _chakra.PoolRef | _chakra.TxHandle:
    """Where a statement on ``url`` or on database ``database`` (default: the default
    database) runs: the current task's transaction when one is open on that database
    (``session.begin()``), else its pool, as the current read scope routes it (writes on
    the primary; plain reads on a replica when ``replica`` or the database's
    ``replica_reads`` says so). ``Model.objects`` queries and writes, related managers,
    raw SQL and bulk operations all run here, so they join the transaction."""
    if url is None and database is None and _default is not None:
        p = _default  # (what ``pool()`` returns; this runs on every statement)
    else:
        p = pool(url, database=database)
    ambient = _ambient.get()
    if ambient is not None and (p is ambient[0] or p.same_database(ambient[0])):
        return ambient[1]
    if not p.has_replicas():
        return p  # (what ``routed`` returns)
    return routed(p, replica, raw_read_only=raw_read_only)


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
