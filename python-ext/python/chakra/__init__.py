"""Chakra ORM for Python: Django-style models and queries over Chakra's Rust core.

.. code-block:: python

    from chakra import Model, Field, String, Integer

    class User(Model):
        __tablename__ = "users"
        id = Field(Integer, primary_key=True)
        username = Field(String(50), unique=True)

    users = await User.objects.filter(username__startswith="a").all()

Lookups, SQL, execution and row hydration are the Rust core's (the same code the Rust front
door uses); this package describes models and calls in.
"""

from __future__ import annotations

import atexit
import logging

from . import _chakra, errors, migrate
from .config import close, configure, current_url, database_names, outside_transaction, read_scope
from .expressions import (
    Avg,
    Case,
    Cast,
    Coalesce,
    Count,
    Exists,
    F,
    Length,
    Lower,
    Max,
    Min,
    Now,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Upper,
    Value,
    When,
)
from .fields import (
    CASCADE,
    NO_ACTION,
    NOW,
    RESTRICT,
    SET_NULL,
    Field,
    ForeignKey,
    ManyToMany,
    OnDelete,
    OneToMany,
    OneToOne,
    Reverse,
)
from .hooks import HookContext
from .migrate import check_schema, register_model_layer
from .models import Model, registry
from .options import CheckConstraint, Index, UniqueConstraint
from .pagination import EmptyPage, InvalidPage, Page, PageNotAnInteger, Paginator
from .query import BaseQuerySet, Manager, Prefetch, QuerySet, ValuesQuerySet
from .raw import execute, execute_sync, fetch, fetch_sync
from .related import RelatedManager
from .schema import (
    create_table_sql,
    create_tables,
    create_tables_sync,
    drop_tables,
    drop_tables_sync,
    execute_script,
    execute_script_sync,
)
from .session import Session, SyncSession
from .sqlite_copy import SqliteCopyWarning, SqliteInfo, sqlite_info
from .types import (
    JSON,
    UUID,
    Array,
    BigInteger,
    Boolean,
    Bytes,
    Date,
    DateTime,
    Decimal,
    Enum,
    FieldType,
    Float,
    Integer,
    String,
    Text,
)

TRACE = _chakra.TRACE
"""The ``logging`` level (5) at which the ``chakra.sql`` logger also records bound values."""

__all__ = [
    "CASCADE",
    "JSON",
    "NOW",
    "NO_ACTION",
    "RESTRICT",
    "SET_NULL",
    "TRACE",
    "UUID",
    "Array",
    "Avg",
    "BaseQuerySet",
    "BigInteger",
    "Boolean",
    "Bytes",
    "Case",
    "Cast",
    "CheckConstraint",
    "Coalesce",
    "Count",
    "Date",
    "DateTime",
    "Decimal",
    "EmptyPage",
    "Enum",
    "Exists",
    "F",
    "Field",
    "FieldType",
    "Float",
    "ForeignKey",
    "HookContext",
    "Index",
    "Integer",
    "InvalidPage",
    "Length",
    "Lower",
    "Manager",
    "ManyToMany",
    "Max",
    "Min",
    "Model",
    "Now",
    "OnDelete",
    "OneToMany",
    "OneToOne",
    "OuterRef",
    "Page",
    "PageNotAnInteger",
    "Paginator",
    "Prefetch",
    "Q",
    "QuerySet",
    "RelatedManager",
    "Reverse",
    "Session",
    "SqliteCopyWarning",
    "SqliteInfo",
    "String",
    "Subquery",
    "Sum",
    "SyncSession",
    "Text",
    "UniqueConstraint",
    "Upper",
    "Value",
    "ValuesQuerySet",
    "When",
    "check_schema",
    "close",
    "configure",
    "create_table_sql",
    "create_tables",
    "create_tables_sync",
    "current_url",
    "database_names",
    "drop_tables",
    "drop_tables_sync",
    "errors",
    "execute",
    "execute_script",
    "execute_script_sync",
    "execute_sync",
    "fetch",
    "fetch_sync",
    "migrate",
    "outside_transaction",
    "read_scope",
    "register_model_layer",
    "registry",
    "sqlite_info",
]

# Stop the runtime thread (closing pools) before the interpreter finalizes: a runtime
# still running during finalization can crash the process at exit.
atexit.register(_chakra.shutdown)

logging.addLevelName(TRACE, "TRACE")
