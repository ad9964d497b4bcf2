"""``user.posts``: the related manager of a relation to many rows (one-to-many, the reverse
side of a foreign key, many-to-many).

- Iterating, ``len()``, indexing and ``in`` read the rows loaded by ``prefetch_related`` /
  ``fetch_related``; when none were loaded they raise ``chakra.errors.NotLoaded`` (no hidden
  I/O).
- ``user.posts.all()``, ``.filter(...)``, ``.exclude(...)``, ``.order_by(...)`` are querysets
  over the related rows (explicit loading): ``await user.posts.all()``,
  ``await user.posts.filter(title__contains="x").count()``.
- Many-to-many: ``await post.tags.add(a, b)``, ``remove``, ``clear``, ``set([...])`` (and
  ``_sync`` twins) write the join table; adding a link that exists is a no-op. They drop the
  loaded list, which no longer matches.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from . import _bridge, _chakra, config
from .expressions import Q
from .query import QuerySet

if TYPE_CHECKING:
    from .fields import _Relation
    from .models import Model

__all__ = ["RelatedManager"]

M = TypeVar("M", bound="Model")


class RelatedManager(Generic[M]):
    """The related rows (``M``) of one object through one relation."""

    __slots__ = ("_instance", "_relation")

    def __init__(self, instance: Any, relation: _Relation) -> None:
        self._instance = instance
        self._relation = relation

    # -- the loaded rows ------------------------------------------------------------------

    def _loaded(self) -> list[M]:
        return self._relation._loaded(self._instance)  # type: ignore[no-any-return]

    def __iter__(self) -> Iterator[M]:
        return iter(self._loaded())

    def __len__(self) -> int:
        return len(self._loaded())

    def __getitem__(self, i: int) -> M:
        return self._loaded()[i]

    def __contains__(self, obj: object) -> bool:
        return obj in self._loaded()

    def __bool__(self) -> bool:
        return bool(self._loaded())

    @property
    def is_loaded(self) -> bool:
        """Whether the related rows were loaded onto the object."""
        return self._relation.name in self._instance.__dict__

    def __repr__(self) -> str:
        owner = type(self._instance).__name__
        state = f"{len(self._loaded())} loaded" if self.is_loaded else "not loaded"
        return f"<RelatedManager {owner}.{self._relation.name}: {state}>"

    # -- explicit loading -----------------------------------------------------------------

    def _queryset(self) -> QuerySet[M]:
        handle = type(self._instance).__chakra__
        q = handle.related_query(self._instance, self._relation.name)
        qs: QuerySet[M] = QuerySet(q.model, q)
        # The related rows live where the object's row does, unless their model is bound to
        # a database of its own (then, as a Django router would, the binding decides).
        db = self._instance.__dict__.get("_chakra_db")
        if db is not None and q.model.__database__ is None:
            qs = qs.using(db)
        return qs

    def all(self) -> QuerySet[M]:
        """Every related row, as a queryset (``await user.posts.all()``)."""
        return self._queryset()

    def filter(self, *args: Q, **kwargs: Any) -> QuerySet[M]:
        """The related rows matching the lookups."""
        return self._queryset().filter(*args, **kwargs)

    def exclude(self, *args: Q, **kwargs: Any) -> QuerySet[M]:
        """The related rows not matching the lookups."""
        return self._queryset().exclude(*args, **kwargs)

    def order_by(self, *fields: str) -> QuerySet[M]:
        """The related rows, sorted."""
        return self._queryset().order_by(*fields)

    async def count(self) -> int:
        """How many related rows exist (one query)."""
        return await self._queryset().count()

    async def exists(self) -> bool:
        """Whether any related row exists (one ``EXISTS`` statement)."""
        return await self._queryset().exists()

    def exists_sync(self) -> bool:
        """Synchronous :meth:`exists`."""
        return self._queryset().exists_sync()

    def all_sync(self) -> list[M]:
        """Synchronous ``await self.all()``."""
        return self._queryset().all_sync()

    def count_sync(self) -> int:
        """Synchronous :meth:`count`."""
        return self._queryset().count_sync()

    # -- many-to-many links ---------------------------------------------------------------

    def _links_job(self, op: str, objs: Iterable[M | Any]) -> _chakra.Job:
        inst = self._instance
        inst.__dict__.pop(self._relation.name, None)
        handle: _chakra.ModelHandle = type(inst).__chakra__
        return handle.links_job(
            config.target(database=inst._database()), inst, self._relation.name, op, list(objs)
        )

    async def add(self, *objs: M | Any) -> int:
        """Links the objects (or keys); returns how many links were new."""
        return await _bridge.run(self._links_job("add", objs))  # type: ignore[no-any-return]

    async def remove(self, *objs: M | Any) -> int:
        """Unlinks the objects (or keys); returns how many links were removed."""
        return await _bridge.run(self._links_job("remove", objs))  # type: ignore[no-any-return]

    async def clear(self) -> int:
        """Unlinks every related row; returns how many links were removed."""
        return await _bridge.run(self._links_job("clear", ()))  # type: ignore[no-any-return]

    async def set(self, objs: Iterable[M | Any]) -> None:
        """Makes ``objs`` the only linked rows (in one transaction)."""
        await _bridge.run(self._links_job("set", objs))

    def add_sync(self, *objs: M | Any) -> int:
        """Synchronous :meth:`add`."""
        return _bridge.run_sync(self._links_job("add", objs))  # type: ignore[no-any-return]

    def remove_sync(self, *objs: M | Any) -> int:
        """Synchronous :meth:`remove`."""
        return _bridge.run_sync(self._links_job("remove", objs))  # type: ignore[no-any-return]

    def clear_sync(self) -> int:
        """Synchronous :meth:`clear`."""
        return _bridge.run_sync(self._links_job("clear", ()))  # type: ignore[no-any-return]

    def set_sync(self, objs: Iterable[M | Any]) -> None:
        """Synchronous :meth:`set`."""
        _bridge.run_sync(self._links_job("set", objs))
