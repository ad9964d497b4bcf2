"""``QuerySet``: Django-style chained queries over one model (``Model.objects``).

Narrowing methods (``filter``, ``exclude``, ``order_by``, ``limit``, slicing, ``all``, …)
return a new queryset at once and check their arguments in the core, so a bad field or value
raises before any SQL runs. A queryset is awaitable (``await qs`` is its rows), and
``all()`` returns the queryset itself, as in Django and Tortoise: ``await qs.all()``,
``qs.all().delete()``, ``qs.all().count()``. Terminal methods (``get``, ``count``, …) are
coroutines; a queryset also passes for one, so ``asyncio.run(User.objects.all())`` works.
Each terminal method has a synchronous twin with a ``_sync`` suffix (``all_sync()``,
``get_sync(id=1)``) for scripts and sync frameworks.
"""

from __future__ import annotations

from abc import ABCMeta
from collections.abc import AsyncIterator, Coroutine, Generator, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, cast, overload

from . import _bridge, _chakra, config, errors, hooks
from ._bridge import Steps
from .expressions import Aggregate, Q

if TYPE_CHECKING:
    from typing_extensions import Self

    from .models import Model
    from .session import Session

#: The dialect names ``sql()`` and ``aggregate_sql()`` take (the core's ``Dialect``
#: spellings; any case is accepted at run time).
DialectName = Literal["postgres", "postgresql", "pg", "sqlite", "sqlite3", "mysql", "mariadb"]

M = TypeVar("M", bound="Model")
"""The model."""
R = TypeVar("R")
_Q = TypeVar("_Q", bound="BaseQuerySet[Any, Any]")
"""What a row reads as: the model, or a dict / tuple / value after ``values()`` /
``values_list()``."""

__all__ = ["BaseQuerySet", "Manager", "Prefetch", "QuerySet", "ValuesQuerySet"]

_Mode = Literal["models", "dicts", "tuples", "flat"]

# Rows a ``get()`` reads to tell one from several (the core's ``MAX_GET_RESULTS``, as Django's).
_MAX_GET_RESULTS = 21
# Keys per statement of ``in_bulk()`` on a composite primary key (4 key fields times 500 keys
# stay under every backend's bound-parameter limit).
_IN_BULK_COMPOSITE_CHUNK = 500


class Prefetch:
    """A ``prefetch_related`` entry with its own query or attribute:
    ``Prefetch("posts", queryset=Post.objects.filter(published=True).order_by("-id"),
    to_attr="published_posts")`` loads only those posts, in that order, into the plain list
    attribute ``user.published_posts``. The queryset may filter and order, not slice."""

    __slots__ = ("lookup", "queryset", "to_attr")

    def __init__(
        self,
        lookup: str,
        queryset: BaseQuerySet[Any, Any] | None = None,
        to_attr: str | None = None,
    ) -> None:
        if queryset is not None and not isinstance(queryset, BaseQuerySet):
            raise TypeError(
                f"Prefetch({lookup!r}) takes a queryset (Model.objects.filter(...)), "
                f"got {queryset!r}"
            )
        self.lookup = lookup
        self.queryset = queryset
        self.to_attr = to_attr

    def __repr__(self) -> str:
        return f"Prefetch({self.lookup!r}, to_attr={self.to_attr!r})"


_models_module: Any = None


def _models() -> Any:
    """The ``chakra.models`` module (it imports this one, so it is imported on first use;
    an import statement in a method costs more than the rest of a cached ``get``)."""
    global _models_module
    if _models_module is None:
        from . import models

        _models_module = models
    return _models_module


def _check_batch_size(batch_size: int | None) -> None:
    """Django's check of ``bulk_create``/``bulk_update``'s ``batch_size``: ``None`` or a
    positive integer."""
    if batch_size is None:
        return
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
        raise ValueError(f"Batch size must be a positive integer, not {batch_size!r}.")


class BaseQuerySet(Generic[M, R]):
    """A lazy query over the rows of ``model`` (``M``), each read as an ``R``: the common
    part of :class:`QuerySet` (rows are model instances) and :class:`ValuesQuerySet` (rows
    are dicts, tuples or values, after ``values()`` / ``values_list()``)."""

    __slots__ = ("_coro", "_fields", "_mode", "_ordering", "_q", "_session", "_using", "model")

    def __init__(
        self,
        model: type[M],
        query: _chakra.Query | None = None,
        mode: _Mode = "models",
        fields: tuple[str, ...] = (),
        session: Session | None = None,
        ordering: tuple[str, ...] = (),
    ) -> None:
        self.model = model
        self._q = query if query is not None else model.__chakra__.query()
        self._mode: _Mode = mode
        self._fields = fields
        self._session = session
        # The ``order_by`` arguments in force (the paginator's keyset reads them).
        self._ordering = ordering
        self._coro: Any = None
        # ``using()``: the database name (``None``: the model's) and replica reads (``None``:
        # the database's ``replica_reads``).
        self._using: tuple[str | None, bool | None] = (None, None)

    def _clone(self, query: _chakra.Query, ordering: tuple[str, ...] | None = None) -> Self:
        return self._keep(
            type(self)(
                self.model,
                query,
                self._mode,
                self._fields,
                self._session,
                self._ordering if ordering is None else ordering,
            )
        )

    def _keep(self, qs: _Q) -> _Q:
        """``qs`` with this queryset's ``using()`` choice."""
        qs._using = self._using
        return qs

    def using(self, database: str | None = None, *, replica: bool | None = None) -> Self:
        """This query on the database named ``database`` (``chakra.configure({...})``,
        ``[databases.NAME]``; default: the model's ``__database__``, else ``default``), its
        plain reads on a replica with ``replica=True`` (kept on the primary with ``False``;
        default: the database's ``replica_reads``). Inside a transaction every statement
        runs on the primary. A query reaching models of another database (a filter across a
        relation, ``select_related``) raises ``CrossDatabaseQuery``."""
        if database is not None:
            config.database_pool(database)  # UnknownDatabase now, not at the first query
        qs = self._clone(self._q)
        qs._using = (database if database is not None else self._using[0], replica)
        return qs

    def _db_name(self) -> str | None:
        """The database this query runs on (``None``: the default one)."""
        return self._using[0] if self._using[0] is not None else self.model.__database__

    def _check_one_database(self) -> None:
        """Raises ``CrossDatabaseQuery`` when a table the query reads belongs to a model of
        another database."""
        models = _models()
        if not models.bound_models and self._using[0] is None:
            return  # every model on the default database: nothing to cross
        mine = self._db_name() or "default"
        tables = None
        for other in models.registry.values():
            theirs = other.__database__ or "default"
            if theirs == mine or other.__dict__.get("__abstract__", False):
                continue
            if tables is None:
                tables = set(self._q.tables())
            if other.__tablename__ in tables and other.__tablename__ != self.model.__tablename__:
                raise errors.CrossDatabaseQuery(
                    f"{self.model.__name__} is on database {mine!r} but the query also reads "
                    f"{other.__name__} (table {other.__tablename__!r}), bound to database "
                    f"{theirs!r}: a query cannot join across databases; read each side with "
                    "its own query"
                )

    def select_for_update(
        self, *, nowait: bool = False, skip_locked: bool = False, of: tuple[str, ...] = ()
    ) -> Self:
        """Locks the matching rows until the transaction ends (``SELECT … FOR UPDATE``):
        other transactions that want them wait. ``nowait=True`` fails at once with
        ``LockTimeout`` instead of waiting; ``skip_locked=True`` leaves locked rows out;
        ``of`` names the tables to lock (default: all of the query's). Only through a
        session (``session.query(Model).select_for_update()``), which opens its transaction
        for it. SQLite runs the plain query: its transactions are serialised anyway."""
        return self._clone(self._q.for_update(nowait, skip_locked, list(of)))

    # -- narrowing ------------------------------------------------------------------------

    def none(self) -> Self:
        """A queryset matching no row, as Django's ``none()``: every terminal method answers
        as over an empty table (``[]``, ``0``, ``False``, ``None``, ``DoesNotExist``) and any
        further narrowing keeps it empty. (Django sends no statement; Chakra sends one with
        ``WHERE FALSE``, so the answer is the same on every backend.)"""
        pk = self.model.__chakra__.pk_name() or "id"
        nothing: dict[str, Any] = {f"{pk}__in": []}
        return self._clone(self._q.filter(Q(**nothing)))

    def filter(self, *args: Q, **kwargs: Any) -> Self:
        """Rows matching every lookup (``username__startswith="a", is_active=True``) and
        every ``Q`` object."""
        return self._clone(self._q.filter(Q(*args, **kwargs)))

    def exclude(self, *args: Q, **kwargs: Any) -> Self:
        """Rows not matching the lookups (Django's NULL semantics)."""
        return self._clone(self._q.filter(~Q(*args, **kwargs)))

    def order_by(self, *fields: str) -> Self:
        """Sorted by fields, ``-`` for descending: ``order_by("-created_at", "id")``."""
        return self._clone(self._q.order_by(list(fields)), tuple(fields))

    def limit(self, n: int) -> Self:
        """At most ``n`` rows."""
        if n < 0:
            raise ValueError("limit must be >= 0")
        return self._clone(self._q.limit(n))

    def offset(self, n: int) -> Self:
        """Skips ``n`` rows."""
        if n < 0:
            raise ValueError("offset must be >= 0")
        return self._clone(self._q.offset(n))

    def distinct(self, *fields: str) -> Self:
        """Without duplicate rows; ``distinct("country")`` keeps one row per value of the
        fields (PostgreSQL's ``DISTINCT ON``: the first in the order, which must start with
        those fields, as in Django). On SQLite ``distinct(fields)`` is
        ``errors.InvalidQuery``, as is an ordering not starting with them, before any SQL."""
        return self._clone(self._q.distinct(list(fields)))

    def only(self, *fields: str) -> Self:
        """Loads only these fields (and the primary key, always); reading another on an
        instance raises ``errors.NotLoaded`` naming the model and field. The other columns
        are selected as NULLs, so their data is never read. Replaces an earlier
        ``only``/``defer``; unknown names are ``errors.UnknownField``."""
        return self._clone(self._q.only(list(fields)))

    def defer(self, *fields: str) -> Self:
        """Leaves these fields unloaded (added to those already deferred; the primary key is
        always loaded); reading one raises ``errors.NotLoaded``."""
        return self._clone(self._q.defer(list(fields)))

    def select_related(self, *paths: str) -> Self:
        """Loads relations to one row in the same query, with JOINs:
        ``Post.objects.select_related("author__profile")``. A nullable key or a reverse
        one-to-one is a LEFT JOIN (``None`` where there is no row)."""
        return self._clone(self._q.select_related(list(paths)))

    def prefetch_related(self, *lookups: str | Prefetch) -> Self:
        """Loads relations with one more query per level, the parents' keys bound as one
        array: ``User.objects.prefetch_related("posts__comments", "posts__tags")``, or
        :class:`Prefetch` objects for a filtered query or another attribute."""
        specs: list[tuple[str, _chakra.Query | None, str | None]] = []
        for lk in lookups:
            if isinstance(lk, Prefetch):
                q = lk.queryset._q if lk.queryset is not None else None
                specs.append((lk.lookup, q, lk.to_attr))
            else:
                specs.append((lk, None, None))
        return self._clone(self._q.prefetch_related(specs))

    def annotate(self, *args: Aggregate, **kwargs: Any) -> Self:
        """Adds computed values: aggregates (``annotate(n_posts=Count("posts"))``, a
        relation counted in a correlated subquery), ``F`` arithmetic
        (``double=F("total") * 2``), ``Coalesce``, ``Lower``/``Upper``/``Length``,
        ``Cast``, ``Case``/``When``, ``Now()``. On model rows each value lands on the
        instance; after ``values("country")`` aggregates group by the values' fields and
        rows are dicts. ``filter`` on an aggregate annotation is ``HAVING``; ``order_by``
        takes annotation names. A name taken by a field is ``errors.AnnotationConflict``."""
        items: list[tuple[str, Any]] = []
        for a in args:
            if not isinstance(a, Aggregate):
                raise TypeError(f"annotate() takes positional aggregates only, got {a!r}")
            items.append((a.default_alias, a))
        items.extend(kwargs.items())
        q = self._q
        if self._mode != "models" and self._fields and not q.annotation_names():
            q = q.group_by(list(self._fields))
        q = q.annotate(items)
        fields = self._fields
        if self._mode != "models" and fields:
            fields = (*fields, *(name for name, _ in items))
        return self._keep(
            type(self)(self.model, q, self._mode, fields, self._session, self._ordering)
        )

    def values(self, *fields: str, **expressions: Any) -> ValuesQuerySet[M, dict[str, Any]]:
        """Rows as dicts of the given fields (every field when none given); keyword arguments
        add computed values under their names, as ``annotate`` does:
        ``values("username", lower=Lower("username"))``."""
        q = self.annotate(**expressions)._q if expressions else self._q
        names = (*fields, *expressions) if expressions else fields
        return self._keep(
            ValuesQuerySet(self.model, q, "dicts", names, self._session, self._ordering)
        )

    @overload
    def values_list(
        self, *fields: Any, flat: Literal[False] = False
    ) -> ValuesQuerySet[M, tuple[Any, ...]]: ...
    @overload
    def values_list(self, *fields: Any, flat: bool) -> ValuesQuerySet[M, Any]: ...
    def values_list(
        self, *fields: Any, flat: bool = False
    ) -> ValuesQuerySet[M, tuple[Any, ...]] | ValuesQuerySet[M, Any]:
        """Rows as tuples of the given fields, or expressions (``values_list("username",
        Lower("email"))``); ``flat=True`` with one field gives the values."""
        if flat and len(fields) != 1:
            raise errors.InvalidQuery(
                f"values_list(flat=True) on {self.model.__name__} takes exactly one field"
            )
        computed = {f"_values_list_{i}": f for i, f in enumerate(fields) if not isinstance(f, str)}
        q = self.annotate(**computed)._q if computed else self._q
        names = tuple(
            f if isinstance(f, str) else f"_values_list_{i}" for i, f in enumerate(fields)
        )
        return self._keep(
            ValuesQuerySet(
                self.model, q, "flat" if flat else "tuples", names, self._session, self._ordering
            )
        )

    @overload
    def __getitem__(self, k: slice) -> Self: ...
    @overload
    def __getitem__(self, k: int) -> Coroutine[Any, Any, R]: ...
    def __getitem__(self, k: slice | int) -> Self | Coroutine[Any, Any, R]:
        """``qs[10:20]`` is a queryset (OFFSET 10 LIMIT 10); ``await qs[3]`` is one object."""
        if isinstance(k, int):
            if k < 0:
                raise ValueError("negative indexing is not supported")
            return self._index(k)
        if not isinstance(k, slice) or k.step not in (None, 1):
            raise TypeError("querysets take integer indexes and slices without a step")
        start = k.start or 0
        if start < 0 or (k.stop is not None and k.stop < 0):
            raise ValueError("negative indexing is not supported")
        q = self._q
        base = q.offset_value or 0
        new_offset = base + start
        new_limit: int | None = None
        if k.stop is not None:
            new_limit = max(k.stop - start, 0)
        if q.limit_value is not None:
            remaining = max(q.limit_value - start, 0)
            new_limit = remaining if new_limit is None else min(new_limit, remaining)
        return self._clone(q.offset(new_offset or None).limit(new_limit))

    async def _index(self, i: int) -> R:
        rows = await self[i : i + 1]._fetch()
        if not rows:
            raise IndexError(f"{self.model.__name__} queryset index {i} out of range")
        return rows[0]

    # -- jobs -----------------------------------------------------------------------------

    def _pool(self) -> _chakra.PoolRef:
        """The pool this queryset's writes use: its session's, or its database's."""
        if self._session is not None:
            return self._session._pool
        return config.pool(database=self._db_name())

    def _target(self) -> _chakra.PoolRef | _chakra.TxHandle:
        if self._session is not None:
            if self._q.locked and self._session._tx is None:
                raise errors.TransactionError(
                    "select_for_update() locks rows until the transaction ends: run it inside "
                    "session.begin()"
                )
            return self._session._target()
        using = self._using
        if using[0] is not None or (_models_module or _models()).bound_models:
            self._check_one_database()  # (it returns at once otherwise)
        database = using[0] if using[0] is not None else self.model.__database__  # _db_name
        target = config.target(database=database, replica=using[1])
        if self._q.locked and not isinstance(target, _chakra.TxHandle):
            raise errors.TransactionError(
                "select_for_update() locks rows until a transaction ends: run it inside "
                "session.begin() (or through session.query(Model))"
            )
        return target

    def _all_job(self) -> _chakra.Job:
        if self._mode == "models":
            return self._q.fetch_job(self._target())
        return self._q.values_job(self._target(), list(self._fields), self._mode)

    def _get_job(
        self,
        args: tuple[Q, ...],
        kwargs: dict[str, Any],
        target: _chakra.PoolRef | _chakra.TxHandle | None = None,
    ) -> _chakra.Job:
        if target is None:
            target = self._target()
        if not args and len(kwargs) == 1:
            job = self._pk_get_job(kwargs, target)
            if job is not None:
                return job
        q = self._q.filter(Q(*args, **kwargs)) if args or kwargs else self._q
        detail = ", ".join([repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()])
        return q.get_job(target, detail)

    def _pk_get_job(
        self, kwargs: dict[str, Any], target: _chakra.PoolRef | _chakra.TxHandle
    ) -> _chakra.Job | None:
        """``get(pk=…)`` (one keyword) on a plain queryset: the core's cached statement, or
        ``None`` when it does not apply (then the general path runs, with its errors)."""
        ((name, value),) = kwargs.items()
        return self._q.pk_get_job(target, name, value, f"{name}={value!r}")

    def _aggregate_specs(
        self, args: tuple[Aggregate, ...], kwargs: dict[str, Aggregate]
    ) -> list[tuple[str, str, str | None, bool, Q | None]]:
        specs = []
        for a in args:
            if not isinstance(a, Aggregate):
                raise TypeError(f"aggregate() takes Count/Sum/Avg/Min/Max, got {a!r}")
            specs.append(a._spec(a.default_alias))
        for name, a in kwargs.items():
            if not isinstance(a, Aggregate):
                raise TypeError(f"aggregate({name}=...) takes Count/Sum/Avg/Min/Max, got {a!r}")
            specs.append(a._spec(name))
        if not specs:
            raise errors.InvalidQuery(
                f"aggregate() on {self.model.__name__} needs at least one aggregate"
            )
        return specs

    def _aggregate_job(
        self, args: tuple[Aggregate, ...], kwargs: dict[str, Aggregate]
    ) -> _chakra.Job:
        return self._q.aggregate_job(self._target(), self._aggregate_specs(args, kwargs))

    def aggregate_sql(
        self,
        dialect: DialectName,
        *args: Aggregate,
        **kwargs: Aggregate,
    ) -> str:
        """The statement :meth:`aggregate` runs, for ``dialect``."""
        return self._q.aggregate_sql(dialect, self._aggregate_specs(args, kwargs))

    def _update_job(self, kwargs: dict[str, Any]) -> _chakra.Job:
        return self._q.update_job(self._target(), kwargs)

    def _get_model_steps(
        self,
        kwargs: dict[str, Any],
        target: _chakra.PoolRef | _chakra.TxHandle | None = None,
    ) -> Steps[M]:
        """:meth:`get`'s steps, for the methods typed as returning a model
        (``get_or_create``, ``update_or_create``), run on ``target`` (default: the
        queryset's own)."""
        found: Any = yield from self._get_steps((), kwargs, target)
        obj: M = found
        return obj

    def _get_or_create(
        self, defaults: dict[str, Any] | None, kwargs: dict[str, Any]
    ) -> Steps[tuple[M, bool]]:
        # Django: the read runs alone; the create is :meth:`create` (its save hooks, clean(),
        # auto_now fields, in one transaction with the INSERT), in a savepoint inside a
        # surrounding transaction.
        try:
            obj = yield from self._get_model_steps(kwargs)
            return obj, False
        except self.model.DoesNotExist:
            pass
        params = {k: v for k, v in kwargs.items() if "__" not in k}
        params.update(defaults or {})
        target = self._target()
        if isinstance(target, _chakra.TxHandle):
            pool = self._pool()
            found: tuple[M, bool] = yield from self._create_or_find_steps(
                target, self.model(**params), kwargs, pool, self
            )
            return found
        try:
            obj = yield from self._create_steps(params)
        except errors.UniqueViolation as violation:
            # Created concurrently: read the winner's row.
            try:
                obj = yield from self._get_model_steps(kwargs)
            except self.model.DoesNotExist:
                raise violation from None
            return obj, False
        return obj, True

    def _create_or_find_steps(
        self,
        tx: _chakra.TxHandle,
        obj: M,
        kwargs: dict[str, Any],
        pool: _chakra.PoolRef,
        reader: BaseQuerySet[M, Any],
    ) -> Steps[tuple[M, bool]]:
        """Inserts ``obj`` in a savepoint of ``tx`` (with its save hooks): ``(obj, True)``.
        On a unique violation (a concurrent caller created the row first) the savepoint is
        rolled back and ``reader``'s row matching ``kwargs`` is returned, ``(row, False)``
        (the violation is raised again when there is none); any other error rolls back to
        the savepoint and is raised. ``tx`` goes on either way."""
        yield tx.savepoint_job()
        try:
            yield from self._insert_one_steps(tx, obj, pool)
        except errors.UniqueViolation as violation:
            yield tx.rollback_to_job()
            try:
                found = yield from reader._get_model_steps(kwargs, tx)
            except self.model.DoesNotExist:
                raise violation from None
            return found, False
        except BaseException:
            yield tx.rollback_to_job()
            raise
        yield tx.release_job()
        return obj, True

    def _update_or_create(
        self, defaults: dict[str, Any] | None, kwargs: dict[str, Any]
    ) -> Steps[tuple[M, bool]]:
        # Django: one transaction for the locking read (``SELECT … FOR UPDATE``; SQLite: its
        # write lock) and the write; the write is ``create()`` (in a savepoint: a row a
        # concurrent caller created first is read, locked, and updated instead) or
        # ``save(update_fields=defaults)``, with their save hooks.
        values = dict(defaults or {})
        pool = self._pool()

        def body(tx: _chakra.TxHandle) -> Steps[tuple[M, bool]]:
            locked = self._clone(self._q.for_update(False, False, []))
            try:
                obj = yield from locked._get_model_steps(kwargs, tx)
            except self.model.DoesNotExist:
                params = {k: v for k, v in kwargs.items() if "__" not in k}
                params.update(values)
                obj, created = yield from self._create_or_find_steps(
                    tx, self.model(**params), kwargs, pool, locked
                )
                if created:
                    return obj, True
            for k, v in values.items():
                setattr(obj, k, v)
            yield from self._update_one_steps(tx, obj, tuple(values), pool)
            return obj, False

        result: tuple[M, bool] = yield from hooks.in_transaction(pool, self._target(), body)
        return result

    # -- terminal operations --------------------------------------------------------------
    # Each is written once, as steps (a generator of jobs receiving their results); the async
    # method drives them through the event loop and its ``_sync`` twin on the calling thread,
    # so the two cannot drift (both attach rows to the queryset's session, for example).

    def all(self) -> Self:
        """The queryset itself (a copy), as in Django: ``await qs.all()`` is every matching
        row (model instances, or dicts/tuples/values after ``values()`` /
        ``values_list()``), and ``qs.all().delete()``, ``qs.all().count()`` chain."""
        return self._clone(self._q)

    def _chosen_db(self) -> str | None:
        """The database chosen for this query by name (``using()``, or the session's
        ``using``), which the objects it reads and writes remember; ``None``: none chosen
        (their model's database, which they find without being told)."""
        if self._session is not None:
            return self._session._using
        return self._using[0]

    def _placed(self, objs: list[Any]) -> list[Any]:
        """``objs`` (model rows), told the database they were read from or written to."""
        db = self._chosen_db()
        if db is not None and self._mode == "models":
            from .models import place

            place(objs, db)
        return objs

    def _attached(self, obj: Any) -> Any:
        """``obj`` (a model row) as the session's object for its row, when the queryset
        belongs to a session."""
        if obj is None or self._mode != "models":
            return obj
        self._placed([obj])
        if self._session is None:
            return obj
        return self._session._attach_loaded(obj, self._q.locked)

    def _all_steps(self) -> Steps[list[R]]:
        rows: list[R] = yield self._all_job()
        if self._session is not None and self._mode == "models":
            return [self._attached(o) for o in rows]
        return self._placed(rows)

    def _get_steps(
        self,
        args: tuple[Q, ...],
        kwargs: dict[str, Any],
        target: _chakra.PoolRef | _chakra.TxHandle | None = None,
    ) -> Steps[R]:
        if self._mode != "models":
            # ``values(…).get(…)``: the one row in the values' shape, as in Django.
            q = self._q.filter(Q(*args, **kwargs)) if args or kwargs else self._q
            limit = q.limit_value
            q = q.limit(_MAX_GET_RESULTS if limit is None else min(limit, _MAX_GET_RESULTS))
            where = self._target() if target is None else target
            rows: list[Any] = yield q.values_job(where, list(self._fields), self._mode)
            if len(rows) == 1:
                one: R = rows[0]
                return one
            raise self._get_error(len(rows), args, kwargs)
        obj: R = yield self._get_job(args, kwargs, target)
        attached: R = self._attached(obj)
        return attached

    def _get_error(
        self, count: int, args: tuple[Q, ...], kwargs: dict[str, Any]
    ) -> errors.ChakraError:
        name = self.model.__name__
        if count == 0:
            detail = ", ".join([repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()])
            suffix = f" ({detail})" if detail else ""
            return self.model.DoesNotExist(
                f"{name} matching query does not exist{suffix}", model=name, detail=detail
            )
        shown = f"more than {_MAX_GET_RESULTS - 1}" if count >= _MAX_GET_RESULTS else str(count)
        return self.model.MultipleObjectsReturned(
            f"get() returned more than one {name}: it returned {shown}", model=name, count=count
        )

    def _first_steps(self, last: bool) -> Steps[R | None]:
        if last and (self._q.limit_value is not None or self._q.offset_value is not None):
            # Django: "Cannot reverse a query once a slice has been taken."
            raise errors.InvalidQuery(
                f"last() on a sliced {self.model.__name__} queryset: the slice's last row "
                "cannot be read by reversing the order; order the other way and use first()"
            )
        if self._q.limit_value == 0:
            return None
        q = self._q.reversed() if last else self._q
        if self._mode != "models":
            # ``values(…).first()``: a dict, tuple or value, as in Django.
            job = (
                q.ordered_by_pk()
                .limit(1)
                .values_job(self._target(), list(self._fields), self._mode)
            )
            rows: list[Any] = yield job
            first: R | None = rows[0] if rows else None
            return first
        obj: R | None = yield q.first_job(self._target())
        attached: R | None = self._attached(obj)
        return attached

    def _in_bulk_steps(self, id_list: Iterable[Any] | None, field_name: str) -> Steps[dict[Any, M]]:
        if self._mode != "models":
            raise errors.InvalidQuery(
                f"in_bulk() on {self.model.__name__} returns model rows: call it before values()"
            )
        if self._q.limit_value is not None or self._q.offset_value is not None:
            raise errors.InvalidQuery(
                f"in_bulk() on a sliced {self.model.__name__} queryset: filter instead of slicing"
            )
        if field_name == "pk" and len(self.model._pk_names) > 1:
            return (yield from self._in_bulk_composite_steps(id_list))
        name = self.model.__chakra__.pk_name() if field_name == "pk" else field_name
        field = self.model._fields.get(name or "")
        if field is None or not (field.primary_key or field.unique):
            raise errors.InvalidQuery(
                f"in_bulk() on {self.model.__name__} needs a unique field, got {field_name!r}",
                model=self.model.__name__,
                field=field_name,
            )
        qs = self
        if id_list is not None:
            ids = list(id_list)
            if not ids:
                return {}
            qs = self.filter(**{f"{name}__in": ids})
        rows: list[Any] = yield from qs._all_steps()  # model rows: checked above
        return {getattr(o, name or ""): o for o in rows}

    def _in_bulk_composite_steps(self, id_list: Iterable[Any] | None) -> Steps[dict[Any, M]]:
        """``in_bulk()`` on a composite primary key, as Django 5.2's ``CompositePrimaryKey``:
        each key a tuple of one value per key field (a list is read as a tuple), the dict
        keyed by ``obj.pk`` tuples. ``pk__in`` in chunks of ``_IN_BULK_COMPOSITE_CHUNK`` keys
        (one condition per key field per key), so no statement outgrows a backend's
        parameter limit."""
        if id_list is None:
            every: list[Any] = yield from self._all_steps()  # model rows: checked by the caller
            return {o.pk: o for o in every}
        ids = [tuple(k) if isinstance(k, list) else k for k in id_list]
        out: dict[Any, M] = {}
        for i in range(0, len(ids), _IN_BULK_COMPOSITE_CHUNK):
            part = ids[i : i + _IN_BULK_COMPOSITE_CHUNK]
            rows: list[Any] = yield from self.filter(pk__in=part)._all_steps()
            out.update((o.pk, o) for o in rows)
        return out

    def _latest_steps(self, fields: tuple[str, ...], latest: bool) -> Steps[R]:
        which = "latest" if latest else "earliest"
        if not fields:
            raise errors.InvalidQuery(
                f"{which}() on {self.model.__name__} needs the field(s) to order by, "
                f"e.g. {which}('created_at')"
            )
        if self._q.limit_value is not None or self._q.offset_value is not None:
            raise errors.InvalidQuery(f"{which}() on a sliced {self.model.__name__} queryset")
        if latest:
            fields = tuple(f[1:] if f.startswith("-") else f"-{f}" for f in fields)
        obj: R | None = yield from self.order_by(*fields)._first_steps(False)
        if obj is None:
            raise self._get_error(0, (), {})
        return obj

    def _count_steps(self) -> Steps[int]:
        n: int = yield self._q.count_job(self._target(), list(self._fields) or None)
        return n

    def _aggregate_steps(
        self, args: tuple[Aggregate, ...], kwargs: dict[str, Aggregate]
    ) -> Steps[dict[str, Any]]:
        rows: list[dict[str, Any]] = yield self._aggregate_job(args, kwargs)
        return rows[0]

    def _exists_steps(self) -> Steps[bool]:
        found: bool = yield self._q.exists_job(self._target())
        return found

    def _create_steps(self, kwargs: dict[str, Any]) -> Steps[M]:
        obj = self.model(**kwargs)
        target = self._target()
        if not hooks.defines(self.model, hooks.SAVE):
            yield from self._insert_one_steps(target, obj, None)
            return obj
        pool = self._pool()

        def body(tx: _chakra.TxHandle) -> Steps[None]:
            yield from self._insert_one_steps(tx, obj, pool)

        yield from hooks.in_transaction(pool, target, body)
        return obj

    def _insert_one_steps(
        self,
        target: _chakra.PoolRef | _chakra.TxHandle,
        obj: M,
        pool: _chakra.PoolRef | None,
    ) -> Steps[None]:
        """Inserts the new ``obj`` on ``target``: ``clean()``, ``auto_now``/``auto_now_add``,
        the INSERT, and around them the model's save hooks when ``target`` is the transaction
        they share (on ``pool``)."""
        ambient = (
            (pool, target)
            if pool is not None
            and isinstance(target, _chakra.TxHandle)
            and hooks.defines(self.model, hooks.SAVE)
            else None
        )
        ctx = hooks.HookContext(self._session)
        if ambient is not None:
            yield hooks.HookCall(obj.pre_save, "pre_save", (ctx,), ambient)
        obj.full_clean()
        obj._stamp(True)
        yield self.model.__chakra__.insert_job(target, [obj])
        self._placed([obj])
        if ambient is not None:
            yield hooks.HookCall(obj.post_save, "post_save", (ctx, True), ambient)

    def _update_one_steps(
        self,
        target: _chakra.PoolRef | _chakra.TxHandle,
        obj: M,
        names: tuple[str, ...],
        pool: _chakra.PoolRef,
    ) -> Steps[None]:
        """``obj.save(update_fields=names)`` on ``target``, with the model's save hooks when
        ``target`` is the transaction they share (on ``pool``); nothing (no write, no hook)
        when ``names`` is empty, as in Django."""
        if not names:
            return
        ambient = (
            (pool, target)
            if isinstance(target, _chakra.TxHandle) and hooks.defines(self.model, hooks.SAVE)
            else None
        )
        ctx = hooks.HookContext(self._session, names)
        if ambient is not None:
            yield hooks.HookCall(obj.pre_save, "pre_save", (ctx,), ambient)
        job = obj._save_job(target, names)
        if job is not None:
            yield job
        if self._session is not None:
            self._session._written(obj, names)
        if ambient is not None:
            yield hooks.HookCall(obj.post_save, "post_save", (ctx, False), ambient)

    def _bulk_create_steps(
        self,
        objs: Iterable[M],
        ignore_conflicts: bool,
        update_conflicts: bool,
        unique_fields: Sequence[str] | None,
        update_fields: Sequence[str] | None,
        return_ids: bool,
        batch_size: int | None = None,
    ) -> Steps[list[M]]:
        objs = list(objs)
        _check_batch_size(batch_size)
        full_clean, clean = _models().PLAIN_CLEAN
        # ``full_clean`` for each object, unless no class among them overrides it or
        # ``clean`` (then it does nothing: the calls are skipped).
        classes: set[type[Any]] = set(map(type, objs))
        if any(t.full_clean is not full_clean or t.clean is not clean for t in classes):
            for o in objs:
                o.full_clean()
        # auto_now / auto_now_add: one instant for the whole batch, as the core gives it.
        stamps = self.model.__chakra__.auto_now_values(True)
        if stamps:
            for o in objs:
                for name, value in stamps:
                    setattr(o, name, value)
        if batch_size is None or len(objs) <= batch_size:
            yield self._insert_job(
                objs, ignore_conflicts, update_conflicts, unique_fields, update_fields, return_ids
            )
            self._placed(objs)
            return objs

        # Django's ``batch_size``: one INSERT per batch, all of them in one transaction (the
        # surrounding one, or one of its own), so a failing batch leaves none of them.
        def body(tx: _chakra.TxHandle) -> Steps[None]:
            for start in range(0, len(objs), batch_size):
                yield self._insert_job(
                    objs[start : start + batch_size],
                    ignore_conflicts,
                    update_conflicts,
                    unique_fields,
                    update_fields,
                    return_ids,
                    tx,
                )

        yield from hooks.in_transaction(self._pool(), self._target(), body)
        self._placed(objs)
        return objs

    def _bulk_update_steps(
        self, objs: Iterable[M], fields: Sequence[str], batch_size: int | None = None
    ) -> Steps[int]:
        objs = list(objs)
        _check_batch_size(batch_size)
        fields = list(fields)
        job = self.model.__chakra__.bulk_update_job(self._target(), objs, fields)
        if not objs:
            return 0
        if batch_size is None or len(objs) <= batch_size:
            n: int = yield job
            return n

        # One UPDATE per batch, in one transaction (the surrounding one, or its own).
        def body(tx: _chakra.TxHandle) -> Steps[int]:
            total = 0
            for start in range(0, len(objs), batch_size):
                part = objs[start : start + batch_size]
                done: int = yield self.model.__chakra__.bulk_update_job(tx, part, fields)
                total += done
            return total

        total: int = yield from hooks.in_transaction(self._pool(), self._target(), body)
        return total

    def _update_steps(self, kwargs: dict[str, Any]) -> Steps[int]:
        n: int = yield self._update_job(kwargs)
        return n

    def _delete_steps(self) -> Steps[int]:
        n: int = yield self._q.delete_job(self._target())
        return n

    async def _fetch(self) -> list[R]:
        return await _bridge.drive(self._all_steps())

    async def get(self, *args: Q, **kwargs: Any) -> R:
        """The one matching row; ``Model.DoesNotExist`` or
        ``Model.MultipleObjectsReturned`` otherwise."""
        if not args and len(kwargs) == 1 and self._session is None and self._mode == "models":
            using = self._using
            if using[0] is None and not (_models_module or _models()).bound_models:
                # ``get(pk=…)`` on the model's database: one call runs it (``_target``'s
                # checks are the core's: a locked or narrowed query is ``NotImplemented``);
                # a SQLite get that completes inline needs no future (``start_inline``).
                ((name, value),) = kwargs.items()
                target = config.target(database=self.model.__database__, replica=using[1])
                got = self._q.pk_get_run(target, name, value, False)
                if got is not NotImplemented:
                    if type(got) is _chakra.Job:
                        got = await _bridge.run(got)
                    return got  # type: ignore[no-any-return]
            # ``get(pk=…)`` outside a session: the one job, without the generator of steps
            # (what ``_get_steps`` does for it, less its per-call cost).
            job = self._pk_get_job(kwargs, self._target())
            if job is not None:
                obj: R = await _bridge.run(job)
                if self._using[0] is not None:
                    self._placed([obj])
                return obj
        return await _bridge.drive(self._get_steps(args, kwargs))

    async def first(self) -> R | None:
        """The first row (by primary key unless ordered), or ``None``."""
        return await _bridge.drive(self._first_steps(False))

    async def last(self) -> R | None:
        """The last row (by primary key unless ordered), or ``None``."""
        return await _bridge.drive(self._first_steps(True))

    async def count(self) -> int:
        """How many rows match."""
        return await _bridge.drive(self._count_steps())

    async def in_bulk(
        self, id_list: Iterable[Any] | None = None, *, field_name: str = "pk"
    ) -> dict[Any, M]:
        """The rows whose ``field_name`` (the primary key, or another unique field) is in
        ``id_list``, as a dict from that value to the object (every row when ``id_list`` is
        ``None``; no statement for an empty list), as in Django."""
        return await _bridge.drive(self._in_bulk_steps(id_list, field_name))

    async def latest(self, *fields: str) -> R:
        """The row with the greatest ``fields`` (``latest("created_at")``; ``-`` reverses),
        ``DoesNotExist`` when there is none, as in Django."""
        return await _bridge.drive(self._latest_steps(fields, True))

    async def earliest(self, *fields: str) -> R:
        """The row with the smallest ``fields``; ``DoesNotExist`` when there is none."""
        return await _bridge.drive(self._latest_steps(fields, False))

    async def aggregate(self, *args: Aggregate, **kwargs: Aggregate) -> dict[str, Any]:
        """Aggregates over the matching rows, as a dict:
        ``await qs.aggregate(n=Count("id"), total=Sum("balance"))`` is
        ``{"n": 3, "total": Decimal("12.50")}``. Positional aggregates are named
        ``<field>__<function>`` (``balance__sum``). Values have the field's type (a
        ``Decimal`` sum stays exact); sums, averages, minimums and maximums are ``None``
        over no rows, counts 0."""
        return await _bridge.drive(self._aggregate_steps(args, kwargs))

    async def exists(self) -> bool:
        """Whether any row matches."""
        return await _bridge.drive(self._exists_steps())

    async def create(self, **kwargs: Any) -> M:
        """Inserts one object and returns it with its generated fields."""
        return await _bridge.drive(self._create_steps(kwargs))

    def _insert_job(
        self,
        objs: list[M],
        ignore_conflicts: bool,
        update_conflicts: bool,
        unique_fields: Sequence[str] | None,
        update_fields: Sequence[str] | None,
        return_ids: bool = True,
        target: _chakra.PoolRef | _chakra.TxHandle | None = None,
    ) -> _chakra.Job:
        conflict: tuple[list[str], list[str]] | None = None
        if not return_ids and (ignore_conflicts or update_conflicts):
            raise errors.InvalidQuery(
                "bulk_create(return_ids=False) takes no ignore_conflicts or update_conflicts"
            )
        if ignore_conflicts and update_conflicts:
            raise errors.InvalidQuery(
                "bulk_create(): ignore_conflicts and update_conflicts are mutually exclusive"
            )
        if update_conflicts:
            if not update_fields:
                raise errors.InvalidQuery("bulk_create(update_conflicts=True) needs update_fields")
            conflict = (list(unique_fields or ()), list(update_fields))
        elif ignore_conflicts:
            conflict = (list(unique_fields or ()), [])
        return self.model.__chakra__.insert_job(
            self._target() if target is None else target, objs, conflict, return_ids
        )

    async def bulk_create(
        self,
        objs: Iterable[M],
        *,
        ignore_conflicts: bool = False,
        update_conflicts: bool = False,
        unique_fields: Sequence[str] | None = None,
        update_fields: Sequence[str] | None = None,
        return_ids: bool = True,
        batch_size: int | None = None,
    ) -> list[M]:
        """Inserts objects in one statement (chunked when large); sets their keys.
        ``update_conflicts=True, unique_fields=[...], update_fields=[...]`` updates the rows
        that conflict on ``unique_fields`` instead (their keys are written back too);
        ``ignore_conflicts=True`` skips them (then no keys are written back), as in Django.
        ``return_ids=False`` inserts without ``RETURNING`` (nothing decoded, no keys written
        back): faster for loads that do not need them. ``batch_size=n`` sends at most ``n``
        objects per statement, all the statements in one transaction (the surrounding one,
        or one of its own), as in Django."""
        return await _bridge.drive(
            self._bulk_create_steps(
                objs,
                ignore_conflicts,
                update_conflicts,
                unique_fields,
                update_fields,
                return_ids,
                batch_size,
            )
        )

    async def bulk_update(
        self, objs: Iterable[M], fields: Sequence[str], batch_size: int | None = None
    ) -> int:
        """Writes ``fields`` of each object by primary key in one statement (PostgreSQL:
        ``UPDATE … FROM unnest(…)``, SQLite: ``UPDATE … FROM json_each(…)``); returns the
        number of rows updated. Unknown fields and the primary key fail before any SQL.
        ``batch_size=n``: at most ``n`` objects per statement, all in one transaction."""
        return await _bridge.drive(self._bulk_update_steps(objs, fields, batch_size))

    async def get_or_create(
        self, defaults: dict[str, Any] | None = None, **kwargs: Any
    ) -> tuple[M, bool]:
        """``(object, created)``: the matching row, or a new one from the lookups and
        ``defaults``, created as :meth:`create` does (``clean()``, ``auto_now`` fields, the
        save hooks with ``created=True``, in one transaction with the INSERT)."""
        return await _bridge.drive(self._get_or_create(defaults, kwargs))

    async def update_or_create(
        self, defaults: dict[str, Any] | None = None, **kwargs: Any
    ) -> tuple[M, bool]:
        """``(object, created)``: the matching row updated with ``defaults`` (as
        ``save(update_fields=defaults)``: ``clean()``, the save hooks with ``created=False``;
        nothing is written for empty ``defaults``), or a new one created as :meth:`create`
        does. The read locks the row (``SELECT … FOR UPDATE``) and runs in one transaction
        with the write: the surrounding one, or one of its own."""
        return await _bridge.drive(self._update_or_create(defaults, kwargs))

    async def update(self, **kwargs: Any) -> int:
        """Sets fields on every matching row (values or ``F`` expressions); returns the
        number of rows."""
        return await _bridge.drive(self._update_steps(kwargs))

    async def delete(self) -> int:
        """Deletes every matching row; returns the number of rows."""
        return await _bridge.drive(self._delete_steps())

    def __await__(self) -> Generator[Any, None, list[R]]:
        """``await qs``: every matching row."""
        return self._fetch().__await__()

    # The coroutine protocol, so a queryset is accepted where a coroutine is expected
    # (``asyncio.run(User.objects.all())``, ``asyncio.create_task(qs)``); it drives one
    # fetch, created on first use.
    def _coroutine(self) -> Any:
        if self._coro is None:
            self._coro = self._fetch()
        return self._coro

    def send(self, value: Any) -> Any:
        """Coroutine protocol (see :meth:`__await__`)."""
        return self._coroutine().send(value)

    def throw(self, *args: Any) -> Any:
        """Coroutine protocol."""
        return self._coroutine().throw(*args)

    def close(self) -> None:
        """Coroutine protocol."""
        if self._coro is not None:
            self._coro.close()

    async def __aiter__(self) -> AsyncIterator[R]:
        """``async for obj in qs``: model rows streamed as :meth:`iterator` does (chunks of
        2000); after ``values()``/``values_list()`` or with relations to load, the rows of
        one query."""
        if self._mode != "models" or self._q.loads_relations:
            for obj in await self._fetch():
                yield obj
            return
        async for model_row in self.iterator():
            yield cast("R", model_row)  # model rows: ``R`` is the model here

    def _chunk_cursor(self, chunk_size: int) -> _chakra.ChunkCursor:
        if self._mode != "models":
            raise errors.InvalidQuery(
                f"iterator() on {self.model.__name__} streams model rows, not values(): "
                "fetch values with `await qs`"
            )
        if chunk_size < 1:
            raise errors.InvalidQuery(
                f"iterator() on {self.model.__name__} needs chunk_size >= 1, got {chunk_size}"
            )
        return self._q.chunks(chunk_size)

    def _chunk_objects(self, objs: list[M]) -> list[M]:
        self._placed(objs)
        if self._session is not None:
            return [self._session._attach_loaded(o, self._q.locked) for o in objs]
        return objs

    async def iterator(self, chunk_size: int = 2000) -> AsyncIterator[M]:
        """``async for obj in qs.iterator(chunk_size=2000)``: the rows read ``chunk_size``
        per statement, so memory holds one chunk, not the result. Unordered (or ordered by
        the primary key) querysets continue after each chunk's last key (``WHERE pk > last
        ORDER BY pk LIMIT n``: no server-side cursor, fine behind transaction poolers, no
        row read twice); any other ordering pages with ``LIMIT``/``OFFSET`` (the key as a
        tie-breaker), where rows inserted or deleted meanwhile can be skipped or read twice.
        Slices are honoured; ``select_related``/``prefetch_related`` are not supported."""
        cursor = self._chunk_cursor(chunk_size)
        while (job := cursor.next_job(self._target())) is not None:
            for obj in self._chunk_objects(await _bridge.run(job)):
                yield obj

    def iterator_sync(self, chunk_size: int = 2000) -> Iterator[M]:
        """Synchronous :meth:`iterator`: ``for obj in qs.iterator_sync(chunk_size=2000)``."""
        cursor = self._chunk_cursor(chunk_size)
        while (job := cursor.next_job(self._target())) is not None:
            yield from self._chunk_objects(_bridge.run_sync(job))

    # -- raw SQL --------------------------------------------------------------------------

    def _raw_job(self, sql: str, params: Sequence[Any]) -> _chakra.Job:
        return _chakra.raw_job(self.model.__chakra__, self._target(), sql, params)

    async def raw(self, sql: str, params: Sequence[Any] = ()) -> list[M]:
        """Rows of hand-written SQL as instances of the model:
        ``await User.objects.raw("SELECT * FROM users WHERE id = %s", [1])``. Placeholders
        are ``%s`` (``%%`` is a literal ``%``; quoted text and comments are left alone),
        every value is bound, never formatted in; a parameter count that does not match is
        ``errors.InvalidQuery`` before any SQL. Columns are matched to fields by name (extra
        columns are ignored); a field without its column is ``errors.DecodeError`` naming
        the model and field. The queryset's filters do not apply."""
        return self._raw_attached(await _bridge.run(self._raw_job(sql, params)))

    def raw_sync(self, sql: str, params: Sequence[Any] = ()) -> list[M]:
        """Synchronous :meth:`raw`."""
        return self._raw_attached(_bridge.run_sync(self._raw_job(sql, params)))

    def _raw_attached(self, rows: list[M]) -> list[M]:
        self._placed(rows)
        if self._session is not None:
            return [self._session._attach_loaded(o, False) for o in rows]
        return rows

    # -- terminal, sync (the same steps, run on the calling thread) -----------------------

    def all_sync(self) -> list[R]:
        """Synchronous :meth:`all`: every matching row."""
        return _bridge.drive_sync(self._all_steps())

    def get_sync(self, *args: Q, **kwargs: Any) -> R:
        """Synchronous :meth:`get`."""
        if not args and len(kwargs) == 1 and self._session is None and self._mode == "models":
            using = self._using
            if using[0] is None and not (_models_module or _models()).bound_models:
                ((name, value),) = kwargs.items()  # as in `get`
                target = config.target(database=self.model.__database__, replica=using[1])
                got = self._q.pk_get_run(target, name, value, True)
                if got is not NotImplemented:
                    return got  # type: ignore[no-any-return]
            job = self._pk_get_job(kwargs, self._target())  # as in `get`
            if job is not None:
                obj: R = job.run_sync()
                if self._using[0] is not None:
                    self._placed([obj])
                return obj
        return _bridge.drive_sync(self._get_steps(args, kwargs))

    def first_sync(self) -> R | None:
        """Synchronous :meth:`first`."""
        return _bridge.drive_sync(self._first_steps(False))

    def last_sync(self) -> R | None:
        """Synchronous :meth:`last`."""
        return _bridge.drive_sync(self._first_steps(True))

    def count_sync(self) -> int:
        """Synchronous :meth:`count`."""
        return _bridge.drive_sync(self._count_steps())

    def in_bulk_sync(
        self, id_list: Iterable[Any] | None = None, *, field_name: str = "pk"
    ) -> dict[Any, M]:
        """Synchronous :meth:`in_bulk`."""
        return _bridge.drive_sync(self._in_bulk_steps(id_list, field_name))

    def latest_sync(self, *fields: str) -> R:
        """Synchronous :meth:`latest`."""
        return _bridge.drive_sync(self._latest_steps(fields, True))

    def earliest_sync(self, *fields: str) -> R:
        """Synchronous :meth:`earliest`."""
        return _bridge.drive_sync(self._latest_steps(fields, False))

    def aggregate_sync(self, *args: Aggregate, **kwargs: Aggregate) -> dict[str, Any]:
        """Synchronous :meth:`aggregate`."""
        return _bridge.drive_sync(self._aggregate_steps(args, kwargs))

    def exists_sync(self) -> bool:
        """Synchronous :meth:`exists`."""
        return _bridge.drive_sync(self._exists_steps())

    def create_sync(self, **kwargs: Any) -> M:
        """Synchronous :meth:`create` (an ``async def`` hook is refused before any SQL)."""
        hooks.check_sync(self.model, hooks.SAVE)
        return _bridge.drive_sync(self._create_steps(kwargs))

    def bulk_create_sync(
        self,
        objs: Iterable[M],
        *,
        ignore_conflicts: bool = False,
        update_conflicts: bool = False,
        unique_fields: Sequence[str] | None = None,
        update_fields: Sequence[str] | None = None,
        return_ids: bool = True,
        batch_size: int | None = None,
    ) -> list[M]:
        """Synchronous :meth:`bulk_create`."""
        return _bridge.drive_sync(
            self._bulk_create_steps(
                objs,
                ignore_conflicts,
                update_conflicts,
                unique_fields,
                update_fields,
                return_ids,
                batch_size,
            )
        )

    def bulk_update_sync(
        self, objs: Iterable[M], fields: Sequence[str], batch_size: int | None = None
    ) -> int:
        """Synchronous :meth:`bulk_update`."""
        return _bridge.drive_sync(self._bulk_update_steps(objs, fields, batch_size))

    def get_or_create_sync(
        self, defaults: dict[str, Any] | None = None, **kwargs: Any
    ) -> tuple[M, bool]:
        """Synchronous :meth:`get_or_create` (an ``async def`` hook is refused before any
        SQL)."""
        hooks.check_sync(self.model, hooks.SAVE)
        return _bridge.drive_sync(self._get_or_create(defaults, kwargs))

    def update_or_create_sync(
        self, defaults: dict[str, Any] | None = None, **kwargs: Any
    ) -> tuple[M, bool]:
        """Synchronous :meth:`update_or_create` (an ``async def`` hook is refused before any
        SQL)."""
        hooks.check_sync(self.model, hooks.SAVE)
        return _bridge.drive_sync(self._update_or_create(defaults, kwargs))

    def update_sync(self, **kwargs: Any) -> int:
        """Synchronous :meth:`update`."""
        return _bridge.drive_sync(self._update_steps(kwargs))

    def delete_sync(self) -> int:
        """Synchronous :meth:`delete`."""
        return _bridge.drive_sync(self._delete_steps())

    # -- set operations -------------------------------------------------------------------

    def _values_fields(self) -> list[str] | None:
        return None if self._mode == "models" else list(self._fields)

    def _combine(self, op: str, others: tuple[BaseQuerySet[Any, R], ...], all: bool) -> Self:
        q = self._q
        for other in others:
            if (self._mode == "models") != (other._mode == "models"):
                raise errors.InvalidQuery(
                    f"{op}() of model rows with values() rows: give both sides the same shape"
                )
            q = q.combine(op, all, other._q, self._values_fields(), other._values_fields())
        return self._clone(q, ())

    def union(self, *others: BaseQuerySet[Any, R], all: bool = False) -> Self:
        """The rows of this queryset or any of ``others``, without duplicates (``UNION``;
        ``all=True`` keeps them), as Django's ``union``. Both sides return the same shape:
        the same model, or ``values()`` / ``values_list()`` of as many fields of the same
        types. Orderings of the members are dropped; order, slice, count or fetch the
        combined queryset (``filter()`` and the like on it are ``InvalidQuery``)."""
        return self._combine("union", others, all)

    def intersection(self, *others: BaseQuerySet[Any, R]) -> Self:
        """The rows this queryset shares with every one of ``others`` (``INTERSECT``)."""
        return self._combine("intersection", others, False)

    def difference(self, *others: BaseQuerySet[Any, R]) -> Self:
        """The rows of this queryset that none of ``others`` returns (``EXCEPT``)."""
        return self._combine("difference", others, False)

    # -- the database's plan ---------------------------------------------------------------

    def _explain_steps(self) -> Steps[str]:
        plan: list[str] = yield self._q.explain_job(self._target(), self._values_fields())
        return plan[0]

    async def explain(self) -> str:
        """The database's plan for the statement this queryset runs: PostgreSQL's
        ``EXPLAIN`` text, SQLite's ``EXPLAIN QUERY PLAN`` (one node a line, indented by
        depth). The statement is built and bound as it would run; nothing is executed."""
        return await _bridge.drive(self._explain_steps())

    def explain_sync(self) -> str:
        """Synchronous :meth:`explain`."""
        return _bridge.drive_sync(self._explain_steps())

    # -- introspection --------------------------------------------------------------------

    def sql(self, dialect: DialectName = "postgres") -> str:
        """The SELECT this queryset runs, for ``dialect`` (``"postgres"``, ``"postgresql"``,
        ``"pg"``, ``"sqlite"``, ``"sqlite3"``, ``"mysql"``, ``"mariadb"``; any case at run
        time); another name raises ``ConfigError`` listing these."""
        fields = list(self._fields) if self._mode != "models" else []
        return self._q.sql(dialect, fields or None)

    def ir(self) -> str:
        """The filter in the core's IR (debug form)."""
        return self._q.ir()

    def __repr__(self) -> str:
        return f"<QuerySet {self.model.__name__}: {self.sql()}>"


class QuerySet(BaseQuerySet[M, M], metaclass=ABCMeta):
    """A lazy query over the rows of ``model``, read as model instances: ``await qs`` is a
    ``list[M]``, ``await qs.get(...)`` an ``M``, ``await qs.first()`` an ``M | None``.
    ``values()`` / ``values_list()`` give a :class:`ValuesQuerySet`."""

    __slots__ = ()


class ValuesQuerySet(BaseQuerySet[M, R]):
    """The queryset ``values()`` / ``values_list()`` return: the same query, each row read
    as an ``R`` (``dict[str, Any]`` for ``values()``, ``tuple[Any, ...]`` for
    ``values_list()``, the value itself for ``values_list(field, flat=True)``). At run time
    it also passes ``isinstance(qs, QuerySet)`` (the lookups and subqueries that take a
    queryset take either); type checkers keep the two apart, so a row's type stays exact."""

    __slots__ = ()


QuerySet.register(ValuesQuerySet)


_new_object = object.__new__
_NO_USING: tuple[str | None, bool | None] = (None, None)


class Manager(Generic[M]):
    """``Model.objects``: a fresh :class:`QuerySet` over every row on each access."""

    def __get__(self, obj: object | None, owner: type[M]) -> QuerySet[M]:
        if obj is not None:
            raise AttributeError("objects is reachable from the model class, not an instance")
        # ``QuerySet(owner)`` with its defaults, set here without the ``__init__`` call
        # (one Python frame and the type call's ``__init__`` lookup less per access; a
        # ``Model.objects.get(...)`` pays it on every get). A new object each time.
        qs: QuerySet[M] = _new_object(QuerySet)
        qs.model = owner
        qs._q = owner.__chakra__.query()
        qs._mode = "models"
        qs._fields = ()
        qs._session = None
        qs._ordering = ()
        qs._coro = None
        qs._using = _NO_USING
        return qs


def field_names(model: type[Model]) -> Sequence[str]:
    """The model's field names in declaration order."""
    return model.__chakra__.field_names()
