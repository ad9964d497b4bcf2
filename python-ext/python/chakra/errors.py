"""Chakra's exceptions: one class per variant of the Rust core's error enum.

Every exception carries what it is about as attributes (``model``, ``field``, ``value``,
``lookup``, ``choices``, ``constraint``, …) besides its message. Each model also has its own
``Model.DoesNotExist`` and ``Model.MultipleObjectsReturned`` subclasses, as in Django.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AnnotationConflict",
    "BadValue",
    "ChakraError",
    "CheckViolation",
    "ConfigError",
    "ConnectionError",
    "DatabaseError",
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
    "MigrationError",
    "MultipleObjectsReturned",
    "NotLoaded",
    "NotNullViolation",
    "TransactionError",
    "UniqueViolation",
    "UnknownField",
    "UnknownLookup",
    "UnknownModel",
    "UnknownRelation",
]


class ChakraError(Exception):
    """Base class of every Chakra error."""

    model: str | None = None
    field: str | None = None
    value: str | None = None
    lookup: str | None = None
    choices: list[str] | None = None
    detail: Any = None

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


class ConnectionError(ChakraError):
    """The database could not be reached."""


class InvalidQuery(ChakraError):
    """A query that cannot be expressed (or a feature that is not available yet)."""


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
