"""Table-level options declared in a model's ``class Meta`` (Django's spelling):
``indexes = [Index(...)]`` and ``constraints = [UniqueConstraint(...), CheckConstraint(...)]``.

Conditions and checks are ``Q`` objects in the lookup language; they are handed to the core
as a plain tree (``("and" | "or", [...])``, ``("not", node)``, ``("lookup", key, value)``),
which compiles them per database. An expression index takes its keys as expressions
(``Index(Lower("email"), name=...)``: a field name, ``F``, or ``Lower``/``Upper``/``Length`` of
one), handed over as ``("field", name)`` / ``("func", "Lower", [arg])``. No SQL here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .expressions import F, Func, Q

if TYPE_CHECKING:
    from ._chakra import _CheckSpec, _IndexSpec

__all__ = ["CheckConstraint", "Index", "UniqueConstraint"]

_Node = tuple[Any, ...]


class Index:
    """A named index over fields, or over expressions (``Index(Lower("email"), name=...)``);
    ``condition`` makes it partial."""

    __slots__ = ("condition", "expressions", "fields", "name")

    def __init__(
        self,
        *expressions: Any,
        fields: Sequence[str] = (),
        name: str,
        condition: Q | None = None,
    ) -> None:
        self.expressions = list(expressions)
        self.fields = list(fields)
        self.name = name
        self.condition = condition

    def spec(self, model: str) -> _IndexSpec:
        """What the core registers."""
        return _index_spec(model, self.name, self.fields, self.expressions, False, self.condition)


class UniqueConstraint:
    """No two rows share these fields' (or expressions') values (among the rows where
    ``condition`` holds): ``UniqueConstraint(Lower("email"), name=...)`` is case-insensitive."""

    __slots__ = ("condition", "expressions", "fields", "name")

    def __init__(
        self,
        *expressions: Any,
        fields: Sequence[str] = (),
        name: str,
        condition: Q | None = None,
    ) -> None:
        self.expressions = list(expressions)
        self.fields = list(fields)
        self.name = name
        self.condition = condition

    def spec(self, model: str) -> _IndexSpec:
        """What the core registers (a unique index, partial with a condition)."""
        return _index_spec(model, self.name, self.fields, self.expressions, True, self.condition)


class CheckConstraint:
    """Every row must satisfy ``check`` (a ``Q``)."""

    __slots__ = ("check", "name")

    def __init__(self, *, check: Q, name: str) -> None:
        self.check = check
        self.name = name

    def spec(self, model: str) -> _CheckSpec:
        """What the core registers."""
        return {"kind": "check", "name": self.name, "check": _tree(model, self.name, self.check)}


def _index_spec(
    model: str,
    name: str,
    fields: list[str],
    expressions: list[Any],
    unique: bool,
    condition: Q | None,
) -> _IndexSpec:
    if not isinstance(name, str) or not all(isinstance(f, str) for f in fields):
        raise TypeError(f"{model}.Meta: an index or constraint needs name=str and fields=[str]")
    if not fields and not expressions:
        raise TypeError(f"{model}.Meta {name!r}: an index needs fields=[...] or expressions")
    spec: _IndexSpec = {
        "kind": "index",
        "name": name,
        "fields": fields,
        "expressions": [_expr_tree(model, name, e) for e in expressions],
        "unique": unique,
    }
    if condition is not None:
        spec["condition"] = _tree(model, name, condition)
    return spec


def _expr_tree(model: str, name: str, e: Any) -> _Node:
    """An index key as a plain tree: ``("field", name)`` or ``("func", "Lower", [arg])``."""
    if isinstance(e, str):
        return ("field", e)
    if type(e) is F:
        return ("field", e.name)
    if isinstance(e, Func):
        return (
            "func",
            e.function,
            [_expr_tree(model, name, a) for a in e.source_expressions],
        )
    raise TypeError(
        f"{model}.Meta {name!r}: an index key is a field name, F(...) or Lower/Upper/Length "
        f"of one, got {e!r}"
    )


def _tree(model: str, name: str, q: Any) -> _Node:
    """The ``Q`` as a plain tree the core reads."""
    if not isinstance(q, Q):
        raise TypeError(f"{model}.Meta {name!r}: a condition or check is a Q object, got {q!r}")
    items: list[_Node] = []
    for child in q.children:
        if isinstance(child, Q):
            items.append(_tree(model, name, child))
        elif isinstance(child, tuple):
            key, value = child
            items.append(("lookup", key, value))
        else:
            raise TypeError(
                f"{model}.Meta {name!r}: an index or check sees one row; {child!r} is not allowed"
            )
    node: _Node = ("or" if q.connector == Q.OR else "and", items)
    return ("not", node) if q.negated else node
