"""Model hooks around writes: ``pre_save``/``post_save``/``pre_delete``/``post_delete``.

A model overrides them as methods (plain ``def`` or ``async def``); ``save()``,
``save(update_fields=…)``, ``delete()``, ``objects.create()`` and a session's flush call
them. They run inside the transaction of the write: the surrounding one (``session.begin()``,
a flush), or one the write opens for itself when there is none, so whatever a hook writes
through ``Model.objects`` (an audit row) commits or rolls back with the write, and an
exception raised by a hook rolls the write back and reaches the caller unchanged.

Steps (generators of jobs, see :mod:`chakra._bridge`) yield a :class:`HookCall`; the async
driver awaits an ``async def`` hook, the sync driver refuses one (:class:`AsyncHookError`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any, TypeVar

from . import _chakra, config, errors

if TYPE_CHECKING:
    from .session import Session

__all__ = ["HookCall", "HookContext"]

T = TypeVar("T")

SAVE = ("pre_save", "post_save")
DELETE = ("pre_delete", "post_delete")


class HookContext:
    """What a hook is told about the write it runs around.

    ``session``: the :class:`~chakra.Session` whose flush writes the object, or ``None``
    (``save()``, ``delete()``, ``create()``); ``update_fields``: the fields
    ``save(update_fields=…)`` writes (``None``: every field). Queries the hook runs through
    ``Model.objects`` (or ``chakra.execute``) join the write's transaction by themselves."""

    __slots__ = ("session", "update_fields")

    def __init__(
        self, session: Session | None = None, update_fields: tuple[str, ...] | None = None
    ) -> None:
        self.session = session
        self.update_fields = update_fields

    def __repr__(self) -> str:
        return f"HookContext(session={self.session!r}, update_fields={self.update_fields!r})"


class HookCall:
    """One hook to call from a step generator, with the transaction it runs in (made the
    current task's ambient transaction while it runs)."""

    __slots__ = ("ambient", "args", "fn", "name")

    def __init__(
        self,
        fn: Callable[..., Any],
        name: str,
        args: tuple[Any, ...],
        ambient: tuple[_chakra.PoolRef, _chakra.TxHandle],
    ) -> None:
        self.fn = fn
        self.name = name
        self.args = args
        self.ambient = ambient

    def call_sync(self) -> Any:
        """Calls the hook; an ``async def`` hook is refused before it runs."""
        if inspect.iscoroutinefunction(self.fn):
            raise self._refused()
        token = config._ambient.set(self.ambient)
        try:
            result = self.fn(*self.args)
        finally:
            config._ambient.reset(token)
        if inspect.isawaitable(result):
            if inspect.iscoroutine(result):
                result.close()
            raise self._refused()
        return result

    async def call(self) -> Any:
        """Calls the hook and awaits what it returns when that is awaitable."""
        token = config._ambient.set(self.ambient)
        try:
            result = self.fn(*self.args)
            if inspect.isawaitable(result):
                result = await result
            return result
        finally:
            config._ambient.reset(token)

    def _refused(self) -> errors.AsyncHookError:
        owner = getattr(self.fn, "__self__", None)
        model = type(owner).__name__ if owner is not None else None
        return errors.AsyncHookError(
            f"{model}.{self.name} is an async hook: a synchronous call (save_sync, "
            "delete_sync, create_sync, a SyncSession flush) cannot await it; use the async "
            "method, or make the hook a plain def",
            model=model,
            detail=self.name,
        )


def defines(cls: type, names: tuple[str, ...]) -> bool:
    """Whether ``cls`` overrides any of the hooks ``names`` (others cost nothing)."""
    from .models import Model

    return any(getattr(cls, n) is not getattr(Model, n) for n in names)


def check_sync(cls: type, names: tuple[str, ...]) -> None:
    """Refuses a synchronous write of ``cls`` before any SQL when one of its hooks
    ``names`` is ``async def``."""
    from .models import Model

    for n in names:
        fn = getattr(cls, n)
        if fn is not getattr(Model, n) and inspect.iscoroutinefunction(fn):
            raise errors.AsyncHookError(
                f"{cls.__name__}.{n} is an async hook: a synchronous call (save_sync, "
                "delete_sync, create_sync, a SyncSession flush) cannot await it; use the "
                "async method, or make the hook a plain def",
                model=cls.__name__,
                detail=n,
            )


Steps = Generator[Any, Any, T]


def in_transaction(
    pool: _chakra.PoolRef,
    target: _chakra.PoolRef | _chakra.TxHandle,
    body: Callable[[_chakra.TxHandle], Steps[T]],
) -> Steps[T]:
    """Runs ``body`` in ``target``'s transaction, or, when ``target`` is the pool, in one of
    its own: committed when ``body`` ends, rolled back when it raises (the error raised
    again unchanged)."""
    if isinstance(target, _chakra.TxHandle):
        result: T = yield from body(target)
        return result
    # On the target itself: a pool routed by a read scope records the commit in it.
    tx = _chakra.TxHandle(target)
    yield tx.begin_job(None)
    try:
        result = yield from body(tx)
    except Exception:
        try:
            yield tx.rollback_job()
        except errors.ChakraError:
            pass  # The connection is closed anyway; the hook's error is the one to see.
        raise
    yield tx.commit_job()
    return result
