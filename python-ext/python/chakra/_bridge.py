"""Running core jobs from Python: awaited through the event loop, or synchronously.

Awaiting a job (:func:`run`) costs two thread hops: the job starts on the Chakra runtime
thread, and its completion wakes the event loop through one socket per loop (completions
that land together share one wake-up). The runtime thread never takes the GIL; rows become
Python objects on the loop thread when the loop drains the completions.

:func:`run_sync` runs a job on the calling thread with the GIL released, its I/O driven by
the runtime thread. It never waits on an event loop, so it cannot deadlock inside one (it
does block that loop while it runs, like any synchronous call).

Multi-step operations (``get_or_create``, session flushes) are written once as generators
that yield jobs and receive their results; :func:`drive` and :func:`drive_sync` run them. A
generator may also yield a :class:`~chakra.hooks.HookCall` (a model hook): :func:`drive`
awaits an ``async def`` hook, :func:`drive_sync` refuses one.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Generator
from typing import Any, TypeVar

from . import _chakra
from .hooks import HookCall

T = TypeVar("T")

Steps = Generator[_chakra.Job | HookCall, Any, T]

_completers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _chakra.Completer] = (
    weakref.WeakKeyDictionary()
)
_last: tuple[asyncio.AbstractEventLoop | None, _chakra.Completer | None] = (None, None)


def _completer(loop: asyncio.AbstractEventLoop) -> _chakra.Completer:
    global _last
    c = _completers.get(loop)
    if c is None:
        c = _chakra.Completer()
        loop.add_reader(c.fileno(), c.drain)
        _completers[loop] = c
    _last = (loop, c)
    return c


async def run(job: _chakra.Job) -> Any:
    """Runs ``job`` and returns its result (needs a running loop). When the awaiting task is
    cancelled, the job is aborted: its statement is cancelled on the server."""
    loop = asyncio.get_running_loop()
    last_loop, c = _last
    if last_loop is not loop or c is None:
        c = _completer(loop)
    fut = loop.create_future()
    job_id = c.submit(job, fut)
    try:
        return await fut
    except asyncio.CancelledError:
        c.cancel(job_id)
        raise


def run_sync(job: _chakra.Job) -> Any:
    """Runs ``job`` on this thread (GIL released) and returns its result."""
    return job.run_sync()


async def drive(steps: Steps[T]) -> T:
    """Runs a generator of jobs through the event loop."""
    try:
        job = next(steps)
        while True:
            try:
                if isinstance(job, HookCall):
                    result = await job.call()
                else:
                    result = await run(job)
            except Exception as exc:
                job = steps.throw(exc)
            else:
                job = steps.send(result)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


def drive_sync(steps: Steps[T]) -> T:
    """Runs a generator of jobs synchronously."""
    try:
        job = next(steps)
        while True:
            try:
                if isinstance(job, HookCall):
                    result = job.call_sync()
                else:
                    result = job.run_sync()
            except Exception as exc:
                job = steps.throw(exc)
            else:
                job = steps.send(result)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
