"""Chakra's exceptions: one class per variant of the Rust core's error enum.

Every exception carries what it is about as attributes (``model``, ``field``, ``value``,
``lookup``, ``choices``, ``constraint``, …) besides its message. Each model also has its own
``Model.DoesNotExist`` and ``Model.MultipleObjectsReturned`` subclasses, as in Django.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "BadValue",
    "ChakraError",
    "CheckViolation",
    "ConfigError",
    "ConnectionError",
    "DatabaseError",
    "DecodeError",
    "DoesNotExist",
    "FieldError",
    "ForeignKeyViolation",
    "IntegrityError",
    "InvalidIdentifier",
    "InvalidQuery",
    "InvalidUrl",
    "MigrationError",
    "MultipleObjectsReturned",
    "NotLoaded",
    "NotNullViolation",
    "TransactionError",
    "UniqueViolation",
    "UnknownField",
    "UnknownLookup",
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


class FieldError(ChakraError):
    """A field or lookup that the model does not have."""


class UnknownField(FieldError, TypeError):
    """A field name the model does not have (also raised for unknown ``Model(**kwargs)``)."""


class UnknownLookup(FieldError):
    """A lookup that does not exist or does not apply to the field's type."""


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
    """A relation was read before it was loaded (Rust's ``Error::NotLoaded``)."""


class MigrationError(ChakraError):
    """A migration cannot be made, applied or rolled back."""
