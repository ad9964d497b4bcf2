"""Chakra's exceptions: one class per variant of the Rust core's error enum.

Every exception carries what it is about as attributes (``model``, ``field``, ``value``,
``lookup``, ``choices``, ``constraint``, …) besides its message. Each model also has its own
``Model.DoesNotExist`` and ``Model.MultipleObjectsReturned`` subclasses, as in Django.

``retryable`` is true on the errors a re-run of the transaction can fix
(:class:`ConcurrentUpdate`, :class:`Deadlock`, :class:`SerializationFailure`,
:class:`LockTimeout`, :class:`ConnectionLost`); ``sqlstate`` keeps the database's code where
it has one (``40P01``, ``40001``, ``55P03``, ``57014``, ``57P01``, ``08006``).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AnnotationConflict",
    "AsyncHookError",
    "BadValue",
    "ChakraError",
    "CheckViolation",
    "ConcurrentUpdate",
    "ConfigError",
    "ConnectionError",
    "ConnectionLost",
    "ConnectionTimeout",
    "CrossDatabaseQuery",
    "DatabaseError",
    "Deadlock",
    "DecodeError",
    "DeleteRestricted",
    "DoesNotExist",
    "FieldError",
    "ForeignKeyViolation",
    "IntegrityError",
    "InvalidAggregate",
    "InvalidIdentifier",
    "InvalidQuery",
    "InvalidRelation",
    "InvalidUrl",
    "LockTimeout",
    "MigrationError",
    "MultipleObjectsReturned",
    "NotLoaded",
    "NotNullViolation",
    "ReadOnlyDatabase",
    "SerializationFailure",
    "StaleModels",
    "StatementTimeout",
    "TransactionConflict",
    "TransactionError",
    "UniqueViolation",
    "UnknownDatabase",
    "UnknownField",
    "UnknownLookup",
    "UnknownModel",
    "UnknownRelation",
    "ValidationError",
]

#: The key of messages about the object as a whole rather than one field (Django's).
NON_FIELD_ERRORS = "__all__"


class ChakraError(Exception):
    """Base class of every Chakra error."""

    model: str | None = None
    field: str | None = None
    value: str | None = None
    lookup: str | None = None
    choices: list[str] | None = None
    detail: Any = None
    #: True when re-running the transaction may succeed.
    retryable: bool = False
    #: The SQLSTATE the database reported, where it has one.
    sqlstate: str | None = None

    def __init__(self, message: str = "", **details: Any) -> None:
        super().__init__(message)
        for k, v in details.items():
            setattr(self, k, v)


class DoesNotExist(ChakraError):
    """A query that must return one row returned none."""


class MultipleObjectsReturned(ChakraError):
    """A query that must return one row returned several."""

    count: int | None = None


class IntegrityError(ChakraError):
    """A constraint of the database was violated."""

    constraint: str | None = None
    table: str | None = None
    column: str | None = None
    message: str | None = None


class UniqueViolation(IntegrityError):
    """A UNIQUE or PRIMARY KEY constraint was violated."""


class ForeignKeyViolation(IntegrityError):
    """A FOREIGN KEY constraint was violated."""


class NotNullViolation(IntegrityError):
    """A NOT NULL constraint was violated."""


class CheckViolation(IntegrityError):
    """A CHECK constraint was violated."""


class DeleteRestricted(IntegrityError):
    """A delete refused because other rows still reference the row (``ON DELETE RESTRICT``,
    the default of ``ForeignKey``): nothing was deleted. ``constraint`` names the foreign
    key on PostgreSQL (``comments_commenter_id_fkey``); SQLite names no constraint, only
    the table."""


class FieldError(ChakraError):
    """A field or lookup that the model does not have."""


class UnknownField(FieldError, TypeError):
    """A field name the model does not have (also raised for unknown ``Model(**kwargs)``)."""


class UnknownLookup(FieldError):
    """A lookup that does not exist or does not apply to the field's type."""


class InvalidAggregate(FieldError):
    """An aggregate over a field it does not apply to (``Sum("name")`` of a text field).
    ``function`` names it; ``reason`` says why."""

    function: str | None = None
    reason: str | None = None


class AnnotationConflict(FieldError):
    """An ``annotate()`` name taken by a field, a relation or another annotation."""

    name: str | None = None
    reason: str | None = None


class BadValue(ChakraError, ValueError):
    """A value that does not fit the field it is meant for."""

    expected: str | None = None
    reason: str | None = None


class InvalidIdentifier(ChakraError):
    """A table or column name that cannot be used."""


class ConfigError(ChakraError):
    """Configuration that cannot be used (``chakra.toml``, environment)."""


class InvalidUrl(ConfigError):
    """A database URL that cannot be used."""

    url: str | None = None
    reason: str | None = None


class UnknownDatabase(ConfigError):
    """A database name that no configuration declares (``using("analytics")`` without a
    ``[databases.analytics]``)."""

    name: str | None = None


class ReadOnlyDatabase(ChakraError):
    """A write or a migration sent to a database that only reads (a primary that became
    read-only, a standby)."""

    database: str | None = None


class StaleModels(ChakraError):
    """A generated model layer disagrees with the migrations the database has applied
    (``chakra generate models``): regenerate it or apply the migrations."""


class ConnectionError(ChakraError):
    """The database could not be reached."""


class InvalidQuery(ChakraError):
    """A query that cannot be expressed (or a feature that is not available yet)."""


class CrossDatabaseQuery(InvalidQuery):
    """A query that would join models bound to different databases."""


class DatabaseError(ChakraError):
    """Any other error reported by the database, with its message and statement."""

    message: str | None = None
    sql: str | None = None


class DecodeError(ChakraError):
    """A row value could not be decoded into the field's type."""


class TransactionError(ChakraError):
    """A transaction was used after it ended, or cannot go on."""


class NotLoaded(InvalidQuery):
    """A relation was read before it was loaded (Rust's ``Error::NotLoaded``): ``model``
    holds the relation, ``relation`` is its name, ``related_model`` the model it points
    at. Load it with ``select_related`` / ``prefetch_related`` / ``fetch_related``, or query
    it (``await user.posts.all()``)."""

    relation: str | None = None
    related_model: str | None = None


class UnknownRelation(FieldError):
    """A relation name the model does not have (``select_related("nope")``)."""

    relation: str | None = None


class UnknownModel(ConfigError):
    """A relation points at a model that is not registered (not defined or not imported)."""

    referenced_by: str | None = None


class InvalidRelation(ChakraError):
    """A relation that cannot work as declared or asked (a missing key column, a
    ``select_related`` of a relation to many rows, ``add()`` on a one-to-many)."""

    relation: str | None = None
    reason: str | None = None


class MigrationError(ChakraError):
    """A migration cannot be made, applied or rolled back."""


class TransactionConflict(ChakraError):
    """The transaction lost a race with a concurrent one and was not committed: re-run it
    (``await session.transaction(fn)`` does, up to ``retries`` times). ``table`` names the
    table where known."""

    retryable = True
    table: str | None = None
    message: str | None = None


class ConcurrentUpdate(TransactionConflict):
    """A tracked object's UPDATE matched no row: another transaction changed the fields this
    one changed (or the version field), or deleted the row, since it was read. Nothing was
    written. ``model``, ``table`` and ``key`` say which row."""

    key: str | None = None


class Deadlock(TransactionConflict):
    """The database broke a deadlock by failing this transaction (SQLSTATE 40P01)."""


class SerializationFailure(TransactionConflict):
    """The database could not serialize this transaction with concurrent ones (SQLSTATE
    40001, under ``repeatable read`` / ``serializable``)."""


class LockTimeout(TransactionConflict):
    """A lock could not be taken in time: PostgreSQL ``lock_timeout`` or ``nowait``
    (SQLSTATE 55P03), SQLite ``database is locked`` after its busy timeout."""


class ConnectionLost(ConnectionError):
    """The connection died while a statement was sent or running (server restart,
    ``pg_terminate_backend``). Outside a transaction Chakra has already retried on another
    connection where nothing had run; inside one the transaction is lost: re-run it."""

    retryable = True
    table: str | None = None
    message: str | None = None


class ConnectionTimeout(ConnectionError):
    """No pooled connection became free within the pool's ``wait_timeout``; ``pool_size``
    is the pool's ``max_size``."""

    pool_size: int | None = None
    waited_ms: int | None = None


class StatementTimeout(ChakraError):
    """A statement ran longer than ``statement_timeout`` and was cancelled (SQLSTATE 57014).
    Not retryable: it would time out again."""

    table: str | None = None
    message: str | None = None


def _validation_text(model: str | None, errors: dict[str, list[str]]) -> str:
    parts = ", ".join(f"{f}: {'; '.join(m)}" for f, m in sorted(errors.items()))
    return f"{model} failed validation: {parts}" if model else parts


class ValidationError(ChakraError, ValueError):
    """A model's ``clean()`` (Rust: ``Hooks::validate``) refused the object before anything
    was written. ``errors`` holds the messages per field name (``"__all__"``:
    :data:`NON_FIELD_ERRORS`, about the whole object). Raise it from ``clean()`` with a dict
    (``ValidationError({"title": "must not be blank"})``) or a message about the object
    (``ValidationError("a poem has at most 100 pages")``)."""

    errors: dict[str, list[str]]

    def __init__(
        self,
        message: str | list[str] | dict[str, str | list[str]] = "",
        **details: Any,
    ) -> None:
        errors = details.pop("errors", None)
        if isinstance(message, dict):
            errors = {
                str(k): [v] if isinstance(v, str) else [str(m) for m in v]
                for k, v in message.items()
            }
            message = ""
        elif errors is None:
            msgs = [message] if isinstance(message, str) else [str(m) for m in message]
            errors = {NON_FIELD_ERRORS: msgs}
            message = ""
        else:
            errors = {str(k): list(v) for k, v in errors.items()}
        text = message if isinstance(message, str) and message else None
        super().__init__(text or _validation_text(details.get("model"), errors), **details)
        self.errors = errors


class AsyncHookError(ChakraError, TypeError):
    """A synchronous write (``save_sync``, ``delete_sync``, ``create_sync``, a
    ``SyncSession`` flush) met an ``async def`` model hook, which it cannot await: refused
    before the hook runs (``model``: the model, ``detail``: the hook's name). Use the async
    method, or make the hook a plain ``def``."""
