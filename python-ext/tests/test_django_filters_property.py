"""Generated filters (lookups x relations x ``Q``/``~`` x ``exclude`` x chained ``filter``
calls) on authors, their books (with a nullable editor) and the books' tags, on SQLite and
PostgreSQL, compared with an independent evaluation of Django's rules in plain Python over
the loaded rows:

- one ``filter()`` call: the conditions ANDed at one level on the same relation meet in one
  related row (recursively along longer paths); ``isnull=True``/``None`` also match "no
  related row" when every condition on that relation does (Django's LEFT JOIN);
- under ``~`` / ``exclude``: each condition on a relation is its own "some related row";
- ``NOT`` keeps rows whose condition is NULL (Django's exclude on nullable fields);
- one ``filter()`` call joins each relation once for all its conditions, in AND and OR
  branches alike (Django's join reuse): a row is kept when one choice of related rows (the
  NULL row of a LEFT JOIN where there is none) makes the whole not-negated tree true;
- chained ``filter()`` calls are independent.

The generator puts conditions on the same relations in OR branches and at the AND level of
one call. A seeded generator (no hypothesis in the dev requirements): a failure prints the
seed and the query.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import chakra
import pytest
from chakra import F, Q
from django_data import MODELS, Data, DjAuthor, seed


def fold(s: str) -> str:
    return "".join(c.lower()[:1] or c for c in s).replace("\u03c2", "\u03c3")


@dataclass(frozen=True)
class Leaf:
    key: str
    value: Any


@dataclass(frozen=True)
class Node:
    op: str  # "and", "or", "not"
    items: tuple[Any, ...]


# -- the rows, as Django sees them ---------------------------------------------------------


class World:
    def __init__(self, d: Data) -> None:
        self.d = d

    def related(self, kind: str, obj: Any, rel: str) -> list[tuple[str, Any]]:
        a, b, t = self.d.authors, self.d.books, self.d.tags
        if kind == "author" and rel == "books":
            return [("book", b[i]) for i in obj.books]
        if kind == "author" and rel == "edited":
            return [("book", b[i]) for i in obj.edited]
        if kind == "book" and rel == "tags":
            return [("tag", t[i]) for i in obj.tags]
        if kind == "book" and rel == "editor":
            return [] if obj.editor is None else [("author", a[obj.editor])]
        raise AssertionError(rel)


RELATIONS = {"author": {"books", "edited"}, "book": {"tags", "editor"}, "tag": set()}
LOOKUPS = {"exact", "iexact", "icontains", "startswith", "gt", "gte", "lt", "lte", "in"}
LOOKUPS |= {"isnull", "range"}


def split(key: str) -> tuple[list[str], str, str]:
    """``books__tags__name__icontains`` → (["books", "tags"], "name", "icontains")."""
    parts = key.split("__")
    op = "exact"
    if parts[-1] in LOOKUPS:
        op = parts.pop()
    hops: list[str] = []
    kind = "author"
    while parts and parts[0] in RELATIONS[kind]:
        rel = parts.pop(0)
        hops.append(rel)
        kind = {"books": "book", "edited": "book", "tags": "tag", "editor": "author"}[rel]
    field = parts[0] if parts else "id"  # `books=None` is the key
    return hops, field, op


def rel_isnull(leaf: Leaf) -> bool:
    """``books__isnull=…``, ``books__tags__isnull=…``: about the related row itself."""
    parts = leaf.key.split("__")
    return (
        len(parts) >= 2
        and parts[-1] == "isnull"
        and parts[-2] in ("books", "edited", "tags", "editor")
    )


def null_matching(leaf: Leaf) -> bool:
    _, _, op = split(leaf.key)
    return (op == "isnull" and leaf.value is True) or (op == "exact" and leaf.value is None)


def check_value(val: Any, op: str, arg: Any, root: Any) -> bool:
    if isinstance(arg, F):
        arg = getattr(root, arg.name)
        if arg is None:
            return False
    if op == "isnull":
        return (val is None) is arg
    if op == "exact" and arg is None:
        return val is None
    if val is None:
        return False
    if op == "exact":
        return bool(val == arg)
    if op == "iexact":
        return fold(val) == fold(arg)
    if op == "icontains":
        return fold(arg) in fold(val)
    if op == "startswith":
        return bool(val.startswith(arg))
    if op == "in":
        return val in arg
    if op == "range":
        return bool(arg[0] <= val <= arg[1])
    return bool({"gt": val > arg, "gte": val >= arg, "lt": val < arg, "lte": val <= arg}[op])


def eval_leaves(
    w: World, kind: str, obj: Any, leaves: list[tuple[list[str], Leaf]], root: Any
) -> bool:
    """Leaves (with their remaining hops) on ``obj``: those crossing the same relation meet
    in one related row, recursively; "no related row" matches when all of them match NULL."""
    groups: dict[str, list[tuple[list[str], Leaf]]] = {}
    for hops, leaf in leaves:
        if hops:
            groups.setdefault(hops[0], []).append((hops[1:], leaf))
        elif rel_isnull(leaf):
            if leaf.value:  # a related row is there, so "isnull=True" fails on it
                return False
        else:
            _, field, op = split(leaf.key)
            if not check_value(getattr(obj, field), op, leaf.value, root):
                return False
    for rel, sub in groups.items():
        rows = w.related(kind, obj, rel)
        if not rows and all(null_matching(leaf) for _, leaf in sub):
            continue
        if not any(eval_leaves(w, k, r, sub, root) for k, r in rows):
            return False
    return True


KIND_OF = {"books": "book", "edited": "book", "tags": "tag", "editor": "author"}


def joined_paths(node: Any, out: set[tuple[str, ...]]) -> None:
    """The relation paths the not-negated conditions of a ``filter()`` call join."""
    if isinstance(node, Leaf):
        hops = split(node.key)[0]
        for k in range(1, len(hops) + 1):
            out.add(tuple(hops[:k]))
    elif node.op == "not":
        inner = node.items[0]
        if isinstance(inner, Node) and inner.op == "not":
            joined_paths(inner.items[0], out)
    else:
        for i in node.items:
            joined_paths(i, out)


def envs(w: World, author: Any, paths: set[tuple[str, ...]]) -> Any:
    """Every choice of one joined row per path (``None``: the NULL row of a LEFT JOIN,
    only where there is no related row), parents before children."""
    ordered = sorted(paths, key=len)
    env: dict[tuple[str, ...], Any] = {}

    def rec(i: int) -> Any:
        if i == len(ordered):
            yield dict(env)
            return
        p = ordered[i]
        parent = env[p[:-1]] if len(p) > 1 else ("author", author)
        options = [None] if parent is None else (w.related(*parent, p[-1]) or [None])
        for o in options:
            env[p] = o
            yield from rec(i + 1)
        del env[p]

    yield from rec(0)


def holds(w: World, node: Any, author: Any, env: dict[tuple[str, ...], Any]) -> bool:
    """``node`` on ``author`` with the related rows of ``env`` (unknown counts as false: no
    negation sits between here and the WHERE clause)."""
    if isinstance(node, Leaf):
        hops, field, op = split(node.key)
        obj = env[tuple(hops)] if hops else ("author", author)
        val = None if obj is None else getattr(obj[1], field)
        return check_value(val, op, node.value, author)
    if node.op == "not":
        inner = node.items[0]
        if isinstance(inner, Node) and inner.op == "not":
            return holds(w, inner.items[0], author, env)
        return not ev(w, inner, author, False)
    if node.op == "or":
        return any(holds(w, i, author, env) for i in node.items)
    return all(holds(w, i, author, env) for i in node.items)


def ev_call(w: World, node: Any, author: Any) -> bool:
    """Django's answer for one ``filter()`` call: some choice of joined rows satisfies it."""
    paths: set[tuple[str, ...]] = set()
    joined_paths(node, paths)
    return any(holds(w, node, author, env) for env in envs(w, author, paths))


def ev_separate(w: World, node: Any, author: Any) -> bool:
    """One ``filter()`` call with each OR branch its own join (not Django's rule: the
    generator check that join reuse decides some answers)."""
    if isinstance(node, Node) and node.op == "or":
        return any(ev_separate(w, i, author) for i in node.items)
    if isinstance(node, Node) and node.op == "and":
        plain = [i for i in node.items if not (isinstance(i, Node) and i.op == "or")]
        ors = [i for i in node.items if isinstance(i, Node) and i.op == "or"]
        return ev_call(w, Node("and", tuple(plain)), author) and all(
            ev_separate(w, o, author) for o in ors
        )
    return ev_call(w, node, author)


def ev(w: World, node: Any, author: Any, merge: bool) -> bool:
    """Django's answer for ``node`` on ``author``; ``merge``: in a ``filter()`` call, not
    under a negation."""
    if merge:
        return ev_call(w, node, author)
    if isinstance(node, Leaf):
        return eval_leaves(w, "author", author, [(split(node.key)[0], node)], author)
    if node.op == "not":
        inner = node.items[0]
        if isinstance(inner, Node) and inner.op == "not":
            # `~~Q(x)` is `Q(x)` (the negation flag toggles back), in Django as here.
            return ev(w, inner.items[0], author, merge)
        return not ev(w, inner, author, False)
    if node.op == "or":
        return any(ev(w, i, author, merge) for i in node.items)
    items: list[Any] = []

    def flat(n: Any) -> None:
        if isinstance(n, Node) and n.op == "and":
            for i in n.items:
                flat(i)
        else:
            items.append(n)

    for i in node.items:
        flat(i)
    if not merge:
        return all(ev(w, i, author, False) for i in items)
    leaves = [(split(i.key)[0], i) for i in items if isinstance(i, Leaf)]
    rest = [i for i in items if not isinstance(i, Leaf)]
    return eval_leaves(w, "author", author, leaves, author) and all(
        ev(w, i, author, True) for i in rest
    )


# -- the generator ---------------------------------------------------------------------------

OWN = [
    lambda r: Leaf("age", r.choice([None, 23, 41, 59])),
    lambda r: Leaf(f"age__{r.choice(['gt', 'lte'])}", r.choice([30, 50, 70])),
    lambda r: Leaf("age__isnull", r.choice([True, False])),
    lambda r: Leaf("age__in", r.sample([20, 23, 26, 41, 44, 59, 62, 77], 3)),
    lambda r: Leaf("name", r.choice([None, "Ann", "bob", ""])),
    lambda r: Leaf("name__iexact", r.choice(["ANN", "ZOË", "σίσυφος", "İLKER"])),
    lambda r: Leaf("name__icontains", r.choice(["a", "\u03a3", "e", "\u0131"])),
    lambda r: Leaf("name__startswith", r.choice(["A", "b", "Z", ""])),
    lambda r: Leaf(f"age__{r.choice(['gte', 'lt'])}", r.choice([23, 41, 59])),
    lambda r: Leaf("age__range", (r.choice([20, 40]), r.choice([45, 80]))),
    lambda r: Leaf(f"age__{r.choice(['gt', 'lte'])}", F("id")),
]

BOOKS = [
    lambda r: Leaf(f"books__pages__{r.choice(['gt', 'lt'])}", r.choice([300, 800, 1200])),
    lambda r: Leaf("books__pages__range", (r.choice([100, 500]), r.choice([900, 1400]))),
    lambda r: Leaf("books__price", r.choice([None, 3, 7, 11])),
    lambda r: Leaf("books__price__lt", r.choice([8, 15, 30])),
    lambda r: Leaf("books__price__isnull", r.choice([True, False])),
    lambda r: Leaf("books__title__iexact", r.choice(["DUNE", "ΣΊΣΥΦΟΣ", "straße"])),
    lambda r: Leaf("books__title__icontains", r.choice(["d", "\u03c3", "k"])),
    lambda r: Leaf("books__id__gt", F("id")),
    lambda r: Leaf("books__pages__gt", F("age")),
    lambda r: Leaf("books__tags__name", r.choice(["sci-fi", "Poetry", "kids"])),
    lambda r: Leaf("books__tags__name__icontains", r.choice(["o", "λ"])),
    lambda r: Leaf("books__tags", None),
    lambda r: Leaf("books__editor__age__gt", r.choice([30, 60])),
    lambda r: Leaf("books__editor__age", None),
    lambda r: Leaf("books__editor__name__isnull", r.choice([True, False])),
    lambda r: Leaf("books", None),
    lambda r: Leaf("books__isnull", r.choice([True, False])),
    lambda r: Leaf("books__tags__isnull", r.choice([True, False])),
    lambda r: Leaf("books__title__startswith", r.choice(["D", "s", "Σ"])),
    lambda r: Leaf("books__pages__gte", F("age")),
    lambda r: Leaf("books__tags__name__in", r.sample(["sci-fi", "Poetry", "kids", "x"], 2)),
    lambda r: Leaf("books__editor__name__iexact", r.choice(["ANN", "bob", "ZOË"])),
    lambda r: Leaf("books__editor__age__lte", F("age")),
]

EDITED = [
    lambda r: Leaf("edited__pages__gt", r.choice([200, 1000])),
    lambda r: Leaf("edited", None),
    lambda r: Leaf("edited__price__isnull", True),
]


def gen_unit(r: random.Random, depth: int, edited_or: list[bool]) -> Any:
    """A unit of one call's AND: a leaf (own or on ``books``), an OR of leaves (own,
    ``edited``, and every other OR of the call ``books`` ones too), or a negation of
    anything."""
    roll = r.random()
    if roll < 0.35:
        return r.choice(BOOKS)(r)
    if roll < 0.6:
        return r.choice(OWN)(r)
    if roll < 0.8 or depth > 1:
        # OR branches on the relations the AND level also reads (one join per call).
        pool = OWN + BOOKS + EDITED if edited_or[0] else OWN + EDITED
        edited_or[0] = not edited_or[0]
        return Node("or", tuple(r.choice(pool)(r) for _ in range(r.randint(2, 3))))
    inner = Node("and", tuple(gen_any(r, depth + 1) for _ in range(r.randint(1, 3))))
    return Node("not", (inner,))


def gen_any(r: random.Random, depth: int) -> Any:
    """Anything (for under a negation, where nothing merges)."""
    roll = r.random()
    if roll < 0.6 or depth > 2:
        return r.choice(OWN + BOOKS + EDITED)(r)
    kids = tuple(gen_any(r, depth + 1) for _ in range(r.randint(2, 3)))
    return Node(r.choice(["and", "or", "not"]), kids[:1] if roll > 0.9 else kids)


def to_q(node: Any) -> Q:
    if isinstance(node, Leaf):
        return Q(**{node.key: node.value})
    if node.op == "not":
        return ~to_q(node.items[0])
    if len(node.items) == 1:
        return Q(to_q(node.items[0]))
    out = to_q(node.items[0])
    for i in node.items[1:]:
        out = (out & to_q(i)) if node.op == "and" else (out | to_q(i))
    return out


def gen_query(r: random.Random) -> list[tuple[str, Node]]:
    calls = []
    for _ in range(r.randint(1, 3)):
        kind = "exclude" if r.random() < 0.3 else "filter"
        used = [False]
        units = tuple(gen_unit(r, 0, used) for _ in range(r.randint(1, 3)))
        calls.append((kind, Node("and", units)))
    return calls


def gen_shared(r: random.Random) -> list[tuple[str, Node]]:
    """One ``filter()`` call reading a relation at its AND level and in an OR branch (the
    join-reuse shape), sometimes after another call."""
    rel = r.choice([BOOKS, EDITED])
    branch = Node("or", (r.choice(rel)(r), r.choice(OWN + BOOKS)(r)))
    units: tuple[Any, ...] = (r.choice(rel)(r), branch)
    if r.random() < 0.4:
        units += (r.choice(OWN + BOOKS)(r),)
    calls = [("filter", Node("and", units))]
    if r.random() < 0.3:
        calls.insert(0, ("exclude", Node("and", (r.choice(OWN + BOOKS)(r),))))
    return calls


@pytest.fixture
async def data(db: Any) -> Data:
    await chakra.create_tables(*MODELS)
    return await seed(seed=11, n_authors=16, n_books=45)


def or_and_elsewhere(node: Node) -> bool:
    """True when a relation is read both inside an OR branch and elsewhere in the call."""

    def firsts(n: Any, in_or: bool, out: list[tuple[str, bool]]) -> None:
        if isinstance(n, Leaf):
            hops = split(n.key)[0]
            if hops:
                out.append((hops[0], in_or))
        elif n.op != "not":
            for i in n.items:
                firsts(i, in_or or n.op == "or", out)

    seen: list[tuple[str, bool]] = []
    firsts(node, False, seen)
    return any(o and sum(1 for r2, _ in seen if r2 == r) >= 2 for r, o in seen)


async def test_generated_filters_match_djangos_rules(data: Data) -> None:
    w = World(data)
    rnd = random.Random(20261204)
    shared = differs = 0
    for n in range(400):
        calls = gen_query(rnd) if n < 250 else gen_shared(rnd)
        qs = DjAuthor.objects.all()
        want = set(data.authors)
        for kind, node in calls:
            q = to_q(node)
            if kind == "filter":
                qs = qs.filter(q)
                if or_and_elsewhere(node):
                    shared += 1
                    # Where one join per call gives another answer than separate ones.
                    differs += any(
                        ev(w, node, a, True) != ev_separate(w, node, a)
                        for a in data.authors.values()
                    )
                want = {i for i in want if ev(w, node, data.authors[i], True)}
            else:
                qs = qs.exclude(q)
                want = {i for i in want if not ev(w, node, data.authors[i], False)}
        got = sorted(o.id for o in await qs.all())
        assert got == sorted(want), f"query {n}: {calls}"
    # The generator reaches the join-reuse shapes, and some of them decide the answer.
    assert shared >= 40 and differs >= 5, (shared, differs)
