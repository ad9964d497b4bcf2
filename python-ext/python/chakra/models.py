"""``Model``: declare a table as a class; the metaclass registers its metadata with the
core, which builds instances straight from rows (no ``__init__`` per row)."""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING, Any, ClassVar

from . import _bridge, _chakra, config, errors
from .fields import Field, ForeignKey, _Relation
from .query import Manager
from .types import BigInteger

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["Model", "ModelBase", "registry"]

registry: dict[str, type[Model]] = {}
"""Every registered model class by name (relations name their target by it)."""


def _default_table(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


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
        for k, v in ns.items():
            if isinstance(v, Field):
                fields[k] = v
            elif isinstance(v, _Relation):
                relations[k] = v
                if isinstance(v, ForeignKey):
                    kf = v.key_field()
                    fields[kf.name] = kf
                    setattr(cls, kf.name, kf)
        if not any(f.primary_key for f in fields.values()):
            auto: Field[int] = Field(BigInteger, primary_key=True)
            auto.name = "id"
            fields = {"id": auto, **fields}
            cls.id = auto  # type: ignore[attr-defined]
        for k, f in fields.items():
            f.name = k
            f.model = cls  # type: ignore[assignment]
            if k in vars(cls) and vars(cls)[k] is not f:
                setattr(cls, k, f)
        for k, r in relations.items():
            r.name = k
            r.model = cls  # type: ignore[assignment]
        table = ns.get("__tablename__") or _default_table(name)
        handle = _chakra.register_model(
            cls,
            name,
            table,
            [f.spec() for f in fields.values()],
            [r.spec() for r in relations.values()],
        )
        model: Any = cls
        model.__chakra__ = handle
        model.__tablename__ = table
        model._fields = fields
        model._relations = relations
        model._pk_name = handle.pk_name()
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
        return cls


class Model(metaclass=ModelBase):
    """Base class of models.

    ``User(username="alice")`` makes an unsaved object with defaults filled in (unknown
    keywords raise ``chakra.errors.UnknownField``); save it with ``await user.save()``,
    ``User.objects.create(...)`` or a :class:`chakra.Session`.
    """

    __abstract__: ClassVar[bool] = True
    __tablename__: ClassVar[str]
    __chakra__: ClassVar[_chakra.ModelHandle]
    _fields: ClassVar[dict[str, Field[Any]]]
    _relations: ClassVar[dict[str, _Relation]]
    _pk_name: ClassVar[str | None]
    DoesNotExist: ClassVar[type[errors.DoesNotExist]]
    MultipleObjectsReturned: ClassVar[type[errors.MultipleObjectsReturned]]
    objects: ClassVar[Manager[Self]] = Manager()

    def __init__(self, **kwargs: Any) -> None:
        cls = type(self)
        fields = cls._fields
        d = self.__dict__
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
        """The primary-key value."""
        name = type(self)._pk_name
        return None if name is None else self.__dict__.get(name)

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

    def _is_new(self) -> bool:
        return "_chakra_new" in self.__dict__

    def _save_job(self, target: _chakra.PoolRef | _chakra.TxHandle) -> _chakra.Job:
        handle = type(self).__chakra__
        if self._is_new():
            return handle.insert_job(target, [self])
        return handle.update_job(target, self)

    async def save(self) -> None:
        """Inserts the object if it is new, else writes every field by primary key."""
        await _bridge.run(self._save_job(config.pool()))

    def save_sync(self) -> None:
        """Synchronous :meth:`save`."""
        _bridge.run_sync(self._save_job(config.pool()))

    async def delete(self) -> None:
        """Deletes the object's row by primary key."""
        await _bridge.run(type(self).__chakra__.delete_pk_job(config.pool(), self.pk))

    def delete_sync(self) -> None:
        """Synchronous :meth:`delete`."""
        _bridge.run_sync(type(self).__chakra__.delete_pk_job(config.pool(), self.pk))
