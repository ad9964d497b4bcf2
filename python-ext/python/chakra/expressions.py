"""``Q`` objects (AND / OR / NOT of lookups), ``F`` expressions (column references and
arithmetic over them) and aggregates (``Count``, ``Sum``, ``Avg``, ``Min``, ``Max``). All are
plain descriptions; the core parses and checks them."""

from __future__ import annotations

from typing import Any

__all__ = ["Aggregate", "Avg", "Combined", "Count", "Expression", "F", "Max", "Min", "Q", "Sum"]


class Expression:
    """Base of ``F`` and arithmetic over it."""

    __slots__ = ()

    def _combine(self, op: str, other: Any, reverse: bool = False) -> Combined:
        return Combined(other, op, self) if reverse else Combined(self, op, other)

    def __add__(self, other: Any) -> Combined:
        return self._combine("+", other)

    def __radd__(self, other: Any) -> Combined:
        return self._combine("+", other, True)

    def __sub__(self, other: Any) -> Combined:
        return self._combine("-", other)

    def __rsub__(self, other: Any) -> Combined:
        return self._combine("-", other, True)

    def __mul__(self, other: Any) -> Combined:
        return self._combine("*", other)

    def __rmul__(self, other: Any) -> Combined:
        return self._combine("*", other, True)

    def __truediv__(self, other: Any) -> Combined:
        return self._combine("/", other)

    def __rtruediv__(self, other: Any) -> Combined:
        return self._combine("/", other, True)


class F(Expression):
    """The value of another field of the same row: ``filter(balance__lt=F("limit"))``,
    ``update(balance=F("balance") - 100)``."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"F({self.name!r})"


class Combined(Expression):
    """``lhs op rhs`` with ``op`` one of ``+ - * /``."""

    __slots__ = ("lhs", "op", "rhs")

    def __init__(self, lhs: Any, op: str, rhs: Any) -> None:
        self.lhs = lhs
        self.op = op
        self.rhs = rhs

    def __repr__(self) -> str:
        return f"({self.lhs!r} {self.op} {self.rhs!r})"


class Q:
    """A condition tree: ``Q(a=1) | Q(b=2)``, ``Q(a=1) & ~Q(b=2)``.

    Keyword arguments are ANDed; ``~`` negates with Django's NULL semantics (rows where a
    nullable field is NULL do not match the inner condition, so they survive the negation).
    """

    __slots__ = ("children", "connector", "negated")

    AND = "AND"
    OR = "OR"

    def __init__(self, *args: Q, _connector: str = "AND", _negated: bool = False, **kwargs: Any):
        for a in args:
            if not isinstance(a, Q):
                raise TypeError(f"positional filter arguments must be Q objects, got {a!r}")
        self.children: list[Q | tuple[str, Any]] = [*args, *kwargs.items()]
        self.connector = _connector
        self.negated = _negated

    def _combine(self, other: Q, connector: str) -> Q:
        if not isinstance(other, Q):
            raise TypeError(f"cannot combine Q with {other!r}")
        return Q(self, other, _connector=connector)

    def __or__(self, other: Q) -> Q:
        return self._combine(other, self.OR)

    def __and__(self, other: Q) -> Q:
        return self._combine(other, self.AND)

    def __invert__(self) -> Q:
        q = Q(_connector=self.connector, _negated=not self.negated)
        q.children = list(self.children)
        return q

    def __repr__(self) -> str:
        inner = f" {self.connector} ".join(
            repr(c) if isinstance(c, Q) else f"{c[0]}={c[1]!r}" for c in self.children
        )
        return f"{'~' if self.negated else ''}Q({inner})"


class Aggregate:
    """An aggregate over a field: ``Sum("balance")``, ``Count("id", distinct=True)``,
    ``Count("id", filter=Q(is_active=True))``. The core checks the field exists and the
    function applies to its type (``errors.InvalidAggregate`` otherwise)."""

    __slots__ = ("distinct", "field", "filter")

    function = ""

    def __init__(self, field: str, *, distinct: bool = False, filter: Q | None = None) -> None:
        if not isinstance(field, str):
            raise TypeError(f"{self.function}() takes a field name, got {field!r}")
        if filter is not None and not isinstance(filter, Q):
            raise TypeError(f"{self.function}(filter=...) takes a Q object, got {filter!r}")
        self.field = field
        self.distinct = distinct
        self.filter = filter

    @property
    def default_alias(self) -> str:
        """The name ``aggregate()`` gives it when passed positionally (``balance__sum``;
        ``count`` for ``Count("*")``)."""
        if self.field == "*":
            return self.function.lower()
        return f"{self.field}__{self.function.lower()}"

    def _spec(self, alias: str) -> tuple[str, str, str | None, bool, Q | None]:
        field = None if self.field == "*" else self.field
        return (alias, self.function, field, self.distinct, self.filter)

    def __repr__(self) -> str:
        extra = ", distinct=True" if self.distinct else ""
        if self.filter is not None:
            extra += f", filter={self.filter!r}"
        return f"{self.function}({self.field!r}{extra})"


class Count(Aggregate):
    """``COUNT(field)``: the rows where the field is not NULL; ``Count("*")`` counts every
    row. 0 over no rows."""

    __slots__ = ()
    function = "Count"


class Sum(Aggregate):
    """``SUM(field)`` of a numeric field: ``int`` for integers, ``float``, exact
    ``Decimal`` for decimals; ``None`` over no rows."""

    __slots__ = ()
    function = "Sum"


class Avg(Aggregate):
    """``AVG(field)`` of a numeric field: ``float`` for integers and floats, ``Decimal``
    (16 decimal places) for decimals; ``None`` over no rows."""

    __slots__ = ()
    function = "Avg"


class Min(Aggregate):
    """``MIN(field)`` of a number, text, date or timestamp field; ``None`` over no rows."""

    __slots__ = ()
    function = "Min"


class Max(Aggregate):
    """``MAX(field)`` of a number, text, date or timestamp field; ``None`` over no rows."""

    __slots__ = ()
    function = "Max"
