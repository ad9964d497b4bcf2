"""Creating and dropping model tables from their metadata (for tests, scripts and quick
starts; schema changes over time belong to migrations)."""

from __future__ import annotations

from typing import Any

from . import _bridge, _chakra, config
from .models import Model

__all__ = [
    "create_table_sql",
    "create_tables",
    "create_tables_sync",
    "drop_tables",
    "drop_tables_sync",
    "execute_script",
    "execute_script_sync",
]


def _job(models: tuple[type[Model], ...], url: str | None, drop: bool, **kw: Any) -> _chakra.Job:
    bound = {m.__database__ for m in models}
    # Models all bound to one named database: their tables go there.
    database = bound.pop() if url is None and len(bound) == 1 else None
    target = config.pool(url, database=database)
    handles = [m.__chakra__ for m in models]
    if drop:
        return _chakra.drop_tables_job(target, handles)
    return _chakra.create_tables_job(target, handles, **kw)


async def create_tables(
    *models: type[Model], url: str | None = None, if_not_exists: bool = False
) -> None:
    """``CREATE TABLE`` (and indexes) for each model, in order."""
    await _bridge.run(_job(models, url, False, if_not_exists=if_not_exists))


def create_tables_sync(
    *models: type[Model], url: str | None = None, if_not_exists: bool = False
) -> None:
    """Synchronous :func:`create_tables`."""
    _bridge.run_sync(_job(models, url, False, if_not_exists=if_not_exists))


async def drop_tables(*models: type[Model], url: str | None = None) -> None:
    """``DROP TABLE IF EXISTS`` for each model, in order."""
    await _bridge.run(_job(models, url, True))


def drop_tables_sync(*models: type[Model], url: str | None = None) -> None:
    """Synchronous :func:`drop_tables`."""
    _bridge.run_sync(_job(models, url, True))


def create_table_sql(model: type[Model], dialect: str = "postgres") -> list[str]:
    """The ``CREATE TABLE`` statements of a model for ``"postgres"``, ``"sqlite"`` or
    ``"mysql"`` (any spelling ``QuerySet.sql`` takes)."""
    return _chakra.create_table_sql(model.__chakra__, dialect)


async def execute_script(sql: str, url: str | None = None) -> None:
    """Runs SQL text without parameters (DDL, admin statements). Never build ``sql`` from
    untrusted input: nothing in it is escaped."""
    await _bridge.run(_chakra.batch_job(config.pool(url), sql))


def execute_script_sync(sql: str, url: str | None = None) -> None:
    """Synchronous :func:`execute_script`."""
    _bridge.run_sync(_chakra.batch_job(config.pool(url), sql))
