"""``Model``: declare a table as a class; the metaclass registers its metadata with the
core, which builds instances straight from rows (no ``__init__`` per row)."""

from __future__ import annotations

import copy
import re
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from . import _bridge, _chakra, config, errors, hooks
from .fields import NOW, Field, ForeignKey, ManyToMany, Reverse, _KeyField, _Relation
from .model_init import class_attr, compiled_init
from .query import Manager
from .types import JSON, Array, BigInteger

if TYPE_CHECKING:
    from typing_extensions import Self

if sys.version_info >= (3, 11):
    from typing import dataclass_transform
else:  # pragma: no cover - Python 3.10 reads the decorator from typing_extensions if present
    try:
        from typing_extensions import dataclass_transform
    except ImportError:

        def dataclass_transform(**_: Any) -> Any:
            return lambda cls: cls


__all__ = ["Model", "ModelBase", "registry"]

registry: dict[str, type[Model]] = {}
#: The registered models bound to a named database (``__database__``): while there are
#: none, a query needs no check that it stays on one database.
bound_models: list[type[Model]] = []
#: Model name → database, from the configured databases' ``models = [...]`` lists
#: (``None``: not read yet); a model registered without ``__database__`` takes it.
listed_bindings: dict[str, str] | None = None
#: The models bound by such a list (not by their own ``__database__``).
_bound_by_list: set[str] = set()


def _listed() -> dict[str, str]:
    """The configured databases' model lists, read once (again after ``configure``)."""
    global listed_bindings
    if listed_bindings is None:
        try:
            listed_bindings = _chakra.database_models()
        except errors.ChakraError:
            listed_bindings = {}  # a bad chakra.toml is reported by the first query
    return listed_bindings


"""Every registered model class by name (relations name their target by it)."""


def _default_table(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


# For type checkers, a model's constructor takes its annotated attributes as optional keyword
# arguments of their value types (``title: Field[str] = Field(String(200))`` gives
# ``Book(title: str = ...)``; a relation annotated ``ForeignKey[Author, int]`` takes an
# ``Author``), as the run-time ``Model.__init__`` does. ``Field`` is deliberately not a field
# specifier: every field is optional when constructing (an unset field takes its default, or
# NULL / the database's value), as at run time.
@dataclass_transform(kw_only_default=True, eq_default=False)
class ModelBase(type):
    """Collects a model's fields and relations and registers them with the core."""

    def __new__(
        mcls, name: str, bases: tuple[type, ...], ns: dict[str, Any], **kw: Any
    ) -> ModelBase:
        cls = super().__new__(mcls, name, bases, ns, **kw)
        if ns.get("__abstract__", False) or not any(isinstance(b, ModelBase) for b in bases):
            return cls
        fields: dict[str, Field[Any]] = {}
        relations: dict[str, _Relation] = {}
        # Inherited from abstract bases first, then this class's own, in declaration order.
        for base in reversed(cls.__mro__[1:]):
            for k, v in vars(base).items():
                if isinstance(v, Field) and base.__dict__.get("__abstract__"):
                    fields[k] = copy.copy(v)
        # ``author_id = author.key_field()``: the key a foreign key adds, declared to give it
        # a static type; the relation places it (checked below).
        declared_keys = {k: v for k, v in ns.items() if isinstance(v, _KeyField)}
        for k, v in ns.items():
            if isinstance(v, _KeyField):
                pass
            elif isinstance(v, Field):
                fields[k] = v
            elif isinstance(v, _Relation):
                relations[k] = v
                if isinstance(v, ForeignKey):
                    kf = v.key_field()
                    if declared_keys.get(kf.name) is kf:
                        del declared_keys[kf.name]
                    fields[kf.name] = kf
                    setattr(cls, kf.name, kf)
        for k, v in declared_keys.items():
            owner = next(
                (r for r in relations.values() if isinstance(r, ForeignKey) and r._key_field is v),
                None,
            )
            expected = f"{owner.attname!r}" if owner is not None else "'<relation>_id'"
            raise TypeError(
                f"{name}.{k} is the key_field() of a foreign key: it must be named {expected}, "
                f"in the model that declares the foreign key"
            )
        if not any(f.primary_key for f in fields.values()):
            auto: Field[int] = Field(BigInteger, primary_key=True)
            auto.name = "id"
            fields = {"id": auto, **fields}
            cls.id = auto  # type: ignore[attr-defined]
        keys = [f for f in fields.values() if f.primary_key]
        if len(keys) > 1:
            # A composite key: its integer fields are not auto-increment unless told.
            for f in keys:
                if f._auto_increment_inferred:
                    f.auto_increment = False
        for k, f in fields.items():
            f.name = k
            f.model = cls  # type: ignore[assignment]
            if k in vars(cls) and vars(cls)[k] is not f:
                setattr(cls, k, f)
        table = ns.get("__tablename__") or _default_table(name)
        for k, r in relations.items():
            r.name = k
            r.model = cls  # type: ignore[assignment]
            if isinstance(r, ManyToMany) and r.through is None:
                r.through = f"{table}_{k}"
        # ``__app__``: the migrations app a new table goes to (inherited from a base).
        app = getattr(cls, "__app__", None)
        if app is not None and not isinstance(app, str):
            raise TypeError(f"{name}.__app__ must be a string (an app name), got {app!r}")
        # ``__database__``: the named database the model's rows live in (inherited).
        bound = getattr(cls, "__database__", None)
        if bound is not None and not isinstance(bound, str):
            raise TypeError(
                f"{name}.__database__ must be a string (a database name), got {bound!r}"
            )
        # ``class Meta``: ``indexes`` and ``constraints`` (inherited from a base's Meta).
        meta = getattr(cls, "Meta", None)
        options = [
            o.spec(name) for o in [*getattr(meta, "indexes", ()), *getattr(meta, "constraints", ())]
        ]
        # ``Meta.ordering``: the default ordering (field names, ``-`` for descending),
        # checked by the core against the model's fields.
        ordering = getattr(meta, "ordering", None)
        if isinstance(ordering, str):
            ordering = [ordering]
        if ordering is not None and not (
            isinstance(ordering, (list, tuple)) and all(isinstance(o, str) for o in ordering)
        ):
            raise TypeError(f"{name}.Meta.ordering must be a list of field names, got {ordering!r}")
        handle = _chakra.register_model(
            cls,
            name,
            table,
            [f.spec() for f in fields.values()],
            [r.spec() for r in relations.values()],
            app,
            options,
            list(ordering) if ordering is not None else None,
        )
        model: Any = cls
        model.__chakra__ = handle
        model.__tablename__ = table
        model._fields = fields
        model._relations = relations
        model._foreign_keys = tuple(r for r in relations.values() if isinstance(r, ForeignKey))
        model._pk_name = handle.pk_name()
        model._pk_names = tuple(handle.pk_names())
        # What ``__init__`` starts a new object's ``__dict__`` from: every field's default
        # (a callable default is called per object, see ``_init_calls``) and the new mark.
        model._field_names = frozenset(fields)
        # Fields whose values can change in place (JSON, arrays): a session deep-copies them.
        model._mutable_fields = any(isinstance(f.type, (JSON, Array)) for f in fields.values())
        model._init_template = {
            k: None if _calls_default(f) else f.make_default() for k, f in fields.items()
        }
        model._init_template["_chakra_new"] = True
        model._init_calls = tuple((k, f.default) for k, f in fields.items() if _calls_default(f))
        model._version_name = next((n for n, f in fields.items() if f.version), None)
        # The constructor compiled for this class (``model_init``), unless the class or a
        # base other than ``Model`` brings its own ``__init__``.
        if getattr(class_attr(cls, "__init__"), "__chakra_compiled__", False) or (
            class_attr(cls, "__init__") is Model.__init__
        ):
            init = compiled_init(cls, fields, _generic_init)
            if init is not None:
                model.__init__ = init
        qual = ns.get("__qualname__", name)
        model.DoesNotExist = type(
            "DoesNotExist",
            (errors.DoesNotExist,),
            {"__module__": cls.__module__, "__qualname__": f"{qual}.DoesNotExist"},
        )
        model.MultipleObjectsReturned = type(
            "MultipleObjectsReturned",
            (errors.MultipleObjectsReturned,),
            {"__module__": cls.__module__, "__qualname__": f"{qual}.MultipleObjectsReturned"},
        )
        registry[name] = model
        if bound is None and name in _listed():
            bound = _listed()[name]
            model.__database__ = bound
            _bound_by_list.add(name)
        if bound is not None:
            bound_models.append(model)
        _link_reverse(model)
        return cls


def _generic_init(obj: Model, kwargs: dict[str, Any]) -> None:
    """``Model.__init__``: what a compiled constructor hands anything but the plain case."""
    Model.__init__(obj, **kwargs)


def _calls_default(f: Field[Any]) -> bool:
    """True when the field's default is a callable called for each new object."""
    return f.has_default() and f.default is not NOW and callable(f.default)


def _install_reverse(target: type[Model], forward: _Relation) -> None:
    """Gives ``target`` the accessor ``forward.back_populates`` unless it declares it."""
    name = forward.back_populates
    assert name is not None
    existing = target._relations.get(name)
    if existing is not None and not isinstance(existing, Reverse):
        return
    rev: Reverse[Any] = Reverse(forward)
    rev.model = target
    setattr(target, name, rev)
    target._relations[name] = rev


def _link_reverse(cls: type[Model]) -> None:
    """Installs the reverse accessors between ``cls`` and the registered models, whichever
    was defined first."""
    for r in list(cls._relations.values()):
        if r.back_populates and not isinstance(r, Reverse):
            target = registry.get(r.target)
            if target is not None:
                _install_reverse(target, r)
    for other in list(registry.values()):
        for r in list(other._relations.values()):
            if r.target == cls.__name__ and r.back_populates and not isinstance(r, Reverse):
                _install_reverse(cls, r)


def bind_listed(listed: dict[str, str]) -> None:
    """Binds the models the configured databases list (``models = [...]`` in
    ``[databases.NAME]``) as ``__database__`` does: a registered model without
    ``__database__`` takes its listed database; one whose ``__database__`` names another
    database is a ``ConfigError`` naming both."""
    global listed_bindings
    # Bindings an earlier list made are undone first (the new list says where they are).
    for name in _bound_by_list:
        cls = registry.get(name)
        if cls is not None:
            cls.__database__ = None
            if cls in bound_models:
                bound_models.remove(cls)
    _bound_by_list.clear()
    for name, db in listed.items():
        cls = registry.get(name)
        if cls is None:
            continue
        own = cls.__database__
        if own is None:
            cls.__database__ = db
            _bound_by_list.add(name)
            if cls not in bound_models:
                bound_models.append(cls)
        elif own != db:
            raise errors.ConfigError(
                f"model {name} has __database__ = {own!r} but is listed in the models of "
                f"database {db!r}: bind it to one"
            )
    listed_bindings = dict(listed)


def place(objs: Iterable[Any], database: str | None) -> None:
    """Records on each model object in ``objs`` (and the related objects loaded onto them)
    that its row lives on ``database``: its ``save()``, ``delete()``, ``refresh_from_db()``
    and relations go there (:meth:`Model._database`). ``None``: nothing to record (the
    object's model decides, as it would anyway)."""
    if database is None:
        return
    seen: set[int] = set()
    todo = [o for o in objs if isinstance(o, Model)]
    while todo:
        obj = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        d = obj.__dict__
        d["_chakra_db"] = database
        for name in type(obj)._relations:
            v = d.get(name)
            if isinstance(v, Model):
                todo.append(v)
            elif isinstance(v, (list, tuple)):
                todo.extend(o for o in v if isinstance(o, Model))


class Model(metaclass=ModelBase):
    """Base class of models.

    ``User(username="alice")`` makes an unsaved object with defaults filled in (unknown
    keywords raise ``chakra.errors.UnknownField``); save it with ``await user.save()``,
    ``User.objects.create(...)`` or a :class:`chakra.Session`.
    """

    __abstract__: ClassVar[bool] = True
    __tablename__: ClassVar[str]
    __app__: ClassVar[str | None] = None
    """The migrations app (folder under ``migrations/``) that ``chakra migrate make`` puts
    this model's table in when the table is new; a table created by an existing migration
    stays in that migration's app."""
    __database__: ClassVar[str | None] = None
    """The named database (``chakra.configure({...})``, ``[databases.NAME]``) this model's
    queries and writes go to; ``None``: the default database. ``QuerySet.using()`` and
    ``Session(using=...)`` choose another."""
    __chakra__: ClassVar[_chakra.ModelHandle]
    _fields: ClassVar[dict[str, Field[Any]]]
    _field_names: ClassVar[frozenset[str]]
    _mutable_fields: ClassVar[bool]
    _init_template: ClassVar[dict[str, Any]]
    _init_calls: ClassVar[tuple[tuple[str, Any], ...]]
    _relations: ClassVar[dict[str, _Relation]]
    _foreign_keys: ClassVar[tuple[ForeignKey[Any, Any], ...]]
    _pk_name: ClassVar[str | None]
    _pk_names: ClassVar[tuple[str, ...]]
    _version_name: ClassVar[str | None]
    DoesNotExist: ClassVar[type[errors.DoesNotExist]]
    MultipleObjectsReturned: ClassVar[type[errors.MultipleObjectsReturned]]
    objects: ClassVar[Manager[Self]] = Manager()

    def __init__(self, **kwargs: Any) -> None:
        cls = type(self)
        d = self.__dict__
        if kwargs.keys() <= cls._field_names:
            # Only fields given (the common case): defaults, then the values, in two
            # dict updates.
            d.update(cls._init_template)
            d.update(kwargs)
            for k, make in cls._init_calls:
                if k not in kwargs:
                    d[k] = make()
            return
        fields = cls._fields
        for k, v in kwargs.items():
            if k in fields:
                d[k] = v
            elif k in cls._relations and isinstance(cls._relations[k], ForeignKey):
                setattr(self, k, v)
            else:
                choices = ", ".join([*fields, *cls._relations])
                raise errors.UnknownField(
                    f"{cls.__name__}() got an unexpected keyword argument {k!r}; "
                    f"fields are: {choices}",
                    model=cls.__name__,
                    field=k,
                    choices=[*fields, *cls._relations],
                )
        for k, f in fields.items():
            if k not in d:
                d[k] = f.make_default()
        d["_chakra_new"] = True

    @property
    def pk(self) -> Any:
        """The primary-key value; for a composite key (several ``primary_key=True`` fields)
        a tuple of the key fields' values in declared order, or ``None`` while any is unset
        (as Django's ``CompositePrimaryKey``)."""
        cls = type(self)
        name = cls._pk_name
        if name is not None:
            return self.__dict__.get(name)
        names = cls._pk_names
        if not names:
            return None
        d = self.__dict__
        values = tuple(d.get(n) for n in names)
        return None if any(v is None for v in values) else values

    def _database(self) -> str | None:
        """The database this object's row lives on: the one it was read from or written to
        through ``using()`` or a ``Session(using=...)``, else its model's ``__database__``
        (``None``: the default database)."""
        db = self.__dict__.get("_chakra_db")
        return db if db is not None else type(self).__database__

    def __repr__(self) -> str:
        d = self.__dict__
        shown = ", ".join(f"{k}={d.get(k)!r}" for k in type(self)._fields)
        return f"{type(self).__name__}({shown})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        pk = self.pk
        if pk is None:
            return self is other
        return bool(pk == other.pk)

    def __hash__(self) -> int:
        pk = self.pk
        return hash((type(self), pk)) if pk is not None else id(self)

    async def fetch_related(self, *paths: str) -> None:
        """Loads relations onto this object, one statement per level:
        ``await post.fetch_related("author", "comments__commenter")``."""
        await _bridge.run(self._fetch_related_job(paths))
        place([self], self.__dict__.get("_chakra_db"))

    def fetch_related_sync(self, *paths: str) -> None:
        """Synchronous :meth:`fetch_related`."""
        _bridge.run_sync(self._fetch_related_job(paths))
        place([self], self.__dict__.get("_chakra_db"))

    def _fetch_related_job(self, paths: tuple[str, ...]) -> _chakra.Job:
        handle = type(self).__chakra__
        return handle.fetch_related_job(config.target(database=self._database()), self, list(paths))

    def _is_new(self) -> bool:
        return "_chakra_new" in self.__dict__

    def _fill_keys(self) -> None:
        """Sets keys left empty from related objects assigned before they were saved
        (``post.author = new_user``, then ``new_user`` inserted first)."""
        d = self.__dict__
        for r in type(self)._foreign_keys:
            v = d.get(r.name)
            if v is not None and d.get(r.attname) is None:
                d[r.attname] = v.pk

    def _new_parents(self) -> list[Model]:
        """Unsaved objects assigned to this object's foreign keys (inserted before it)."""
        d = self.__dict__
        out = []
        for r in type(self)._foreign_keys:
            v = d.get(r.name)
            if v is not None and v._is_new():
                out.append(v)
        return out

    def clean(self) -> None:
        """Checks the object before it is written; override it and raise
        :class:`chakra.errors.ValidationError` (a dict of messages per field, or a message
        about the whole object) to refuse the write. ``save()``, ``create()`` and
        ``bulk_create()`` call it (through :meth:`full_clean`) before any SQL runs."""

    def full_clean(self) -> None:
        """Runs :meth:`clean`; its :class:`~chakra.errors.ValidationError` is raised again
        naming the model."""
        try:
            self.clean()
        except errors.ValidationError as e:
            name = type(self).__name__
            raise errors.ValidationError(
                errors._validation_text(name, e.errors), model=name, errors=e.errors
            ) from e

    def _save_job(
        self,
        target: _chakra.PoolRef | _chakra.TxHandle,
        update_fields: Iterable[str] | None = None,
    ) -> _chakra.Job | None:
        handle = type(self).__chakra__
        self.full_clean()
        if update_fields is not None:
            names = list(update_fields)
            if self._is_new():
                raise errors.InvalidQuery(
                    f"save(update_fields=...) on a new {type(self).__name__}: it has no row to "
                    "update yet; save() it first"
                )
            self._check_field_names(names, "save(update_fields=...)")
            if not names:
                return None  # Django: an empty update_fields writes nothing.
            # Django: an auto_now field is set only when update_fields lists it.
            self._stamp(False, names)
            return handle.update_job(target, self, names)
        if self._is_new():
            self._fill_keys()
            self._stamp(True)
            return handle.insert_job(target, [self])
        self._stamp(False)
        return handle.update_job(target, self)

    def _stamp(self, inserting: bool, only: list[str] | None = None) -> None:
        """Sets the ``auto_now`` (and, when ``inserting``, ``auto_now_add``) fields to the
        time the core gives (``only``: just these fields)."""
        for name, value in type(self).__chakra__.auto_now_values(inserting):
            if only is None or name in only:
                setattr(self, name, value)

    def _check_field_names(self, names: list[str], what: str) -> None:
        cls = type(self)
        for n in names:
            if n not in cls._fields:
                raise errors.UnknownField(
                    f"{what}: {cls.__name__} has no field {n!r}",
                    model=cls.__name__,
                    field=n,
                    choices=list(cls._fields),
                )

    # -- hooks ------------------------------------------------------------------------------
    # Override these; they run inside the write's transaction (see chakra.hooks).

    def pre_save(self, ctx: hooks.HookContext) -> Any:
        """Called before the object is written (``save()``, ``create()``, a session's
        flush), before :meth:`clean`, inside the write's transaction: queries it runs join
        that transaction. Raising refuses the write: no statement of it runs and the
        exception reaches the caller. May be ``async def`` (awaited by the async methods;
        the ``_sync`` ones refuse it with :class:`~chakra.errors.AsyncHookError`)."""

    def post_save(self, ctx: hooks.HookContext, created: bool) -> Any:
        """Called after the object is written, in the same transaction (``created``: it was
        inserted). Raising rolls the write back (the transaction the write opened for
        itself, or the surrounding one when the exception leaves it)."""

    def pre_delete(self, ctx: hooks.HookContext) -> Any:
        """Called before the object's row is deleted (``delete()``, a session's flush), in
        the delete's transaction; raising refuses the delete."""

    def post_delete(self, ctx: hooks.HookContext) -> Any:
        """Called after the object's row is deleted, in the same transaction; raising rolls
        the delete back."""

    def _save_steps(self, update_fields: Iterable[str] | None) -> _bridge.Steps[None]:
        cls = type(self)
        db = self._database()
        target = config.target(database=db)
        if not hooks.defines(cls, hooks.SAVE):
            job = self._save_job(target, update_fields)
            if job is not None:
                yield job
            return
        names = None if update_fields is None else tuple(update_fields)
        if names is not None and not names:
            return  # Django: an empty update_fields writes nothing and calls no hook.
        pool = config.pool(database=db)

        def body(tx: _chakra.TxHandle) -> _bridge.Steps[None]:
            ctx = hooks.HookContext(None, names)
            yield hooks.HookCall(self.pre_save, "pre_save", (ctx,), (pool, tx))
            created = self._is_new()
            job = self._save_job(tx, names)
            if job is not None:
                yield job
            yield hooks.HookCall(self.post_save, "post_save", (ctx, created), (pool, tx))

        yield from hooks.in_transaction(pool, target, body)

    async def save(self, *, update_fields: Iterable[str] | None = None) -> None:
        """Inserts the object if it is new, else writes every field by primary key.
        ``update_fields=["email"]`` writes only those fields (none for an empty list), as in
        Django. With :meth:`pre_save`/:meth:`post_save` hooks and no surrounding
        transaction, the hooks and the write run in one transaction of their own."""
        await _bridge.drive(self._save_steps(update_fields))

    def save_sync(self, *, update_fields: Iterable[str] | None = None) -> None:
        """Synchronous :meth:`save` (an ``async def`` hook is refused before any SQL)."""
        hooks.check_sync(type(self), hooks.SAVE)
        _bridge.drive_sync(self._save_steps(update_fields))

    def _refresh_steps(
        self, target: _chakra.PoolRef | _chakra.TxHandle, fields: Iterable[str] | None
    ) -> _bridge.Steps[None]:
        cls = type(self)
        names = list(cls._fields) if fields is None else list(fields)
        self._check_field_names(names, "refresh_from_db(fields=...)")
        if self._is_new():
            raise errors.InvalidQuery(
                f"refresh_from_db() on a new {cls.__name__}: it has no row to read yet"
            )
        fresh = yield cls.__chakra__.get_pk_job(target, self.pk)
        if fresh is None:
            raise cls.DoesNotExist(
                f"{cls.__name__} matching query does not exist (pk={self.pk!r})",
                model=cls.__name__,
                detail=f"pk={self.pk!r}",
            )
        d = self.__dict__
        for n in names:
            d[n] = fresh.__dict__.get(n)
        deferred = d.get("_chakra_deferred")
        if deferred is not None:
            left = frozenset(deferred) - set(names)
            if left:
                d["_chakra_deferred"] = left
            else:
                del d["_chakra_deferred"]
        # A related object cached under a foreign key whose value changed is stale: forget
        # it, so reading the relation says it is not loaded instead of answering wrongly.
        for r in cls._foreign_keys:
            cached = d.get(r.name)
            if cached is not None and getattr(cached, "pk", None) != d.get(r.attname):
                del d[r.name]

    async def refresh_from_db(self, *, fields: Iterable[str] | None = None) -> None:
        """Reloads the object's fields (or only ``fields``) from its row, as in Django;
        ``DoesNotExist`` when the row is gone. For an object a session tracks, use
        ``session.refresh(obj)``, which also resets what the session compares against."""
        await _bridge.drive(self._refresh_steps(config.target(database=self._database()), fields))

    def refresh_from_db_sync(self, *, fields: Iterable[str] | None = None) -> None:
        """Synchronous :meth:`refresh_from_db`."""
        _bridge.drive_sync(self._refresh_steps(config.target(database=self._database()), fields))

    def _delete_steps(self) -> _bridge.Steps[None]:
        cls = type(self)
        db = self._database()
        target = config.target(database=db)
        if not hooks.defines(cls, hooks.DELETE):
            yield cls.__chakra__.delete_pk_job(target, self.pk)
            return
        pool = config.pool(database=db)

        def body(tx: _chakra.TxHandle) -> _bridge.Steps[None]:
            ctx = hooks.HookContext()
            yield hooks.HookCall(self.pre_delete, "pre_delete", (ctx,), (pool, tx))
            yield cls.__chakra__.delete_pk_job(tx, self.pk)
            yield hooks.HookCall(self.post_delete, "post_delete", (ctx,), (pool, tx))

        yield from hooks.in_transaction(pool, target, body)

    async def delete(self) -> None:
        """Deletes the object's row by primary key (with :meth:`pre_delete` /
        :meth:`post_delete` hooks, in one transaction with them)."""
        await _bridge.drive(self._delete_steps())

    def delete_sync(self) -> None:
        """Synchronous :meth:`delete` (an ``async def`` hook is refused before any SQL)."""
        hooks.check_sync(type(self), hooks.DELETE)
        _bridge.drive_sync(self._delete_steps())


# ``Model``'s own ``full_clean`` and ``clean`` (which does nothing): a bulk insert whose
# objects' classes override neither skips the per-object call (``query._bulk_create_steps``).
PLAIN_CLEAN = (Model.full_clean, Model.clean)
