"""The canonical field types, shared with Rust models and migration files.

Use a type bare (``Field(Integer)``) or with its parameters (``Field(String(50))``,
``Field(Decimal(12, 2))``, ``Field(Array(Integer))``, ``Field(Enum(Status))``).
"""

from __future__ import annotations

import datetime as _dt
import decimal as _decimal
import enum as _enum
import re as _re
import uuid as _uuid
from typing import Any, Generic, TypeVar

T = TypeVar("T")
E = TypeVar("E", bound=_enum.Enum)

__all__ = [
    "JSON",
    "UUID",
    "Array",
    "BigInteger",
    "Boolean",
    "Bytes",
    "Date",
    "DateTime",
    "Decimal",
    "Enum",
    "FieldType",
    "Float",
    "Integer",
    "String",
    "Text",
]


class FieldType(Generic[T]):
    """A canonical type. ``T`` is the Python type of its values."""

    name: str = ""

    def spec(self) -> tuple[Any, ...]:
        """The type as the core reads it: ``(name, *parameters)``."""
        return (self.name,)

    def __repr__(self) -> str:
        args = ", ".join(repr(a) for a in self.spec()[1:] if a is not None)
        return f"{type(self).__name__}({args})" if args else type(self).__name__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FieldType) and self.spec() == other.spec()

    def __hash__(self) -> int:
        return hash(self.spec())


class Integer(FieldType[int]):
    """32-bit integer (INTEGER)."""

    name = "Integer"


class BigInteger(FieldType[int]):
    """64-bit integer (BIGINT)."""

    name = "BigInteger"


class String(FieldType[str]):
    """Text with an optional maximum length in characters (VARCHAR(n))."""

    name = "String"

    def __init__(self, max_length: int | None = None) -> None:
        self.max_length = max_length

    def spec(self) -> tuple[Any, ...]:
        return (self.name, self.max_length)


class Text(FieldType[str]):
    """Unbounded text."""

    name = "Text"


class Boolean(FieldType[bool]):
    """True or False."""

    name = "Boolean"


class Float(FieldType[float]):
    """64-bit float (DOUBLE PRECISION)."""

    name = "Float"


class Decimal(FieldType[_decimal.Decimal]):
    """Exact decimal (NUMERIC(precision, scale)); values are ``decimal.Decimal``."""

    name = "Decimal"

    def __init__(self, precision: int | None = None, scale: int | None = None) -> None:
        self.precision = precision
        self.scale = scale

    def spec(self) -> tuple[Any, ...]:
        return (self.name, self.precision, self.scale)


class DateTime(FieldType[_dt.datetime]):
    """Timestamp in UTC. Reads back timezone-aware (UTC); naive values are taken as UTC."""

    name = "DateTime"


class Date(FieldType[_dt.date]):
    """Calendar date."""

    name = "Date"


class Bytes(FieldType[bytes]):
    """Raw bytes (BYTEA / BLOB)."""

    name = "Bytes"


class JSON(FieldType[Any]):
    """A JSON document: dicts, lists, str, int, float, bool, None."""

    name = "JSON"


class UUID(FieldType[_uuid.UUID]):
    """A UUID; values are ``uuid.UUID``."""

    name = "UUID"


class Array(FieldType[list[Any]]):
    """A list of one element type (``Array(Integer)``)."""

    name = "Array"

    def __init__(self, element: FieldType[Any] | type[FieldType[Any]]) -> None:
        self.element = as_type(element)

    def spec(self) -> tuple[Any, ...]:
        return (self.name, self.element.spec())


class Enum(FieldType[E]):
    """One of the members of a Python ``enum.Enum`` (or ``StrEnum``), stored as its value.

    ``Field(Enum(Status))``: each member's ``value`` is its stored text (write the value a
    Rust ``#[chakra(value = "...")]`` variant stores). ``name`` is the enum's name in
    migrations (``ticket_status``); it defaults to the class name in snake case.
    Attributes read back as members; an unknown stored value is a ``DecodeError`` naming the
    model, the field and the value.
    """

    name = "Enum"

    def __init__(self, enum: type[E], name: str | None = None) -> None:
        if not (isinstance(enum, type) and issubclass(enum, _enum.Enum)):
            raise TypeError(f"Enum() takes an enum.Enum subclass, got {enum!r}")
        values: list[str] = []
        for member in enum:
            if not isinstance(member.value, str):
                raise TypeError(
                    f"{enum.__name__}.{member.name} has the value {member.value!r}: an Enum "
                    "field stores text, so every member's value must be a str"
                )
            values.append(member.value)
        self.enum = enum
        self.enum_name = name or _re.sub(r"(?<!^)(?=[A-Z])", "_", enum.__name__).lower()
        self.values = tuple(values)

    def spec(self) -> tuple[Any, ...]:
        return (self.name, self.enum_name, self.values, self.enum)

    def __repr__(self) -> str:
        return f"Enum({self.enum.__name__}, name={self.enum_name!r})"


def as_type(t: FieldType[T] | type[FieldType[T]]) -> FieldType[T]:
    """A type instance from a type or a type class (``Integer`` → ``Integer()``)."""
    if isinstance(t, type) and issubclass(t, FieldType):
        return t()
    if isinstance(t, FieldType):
        return t
    raise TypeError(f"expected a chakra field type such as Integer or String(50), got {t!r}")
