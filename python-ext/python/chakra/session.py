"""``Session``: a unit of work with an identity map and dirty tracking.

- ``add`` / ``add_all`` queue new objects (inserted at flush) or attach loaded ones;
  ``delete`` queues a delete.
- ``get(Model, pk)`` returns the one object of that row in this session (identity map).
- Changes to attributes of objects the session knows are found at flush by comparing with
  the values last read or written, and written with one ``UPDATE`` per changed object that
  only matches while the row still holds the values read for the changed fields (or the
  version field): otherwise ``ConcurrentUpdate`` (retryable), never a lost update. Updates
  and deletes go per table in primary-key order, so sessions do not deadlock each other.
- ``await session.transaction(fn)`` runs ``await fn(session)`` in a transaction and runs it
  again on a retryable error (``retries=2``: three attempts, as in Rust).
- ``commit()`` flushes and commits; ``rollback()`` discards. A transaction starts at the
  first flush or at ``begin()``; reads before that use the pool.
- ``async with session.begin():`` commits on exit and rolls back on exception; a nested
  ``begin()`` is a savepoint.
- Leaving ``async with Session()`` rolls back whatever was not committed.
"""

from __future__ import annotations

import asyncio
import copy
import random
import time
from collections.abc import Awaitable, Callable, Generator, Iterable
from types import TracebackType
from typing import Any, TypeVar

from . import _bridge, _chakra, config, errors, hooks
from .models import Model, place
from .query import QuerySet

M = TypeVar("M", bound=Model)
R = TypeVar("R")

__all__ = ["Session", "SyncSession"]

_Key = tuple[type[Model], Any]
_Steps = _bridge.Steps[Any]


def _snapshot(obj: Model) -> tuple[Any, ...]:
    """The object's field values, in field order, as last read or written (JSON and array
    values deep-copied, so changes made inside them are seen)."""
    cls = type(obj)
    values = tuple(map(obj.__dict__.get, cls._fields))
    if not cls._mutable_fields:
        return values
    return tuple(copy.deepcopy(v) if isinstance(v, (dict, list)) else v for v in values)


def _flush_order(objs: list[Any], obj_of: Callable[[Any], Model]) -> list[Any]:
    """``objs`` in the order the core flushes them (``chakra_dsl::tracked::flush_order``,
    the one Rust's session uses): tables in the order they were first written, each
    table's rows in primary-key order (stable for the same row)."""
    if len(objs) < 2:
        return list(objs)
    order = _chakra.flush_order([(type(obj_of(o)).__chakra__, obj_of(o).pk) for o in objs])
    return [objs[i] for i in order]


def _insert_order(new: list[Model]) -> Generator[list[Model], None, None]:
    """Groups of new objects to insert, one model per group, parents before children: an
    object comes after the unsaved objects assigned to its foreign keys (which are inserted
    too, even when they were not added). Objects of one model that are ready together share
    one INSERT."""
    pending: list[Model] = []
    seen: set[int] = set()
    stack = list(reversed(new))
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        pending.append(obj)
        stack.extend(reversed(obj._new_parents()))
    done: set[int] = set()
    while pending:
        ready = [
            o for o in pending if all(id(p) in done or id(p) not in seen for p in o._new_parents())
        ]
        if not ready:
            names = ", ".join(sorted({type(o).__name__ for o in pending}))
            raise errors.InvalidQuery(
                f"cannot order the inserts of new {names} objects: they reference each other "
                "in a cycle (save one of them first, or leave one key empty)"
            )
        groups: dict[type[Model], list[Model]] = {}
        for o in ready:
            groups.setdefault(type(o), []).append(o)
        yield from groups.values()
        done.update(id(o) for o in ready)
        pending = [o for o in pending if id(o) not in done]


class Session:
    """A unit of work on one database: the default one, ``url``, or the database named
    ``using`` (``chakra.configure({...})``, ``[databases.NAME]``). On a database with
    replicas its commits are recorded in the current :func:`chakra.read_scope`, and its
    reads outside transactions go to a replica with ``replica=True``."""

    def __init__(
        self, url: str | None = None, *, using: str | None = None, replica: bool | None = None
    ) -> None:
        self._pool = config.routed(config.pool(url, database=using), replica)
        # The database chosen by name: the objects the session loads and adds remember it.
        self._using = using
        self._tx: _chakra.TxHandle | None = None
        self._depth = 0
        self._identity: dict[_Key, Model] = {}
        self._snapshots: dict[_Key, tuple[Any, ...]] = {}
        self._new: list[Model] = []
        self._new_ids: set[int] = set()
        self._inserted: list[Model] = []
        self._deleted: list[Model] = []
        # The rows the last failed transaction block read (a re-run locks them).
        self._last_read: list[_Key] = []

    # -- context --------------------------------------------------------------------------

    async def __aenter__(self) -> Session:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            await self.close()
            return
        # Already failing: a rollback error must not hide the original exception (the
        # connection of a transaction that cannot be rolled back is closed anyway).
        try:
            await self.close()
        except errors.ChakraError:
            pass

    async def close(self) -> None:
        """Rolls back anything not committed and forgets every object."""
        await _bridge.drive(self._rollback_steps())

    # -- objects --------------------------------------------------------------------------

    def _key(self, obj: Model) -> _Key:
        # The whole key: a tuple of the key fields' values for a composite key.
        return (type(obj), obj.pk)

    def _attach(self, obj: Model) -> Model:
        key = self._key(obj)
        existing = self._identity.get(key)
        if existing is not None:
            return existing
        self._identity[key] = obj
        self._snapshots[key] = _snapshot(obj)
        return obj

    def _written(self, obj: Model, names: tuple[str, ...]) -> None:
        """Fields ``names`` of ``obj`` were just written outside a flush
        (``update_or_create`` on this session's queryset): when ``obj`` is the session's
        object for its row, its snapshot takes their values, so the flush does not write
        them again (with a stale compare-and-set)."""
        key = self._key(obj)
        snap = self._snapshots.get(key)
        if self._identity.get(key) is not obj or snap is None:
            return
        now = _snapshot(obj)
        fields = type(obj)._fields
        self._snapshots[key] = tuple(
            b if n in names else a for n, a, b in zip(fields, snap, now, strict=True)
        )

    def _attach_loaded(self, obj: M, fresh: bool) -> M:
        """The session's object for a row just loaded: ``obj``, now known to the session, or
        the object it already had for that row (given the loaded values when ``fresh``: a
        locking read saw the latest committed row)."""
        place([obj], self._using)
        existing = self._identity.get(self._key(obj))
        if existing is None:
            return self._attach(obj)  # type: ignore[return-value]
        if fresh:
            for name in type(obj)._fields:
                existing.__dict__[name] = obj.__dict__.get(name)
            self._snapshots[self._key(existing)] = _snapshot(existing)
        return existing  # type: ignore[return-value]

    def query(self, model: type[M]) -> QuerySet[M]:
        """``model.objects`` bound to this session: it runs in the session's transaction
        when one is open (``select_for_update()`` needs one), and the objects it loads are
        the session's (one per row; their changes are written at flush)."""
        return QuerySet(model, session=self)

    def add(self, obj: Model) -> None:
        """Queues a new object for insert, or attaches a loaded one (its later changes are
        written at flush)."""
        if not isinstance(obj, Model):
            raise TypeError(f"Session.add takes model objects, got {obj!r}")
        place([obj], self._using)
        if obj._is_new():
            if id(obj) not in self._new_ids:
                self._new_ids.add(id(obj))
                self._new.append(obj)
        else:
            self._attach(obj)

    def add_all(self, objs: Iterable[Model]) -> None:
        """:meth:`add` for each object."""
        for o in objs:
            self.add(o)

    def delete(self, obj: Model) -> None:
        """Queues the object's row for delete at flush."""
        if obj._is_new():
            self._new = [o for o in self._new if o is not obj]
            self._new_ids.discard(id(obj))
            return
        self._deleted.append(obj)

    def _target(self) -> _chakra.PoolRef | _chakra.TxHandle:
        return self._tx if self._tx is not None else self._pool

    def _get_steps(
        self, model: type[M], pk: Any, for_update: bool = False
    ) -> _bridge.Steps[M | None]:
        if isinstance(pk, list) and model._pk_name is None:
            # A composite key given as a list: the identity map holds tuples.
            pk = tuple(pk)
        key: _Key = (model, pk)
        found = self._identity.get(key)
        if found is not None and not for_update:
            return found  # type: ignore[return-value]
        if for_update and self._tx is None:
            raise errors.TransactionError(
                "get(..., for_update=True) locks the row until the transaction ends: call it "
                "inside session.begin()"
            )
        obj: M | None = yield model.__chakra__.get_pk_job(self._target(), pk, for_update)
        if obj is None:
            return None
        return self._attach_loaded(obj, for_update)

    def _refresh_steps(self, obj: Model) -> _Steps:
        key = self._key(obj)
        if self._identity.get(key) is not obj:
            raise errors.InvalidQuery(
                f"session.refresh(): this {type(obj).__name__} is not one of the session's "
                "objects (load it through the session, or call obj.refresh_from_db())"
            )
        yield from obj._refresh_steps(self._target(), None)
        self._snapshots[key] = _snapshot(obj)

    async def refresh(self, obj: Model) -> None:
        """Reloads a tracked object's fields from its row (inside ``begin()``: as this
        transaction sees it) and forgets its unsaved changes, as SQLAlchemy's
        ``Session.refresh``; ``DoesNotExist`` when the row is gone."""
        await _bridge.drive(self._refresh_steps(obj))

    async def get(self, model: type[M], pk: Any, *, for_update: bool = False) -> M | None:
        """The object of ``model`` with primary key ``pk`` (the same object for the same row
        within this session), or ``None``. ``for_update=True`` (inside ``begin()``) reads
        the row with ``SELECT … FOR UPDATE``: it stays locked until the transaction ends, so
        concurrent writers wait instead of conflicting (SQLite: a plain read; its
        transactions are serialised anyway)."""
        return await _bridge.drive(self._get_steps(model, pk, for_update))

    # -- unit of work ---------------------------------------------------------------------

    def _dirty(self) -> list[tuple[Model, list[str]]]:
        out = []
        for key, obj in self._identity.items():
            snap = self._snapshots.get(key)
            now = _snapshot(obj)
            if snap is None or snap == now:
                continue
            names = [n for n, a, b in zip(type(obj)._fields, snap, now, strict=True) if a != b]
            _refuse_key_change(obj, key[1], names)
            out.append((obj, names))
        return out

    def _begin_steps(self, isolation: str | None = None) -> _Steps:
        tx = _chakra.TxHandle(self._pool)
        yield tx.begin_job(isolation)
        self._tx = tx

    def _flush_steps(self) -> _Steps:
        dirty = self._dirty()
        if not (self._new or dirty or self._deleted):
            return
        if self._tx is None:
            yield from self._begin_steps()
        tx = self._tx
        assert tx is not None
        new, self._new = self._new, []
        self._new_ids.clear()
        ambient = (self._pool, tx)
        ctx = hooks.HookContext(self)
        for group in _insert_order(new):
            hooked = hooks.defines(type(group[0]), hooks.SAVE)
            # Parents were inserted by an earlier group: their new keys fill the children's.
            for obj in group:
                obj._fill_keys()
                if hooked:
                    yield hooks.HookCall(obj.pre_save, "pre_save", (ctx,), ambient)
                obj.full_clean()
                obj._stamp(True)
            yield type(group[0]).__chakra__.insert_job(tx, group)
            for obj in group:
                self._inserted.append(obj)
                self._attach(obj)
            if hooked:
                for obj in group:
                    yield hooks.HookCall(obj.post_save, "post_save", (ctx, True), ambient)
        # Every changed object's guarded UPDATE in one job: pipelined on PostgreSQL (one
        # round trip), run by the server in this order.
        changed = []
        for obj, names in _flush_order(dirty, lambda d: d[0]):
            cls = type(obj)
            snap = self._snapshots[self._key(obj)]
            if hooks.defines(cls, hooks.SAVE):
                yield hooks.HookCall(obj.pre_save, "pre_save", (ctx,), ambient)
                # The hook may change more fields: they are written too.
                now = _snapshot(obj)
                names = [n for n, a, b in zip(cls._fields, snap, now, strict=True) if a != b]
            obj.full_clean()
            # A changed object's auto_now fields are set and written with its changes.
            stamps = cls.__chakra__.auto_now_values(False)
            for n, value in stamps:
                setattr(obj, n, value)
            names = [*names, *(n for n, _ in stamps if n not in names)]
            version = cls._version_name
            read = {
                n: v for n, v in zip(cls._fields, snap, strict=True) if n in names or n == version
            }
            changed.append((cls.__chakra__, obj, names, read))
        if changed:
            versions = yield _chakra.tracked_updates_job(tx, changed)
            for (_, obj, _, _), new_version in zip(changed, versions, strict=True):
                version = type(obj)._version_name
                if version is not None and new_version is not None:
                    obj.__dict__[version] = new_version
                self._snapshots[self._key(obj)] = _snapshot(obj)
            for _, obj, _, _ in changed:
                if hooks.defines(type(obj), hooks.SAVE):
                    yield hooks.HookCall(obj.post_save, "post_save", (ctx, False), ambient)
        deleted, self._deleted = self._deleted, []
        for obj in _flush_order(deleted, lambda o: o):
            hooked = hooks.defines(type(obj), hooks.DELETE)
            if hooked:
                yield hooks.HookCall(obj.pre_delete, "pre_delete", (ctx,), ambient)
            yield type(obj).__chakra__.delete_pk_job(tx, obj.pk)
            key = self._key(obj)
            self._identity.pop(key, None)
            self._snapshots.pop(key, None)
            if hooked:
                yield hooks.HookCall(obj.post_delete, "post_delete", (ctx,), ambient)

    def _lock_steps(self, keys: list[_Key]) -> _Steps:
        """Locks the rows of ``keys`` (``SELECT … FOR UPDATE``), model by model in table
        order and each model's rows in primary-key order, loading them into the session."""
        by_model: dict[type[Model], list[Any]] = {}
        for model, pk in keys:
            if model._pk_name is not None or model._pk_names:
                by_model.setdefault(model, []).append(pk)
        for model in sorted(by_model, key=lambda m: m.__tablename__):
            pk = model._pk_name
            if pk is not None:
                qs = self.query(model).filter(**{f"{pk}__in": sorted(by_model[model])})
                qs = qs.order_by(pk)
            else:
                # A composite key: the rows named by whole keys, locked in key order.
                qs = self.query(model).filter(pk__in=sorted(set(by_model[model])))
                qs = qs.order_by(*model._pk_names)
            rows = yield qs.select_for_update()._all_job()
            for obj in rows:
                self._attach_loaded(obj, True)

    def _commit_steps(self) -> _Steps:
        yield from self._flush_steps()
        if self._tx is not None:
            tx, self._tx = self._tx, None
            yield tx.commit_job()
        self._inserted.clear()

    def _rollback_steps(self) -> _Steps:
        tx, self._tx = self._tx, None
        self._depth = 0
        try:
            if tx is not None:
                yield tx.rollback_job()
        finally:
            # Objects inserted by the rolled-back transaction are new again, and keys copied
            # from them are forgotten (refilled when they are inserted again).
            for obj in self._inserted:
                cls = type(obj)
                pk = cls._pk_name
                if pk is not None and cls._fields[pk].auto_increment:
                    obj.__dict__[pk] = None
                obj.__dict__["_chakra_new"] = True
            for obj in self._inserted:
                d = obj.__dict__
                for r in type(obj)._foreign_keys:
                    parent = d.get(r.name)
                    if parent is not None and parent._is_new():
                        d[r.attname] = None
            self._inserted.clear()
            self._identity.clear()
            self._snapshots.clear()
            self._new.clear()
            self._new_ids.clear()
            self._deleted.clear()

    async def flush(self) -> None:
        """Writes pending inserts, changes and deletes (in a transaction, opened if needed)."""
        await _bridge.drive(self._flush_steps())

    async def commit(self) -> None:
        """Flushes and commits. A cancellation (``asyncio.wait_for``, ``task.cancel()``)
        that arrives once COMMIT was sent does not abandon it: the COMMIT runs to its end and
        its outcome is what the caller sees (committed: no cancellation is raised, the work
        is done; failed: its error), never a rollback reported for a transaction that
        committed."""
        await _bridge.drive(self._flush_steps())
        if self._tx is not None:
            tx, self._tx = self._tx, None
            await _to_its_end(_bridge.run(tx.commit_job()))
        self._inserted.clear()

    async def rollback(self) -> None:
        """Rolls back, forgets every object, and marks objects inserted since the last
        commit as new again."""
        await _bridge.drive(self._rollback_steps())

    def begin(self, isolation: str | None = None) -> _Begin:
        """A transaction block: ``async with session.begin(): ...`` commits on exit and rolls
        back on exception; nested blocks are savepoints. ``isolation``: ``"read
        committed"``, ``"repeatable read"`` or ``"serializable"`` (SQLite accepts each: its
        transactions are serialised anyway). A block never re-runs: a conflict raises its
        retryable error (``err.retryable``); :meth:`transaction` re-runs."""
        return _Begin(self, isolation)

    async def transaction(
        self,
        fn: Callable[[Session], Awaitable[R]],
        *,
        retries: int = 2,
        isolation: str | None = None,
        backoff: float = 0.005,
    ) -> R:
        """Runs ``await fn(session)`` in a transaction and commits; on a retryable error
        (``ConcurrentUpdate``, ``Deadlock``, ``SerializationFailure``, ``LockTimeout``,
        ``ConnectionLost``) rolls back and runs ``fn`` again, at most ``retries`` more times
        (default 2: three attempts in all, as Rust's ``session.transaction``), after a
        short jittered wait that doubles each time (``backoff`` seconds first). ``fn`` must
        be safe to run more than once; objects it read are forgotten between attempts.
        Returns what ``fn`` returns; the last error is raised."""
        attempt = 0
        contended: list[_Key] = []
        while True:
            try:
                async with self.begin(isolation):
                    if contended:
                        await _bridge.drive(self._lock_steps(contended))
                    return await fn(self)
            except errors.ChakraError as e:
                if not _rerunnable(e) or attempt >= retries:
                    raise
                attempt += 1
                # The re-run locks the rows the failed attempt read (in primary-key order:
                # no deadlock with other lockers or flushes), so it cannot lose the same race.
                contended = self._last_read
                await asyncio.sleep(backoff * (2 ** (attempt - 1)) * random.uniform(0.5, 1.5))


def _rerunnable(e: errors.ChakraError) -> bool:
    """A retryable conflict, or a connection refused before the transaction started
    (nothing ran: running it again is safe)."""
    return e.retryable or type(e) is errors.ConnectionError


async def _to_its_end(aw: Awaitable[R]) -> R:
    """Awaits ``aw`` (a COMMIT) to its end even when the task is cancelled meanwhile, and
    returns its result or raises its error: a cancellation that came too late is not
    raised (``asyncio.wait_for`` then returns, truly: the transaction committed)."""
    task = asyncio.ensure_future(aw)
    while True:
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.done():
                return task.result()


class _Begin:
    """The context manager returned by :meth:`Session.begin`."""

    def __init__(self, session: Session, isolation: str | None = None) -> None:
        self.session = session
        self.outer = False
        self.token: Any = None
        self.isolation = isolation

    async def __aenter__(self) -> Session:
        s = self.session
        if s._depth == 0:
            self.outer = True
            if s._tx is None:
                await _bridge.drive(s._begin_steps(self.isolation))
            assert s._tx is not None
            # The current task's transaction: Model.objects, related managers, raw SQL and
            # bulk operations inside the block join it.
            self.token = config._ambient.set((s._pool, s._tx))
        else:
            # Pending changes belong to the enclosing block: write them before the savepoint.
            await s.flush()
            assert s._tx is not None
            await _bridge.run(s._tx.savepoint_job())
        s._depth += 1
        return s

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self._exit(exc_type)
        finally:
            if self.outer:
                config._ambient.reset(self.token)

    async def _exit(self, exc_type: type[BaseException] | None) -> None:
        s = self.session
        if self.outer:
            s._last_read = list(s._identity)
        if exc_type is None:
            try:
                if self.outer:
                    try:
                        await s.commit()
                    except BaseException:
                        # Not committed (a conflict at flush, a failed COMMIT): nothing of
                        # it stays, and the objects read are forgotten.
                        try:
                            await s.rollback()
                        except errors.ChakraError:
                            pass
                        raise
                else:
                    await s.flush()
                    assert s._tx is not None
                    await _bridge.run(s._tx.release_job())
            finally:
                s._depth = max(s._depth - 1, 0)
            return
        s._depth = max(s._depth - 1, 0)
        if self.outer or s._tx is None:
            # Already failing: a failed rollback (a lost connection, closed anyway) must not
            # hide the original error.
            try:
                await s.rollback()
            except errors.ChakraError:
                pass
        else:
            try:
                await _bridge.run(s._tx.rollback_to_job())
            except errors.ChakraError:
                await s.rollback()
            # Changes made inside the savepoint are gone from the database: re-read state
            # is unknown, so forget the objects (they are reloaded on next access).
            s._identity.clear()
            s._snapshots.clear()
            s._new.clear()
            s._new_ids.clear()
            s._deleted.clear()


class SyncSession(Session):
    """:class:`Session` for synchronous code: the same unit of work, with ``with`` blocks and
    ``*_sync``-free method names (``get``, ``flush``, ``commit``, ``rollback``, ``close``).
    Safe inside and outside a running event loop (it never waits on one)."""

    def __enter__(self) -> SyncSession:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self.close_sync()
            return
        try:
            self.close_sync()
        except errors.ChakraError:
            pass

    def close_sync(self) -> None:
        """Rolls back anything not committed and forgets every object."""
        _bridge.drive_sync(self._rollback_steps())

    def get_sync(self, model: type[M], pk: Any, *, for_update: bool = False) -> M | None:
        """Synchronous :meth:`Session.get`."""
        return _bridge.drive_sync(self._get_steps(model, pk, for_update))

    def refresh_sync(self, obj: Model) -> None:
        """Synchronous :meth:`Session.refresh`."""
        _bridge.drive_sync(self._refresh_steps(obj))

    def flush_sync(self) -> None:
        """Synchronous :meth:`Session.flush`."""
        _bridge.drive_sync(self._flush_steps())

    def commit_sync(self) -> None:
        """Synchronous :meth:`Session.commit`."""
        _bridge.drive_sync(self._commit_steps())

    def rollback_sync(self) -> None:
        """Synchronous :meth:`Session.rollback`."""
        _bridge.drive_sync(self._rollback_steps())

    def begin_sync(self, isolation: str | None = None) -> _SyncBegin:
        """A transaction block: ``with session.begin_sync(): ...`` commits on exit, rolls
        back on exception; nested blocks are savepoints. ``isolation`` as in
        :meth:`Session.begin`."""
        return _SyncBegin(self, isolation)

    def transaction_sync(
        self,
        fn: Callable[[SyncSession], R],
        *,
        retries: int = 2,
        isolation: str | None = None,
        backoff: float = 0.005,
    ) -> R:
        """Synchronous :meth:`Session.transaction`: runs ``fn(session)`` in a transaction,
        re-running it on a retryable error."""
        attempt = 0
        contended: list[_Key] = []
        while True:
            try:
                with self.begin_sync(isolation):
                    if contended:
                        _bridge.drive_sync(self._lock_steps(contended))
                    return fn(self)
            except errors.ChakraError as e:
                if not _rerunnable(e) or attempt >= retries:
                    raise
                attempt += 1
                contended = self._last_read
                time.sleep(backoff * (2 ** (attempt - 1)) * random.uniform(0.5, 1.5))


class _SyncBegin:
    """The context manager returned by :meth:`SyncSession.begin_sync`."""

    def __init__(self, session: SyncSession, isolation: str | None = None) -> None:
        self.session = session
        self.outer = False
        self.token: Any = None
        self.isolation = isolation

    def __enter__(self) -> SyncSession:
        s = self.session
        if s._depth == 0:
            self.outer = True
            if s._tx is None:
                _bridge.drive_sync(s._begin_steps(self.isolation))
            assert s._tx is not None
            self.token = config._ambient.set((s._pool, s._tx))
        else:
            s.flush_sync()
            assert s._tx is not None
            _bridge.run_sync(s._tx.savepoint_job())
        s._depth += 1
        return s

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self._exit(exc_type)
        finally:
            if self.outer:
                config._ambient.reset(self.token)

    def _exit(self, exc_type: type[BaseException] | None) -> None:
        s = self.session
        if self.outer:
            s._last_read = list(s._identity)
        s._depth = max(s._depth - 1, 0)
        if exc_type is None:
            if self.outer:
                try:
                    s.commit_sync()
                except BaseException:
                    try:
                        s.rollback_sync()
                    except errors.ChakraError:
                        pass
                    raise
            else:
                s.flush_sync()
                assert s._tx is not None
                _bridge.run_sync(s._tx.release_job())
            return
        if self.outer or s._tx is None:
            try:
                s.rollback_sync()
            except errors.ChakraError:
                pass
        else:
            try:
                _bridge.run_sync(s._tx.rollback_to_job())
            except errors.ChakraError:
                s.rollback_sync()
            s._identity.clear()
            s._snapshots.clear()
            s._new.clear()
            s._new_ids.clear()
            s._deleted.clear()


def _refuse_key_change(obj: Model, was: Any, names: list[str]) -> None:
    """A tracked object whose key field changed is refused by name: the session knows the
    row by its key (a composite key by every key field), and a flush would write another
    row. Delete the object and add a new one instead."""
    cls = type(obj)
    keys = [cls._pk_name] if cls._pk_name is not None else list(cls._pk_names)
    for n in names:
        if n in keys:
            raise errors.InvalidQuery(
                f"{cls.__name__}.{n} is a primary-key field of {cls.__name__} "
                f"({', '.join(keys)}): a session's object cannot change its key (the row "
                f"{was!r} would become {obj.pk!r}); delete it and add a new object"
            )
