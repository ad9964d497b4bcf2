"""``Q`` objects (AND / OR / NOT of lookups), ``F`` expressions (column references and
arithmetic over them) and aggregates (``Count``, ``Sum``, ``Avg``, ``Min``, ``Max``). All are
plain descriptions; the core parses and checks them."""

from __future__ import annotations

from typing import Any

__all__ = [
    "Aggregate",
    "Avg",
    "Case",
    "Cast",
    "Coalesce",
    "Combined",
    "Count",
    "Expression",
    "F",
    "Func",
    "Length",
    "Lower",
    "Max",
    "Min",
    "Now",
    "Q",
    "Sum",
    "Upper",
    "Value",
    "When",
]


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
    _chakra_kind = "field"

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"F({self.name!r})"


class OuterRef(F):
    """A field of the query a subquery is placed in:
    ``Post.objects.filter(author=OuterRef("pk"))`` inside ``Exists(…)`` or ``Subquery(…)``."""

    __slots__ = ()
    _chakra_kind = "outer"

    def __repr__(self) -> str:
        return f"OuterRef({self.name!r})"


class Subquery(Expression):
    """A queryset used as a value: one column (``.values("field")``), at most one row
    (``[:1]``): ``annotate(last=Subquery(Post.objects.filter(author=OuterRef("pk"))
    .order_by("-id").values("title")[:1]))``, ``filter(balance__gt=Subquery(…))``."""

    __slots__ = ("queryset",)
    _chakra_kind = "subquery"

    def __init__(self, queryset: Any) -> None:
        self.queryset = queryset

    def __repr__(self) -> str:
        return f"Subquery({self.queryset!r})"


class Exists(Expression):
    """Whether a queryset has rows: ``filter(Exists(Post.objects.filter(author=OuterRef("pk"))))``,
    ``exclude(Exists(…))`` or ``filter(~Exists(…))``, ``annotate(has_posts=Exists(…))``."""

    __slots__ = ("negated", "queryset")
    _chakra_kind = "exists"

    def __init__(self, queryset: Any, *, negated: bool = False) -> None:
        self.queryset = queryset
        self.negated = negated

    def __invert__(self) -> Exists:
        return Exists(self.queryset, negated=not self.negated)

    def __repr__(self) -> str:
        return f"{'~' if self.negated else ''}Exists({self.queryset!r})"


class Combined(Expression):
    """``lhs op rhs`` with ``op`` one of ``+ - * /``."""

    __slots__ = ("lhs", "op", "rhs")
    _chakra_kind = "combined"

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

    def __init__(
        self, *args: Q | Exists, _connector: str = "AND", _negated: bool = False, **kwargs: Any
    ):
        for a in args:
            if not isinstance(a, (Q, Exists)):
                raise TypeError(
                    f"positional filter arguments must be Q or Exists objects, got {a!r}"
                )
        self.children: list[Q | Exists | tuple[str, Any]] = [*args, *kwargs.items()]
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
            repr(c) if not isinstance(c, tuple) else f"{c[0]}={c[1]!r}" for c in self.children
        )
        return f"{'~' if self.negated else ''}Q({inner})"


class Aggregate:
    """An aggregate over a field: ``Sum("balance")``, ``Count("id", distinct=True)``,
    ``Count("id", filter=Q(is_active=True))``. The core checks the field exists and the
    function applies to its type (``errors.InvalidAggregate`` otherwise)."""

    __slots__ = ("distinct", "field", "filter")

    function = ""
    _chakra_kind = "aggregate"

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


def _expr(e: Any) -> Any:
    """A string names a field, as in Django's functions."""
    return F(e) if isinstance(e, str) else e


class Func(Expression):
    """A scalar function over expressions; strings name fields (``Lower("username")``).
    The core checks the argument types (``Lower`` of a number is ``errors.InvalidQuery``)."""

    __slots__ = ("source_expressions",)
    function = ""
    _chakra_kind = "func"

    def __init__(self, *expressions: Any) -> None:
        self.source_expressions = [_expr(e) for e in expressions]

    def __repr__(self) -> str:
        return f"{self.function}({', '.join(map(repr, self.source_expressions))})"


class Coalesce(Func):
    """The first argument that is not NULL: ``Coalesce("nick", "username")``,
    ``Coalesce("n", 0)``, ``Coalesce("nick", Value("anon"))`` (strings name fields; plain
    values take the type of the other arguments)."""

    __slots__ = ()
    function = "Coalesce"


class Lower(Func):
    """Lower-cased text (Unicode-aware on both backends)."""

    __slots__ = ()
    function = "Lower"


class Upper(Func):
    """Upper-cased text (Unicode-aware on both backends)."""

    __slots__ = ()
    function = "Upper"


class Length(Func):
    """The number of characters of a text (``int``)."""

    __slots__ = ()
    function = "Length"


class Now(Func):
    """The current timestamp (UTC ``datetime``)."""

    __slots__ = ()
    function = "Now"


class Value(Expression):
    """A plain value where a string would name a field: ``Coalesce("nick", Value("anon"))``."""

    __slots__ = ("value",)
    _chakra_kind = "value"

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"Value({self.value!r})"


class Cast(Expression):
    """``CAST(expression AS output_field)``: ``Cast("n", Float)``, ``Cast("price", Text)``.
    Targets: ``Integer``, ``BigInteger``, ``Float``, ``Decimal`` (from integers and
    decimals), ``Text``/``String`` (from numbers other than floats, and text). A float cast
    to an integer truncates toward zero on both backends."""

    __slots__ = ("expression", "output_field")
    _chakra_kind = "cast"

    def __init__(self, expression: Any, output_field: Any) -> None:
        from .types import as_type

        self.expression = _expr(expression)
        self.output_field = as_type(output_field)

    def __repr__(self) -> str:
        return f"Cast({self.expression!r}, {self.output_field!r})"


class When:
    """One branch of :class:`Case`: ``When(Q(...), then=value)`` or
    ``When(field__lookup=value, then=value)``; ``then`` may be an expression (a string is a
    plain value here, as in Django only ``F("x")`` names a field)."""

    __slots__ = ("condition", "then")

    def __init__(self, condition: Q | None = None, *, then: Any, **lookups: Any) -> None:
        if condition is not None and not isinstance(condition, Q):
            raise TypeError(f"When() takes a Q object or lookups, got {condition!r}")
        q = Q(**lookups)
        self.condition = q if condition is None else (condition & q if lookups else condition)
        self.then = then

    def __repr__(self) -> str:
        return f"When({self.condition!r}, then={self.then!r})"


class Case(Expression):
    """``CASE WHEN … THEN … ELSE default END``: ``Case(When(balance__gte=100,
    then="rich"), default="poor")``; the values must have one type."""

    __slots__ = ("cases", "default")
    _chakra_kind = "case"

    def __init__(self, *cases: When, default: Any = None) -> None:
        for c in cases:
            if not isinstance(c, When):
                raise TypeError(f"Case() takes When(...) objects, got {c!r}")
        self.cases = list(cases)
        self.default = default

    def __repr__(self) -> str:
        return f"Case({', '.join(map(repr, self.cases))}, default={self.default!r})"
