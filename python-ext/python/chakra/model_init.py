"""A model's constructor compiled for its class: ``Book(title=..., price=...)`` as one
function with the fields as keyword-only parameters (no ``**kwargs`` dict, no template
copy), each value stored as an attribute, so the instance keeps CPython's compact
per-class attribute layout. Unknown keywords, relations given as objects and a subclass
reaching it through ``super().__init__`` take the generic path (``Model._init_generic``),
with the same results and errors."""

from __future__ import annotations

import inspect
import keyword
from collections.abc import Callable
from typing import Any

from .fields import NOW, Field, ForeignKey


class _Unset:
    """Every parameter's default: the field was not given (filled from its default then,
    a callable default called per object); the generic path gets only what was given."""

    def __repr__(self) -> str:
        return "<unset>"


UNSET = _Unset()

# The fast path's own names cannot collide with a field: fields never start with ``__``
# (a field may be named like a builtin, ``type`` or ``id``: no builtin is called by name).
_TEMPLATE = """\
def __init__(__s, /, *, {params}, **__kw):
    if __kw or __type(__s) is not __cls:
        return __slow(__s, {given}, __kw)
{body}
"""


def compiled_init(
    cls: type, fields: dict[str, Field[Any]], generic: Callable[[Any, dict[str, Any]], None]
) -> Callable[..., None] | None:
    """The compiled ``__init__`` for ``cls`` with ``fields``, or ``None`` when one cannot
    keep the generic constructor's behaviour: a field name that is not a plain identifier,
    a class with its own ``__setattr__``, or a field shadowed by something that intercepts
    assignment (a property, a data descriptor). ``generic(obj, kwargs)`` is the generic
    constructor, run for everything but the plain case."""
    if getattr(cls, "__setattr__", None) is not object.__setattr__:
        return None
    names = list(fields)
    for n in [*names, "_chakra_new"]:
        if not n.isidentifier() or keyword.iskeyword(n) or n.startswith("__"):
            return None
        found = class_attr(cls, n)
        if found is None:
            continue
        if not isinstance(found, Field):
            return None
        if hasattr(type(found), "__set__") or hasattr(type(found), "__delete__"):
            return None
    ns: dict[str, Any] = {"__cls": cls, "__slow": _slow(generic), "__U": UNSET, "__type": type}
    body = []
    for i, (n, f) in enumerate(fields.items()):
        if f.has_default() and f.default is not NOW and callable(f.default):
            ns[f"__d{i}"] = f.default
            fill = f"__d{i}()"
        else:
            ns[f"__d{i}"] = f.make_default()
            fill = f"__d{i}"
        body.append(f"    if {n} is __U:\n        {n} = {fill}")
    body.extend(f"    __s.{n} = {n}" for n in names)
    body.append("    __s._chakra_new = True")
    src = _TEMPLATE.format(
        params=", ".join(f"{n}=__U" for n in names),
        given="{" + ", ".join(f"{n!r}: {n}" for n in names) + "}",
        body="\n".join(body),
    )
    exec(compile(src, f"<chakra {cls.__qualname__}.__init__>", "exec"), ns)
    init: Callable[..., None] = ns["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__doc__ = f"Makes an unsaved {cls.__name__} (fields as keywords, defaults filled in)."
    init.__chakra_compiled__ = True  # type: ignore[attr-defined]
    init.__signature__ = _signature(fields)  # type: ignore[attr-defined]
    return init


def _signature(fields: dict[str, Field[Any]]) -> inspect.Signature:
    """What ``inspect.signature(Model)`` shows: each field a keyword with its declared default
    (a callable default as itself, called per object; ``None`` when none is declared), then
    ``**relations`` (a foreign key's object: ``Post(author=user)``)."""
    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY)]
    for n, f in fields.items():
        shown = f.default if f.has_default() and f.default is not NOW else None
        params.append(inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=shown))
    params.append(inspect.Parameter("relations", inspect.Parameter.VAR_KEYWORD))
    return inspect.Signature(params)


def class_attr(cls: type, name: str) -> Any:
    """``name`` as the class (or a base) defines it, without calling descriptors."""
    for base in cls.__mro__:
        if name in vars(base):
            return vars(base)[name]
    return None


def _slow(
    generic: Callable[[Any, dict[str, Any]], None],
) -> Callable[[Any, dict[str, Any], dict[str, Any]], None]:
    """The compiled constructor's way out: the fields it was given and the other keywords,
    to the generic constructor (which runs the object's own class's checks and defaults).
    The keywords reach it as fields first, then the rest: when a foreign key's object and
    its key field are both given, the key must be the object's (the call's order cannot be
    recovered, so two different keys are refused rather than one chosen)."""

    def slow(obj: Any, given: dict[str, Any], rest: dict[str, Any]) -> None:
        kwargs = {k: v for k, v in given.items() if v is not UNSET}
        kwargs.update(rest)
        generic(obj, kwargs)
        relations = getattr(type(obj), "_relations", {})
        d = obj.__dict__
        for k in rest:
            rel = relations.get(k)
            if isinstance(rel, ForeignKey) and rel.attname in given:
                key = given[rel.attname]
                if key is not UNSET and d.get(rel.attname) != key:
                    raise TypeError(
                        f"{type(obj).__name__}() got {k}={rest[k]!r} and "
                        f"{rel.attname}={key!r}, which is not its key: give one of them"
                    )

    return slow
