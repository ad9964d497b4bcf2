"""One query, two front doors: every case of tests/front_doors/queries.json (written by the
Rust test chakra/tests/lookups_vs_ir.rs, which checks that the lookup parser and the Rust
typed DSL build the same IR and select the same rows) compiles through the Python package to
the same SQL as through the Rust typed DSL, and selects the same rows here. The same for the
lookups across relations of tests/front_doors/relations.json (chakra/tests/relations_vs_ir.rs,
on the blog of chakra/tests/blog/mod.rs, which tests/models.py mirrors)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from chakra import (
    Avg,
    Case,
    Coalesce,
    Count,
    F,
    Length,
    Lower,
    Max,
    Min,
    Q,
    Sum,
    Value,
    When,
    errors,
)
from models import Item, Post, User
from test_relationships import seed

GOLDEN = Path(__file__).parents[2] / "tests" / "front_doors"
ALL_CASES = json.loads((GOLDEN / "queries.json").read_text())
CASES = [c for c in ALL_CASES if "kind" not in c]
AGGREGATE_CASES = [c for c in ALL_CASES if c.get("kind") == "aggregate"]
GROUP_CASES = [c for c in ALL_CASES if c.get("kind") == "group"]
ANNOTATE_CASES = [c for c in ALL_CASES if c.get("kind") == "annotate"]
AGGREGATES: dict[str, Any] = {"Count": Count, "Sum": Sum, "Avg": Avg, "Min": Min, "Max": Max}
RELATION_CASES = json.loads((GOLDEN / "relations.json").read_text())
SUBQUERY_CASES = json.loads((GOLDEN / "subqueries.json").read_text())
PATH_CASES = json.loads((GOLDEN / "relation_paths.json").read_text())
MODELS: dict[str, Any] = {"Post": Post, "User": User}

SEED_QUERY_PG = (
    'SELECT "users"."id", "users"."username", "users"."email", "users"."created_at", '
    '"users"."is_active", "users"."balance" FROM "users" WHERE ("users"."username" LIKE $1 '
    'ESCAPE \'\\\') AND ("users"."is_active" = $2) ORDER BY "users"."created_at" DESC '
    "LIMIT $3"
)


def check_mysql(sql: Callable[[str], str], case: dict[str, Any]) -> None:
    """The case's MySQL SQL, or (a ``null`` in the golden file) MySQL's named refusal."""
    if case["mysql"] is None:
        with pytest.raises(errors.InvalidQuery, match="MySQL"):
            sql("mysql")
    else:
        assert sql("mysql") == case["mysql"]


def value(j: Any) -> Any:
    if isinstance(j, dict) and "$json" in j:
        return j["$json"]
    if isinstance(j, dict):
        return date.fromisoformat(j["$date"])
    if isinstance(j, list):
        return [value(x) for x in j]
    return j


def queryset(case: dict[str, Any]) -> Any:
    kwargs = {k: value(v) for k, v in case["kwargs"]}
    base = Item.objects.exclude(**kwargs) if case["exclude"] else Item.objects.filter(**kwargs)
    return base.order_by("id").values_list("id", flat=True)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_same_sql_as_the_rust_typed_dsl(case: dict[str, Any]) -> None:
    qs = queryset(case)
    assert qs.sql("postgres") == case["postgres"]
    assert qs.sql("sqlite") == case["sqlite"]
    check_mysql(qs.sql, case)


async def test_same_rows_as_the_rust_typed_dsl(db: object) -> None:
    def t(y: int, mo: int, d: int, h: int) -> datetime:
        return datetime(y, mo, d, h, tzinfo=timezone.utc)

    # MySQL has no arrays (refused by name): its items have no tags, and the cases it refuses
    # (every case on `tags`, `null` in the golden file) are left out; no other case reads
    # `tags`, so their rows are the golden ones.
    mysql = db.backend == "mysql"  # type: ignore[attr-defined]

    def tags(*t: str) -> list[str] | None:
        return None if mysql else list(t)

    await Item.objects.bulk_create(
        [
            Item(name="alpha", nick="al", score=10, born=date(2000, 1, 15),
                 seen=t(2024, 3, 5, 10), active=True, tags=tags("a", "b"),
                 doc={"plan": "pro", "n": 1}),
            Item(name="beta_%", nick=None, score=20, born=date(1999, 12, 31), seen=None,
                 active=False, tags=tags("b", "c"), doc={"plan": "free"}),
            Item(name="Gamma", nick="GAM", score=30, born=date(2000, 6, 1),
                 seen=t(2023, 11, 20, 23), active=True),
            Item(name="École", nick="école", score=40, born=date(2001, 2, 3),
                 seen=t(2022, 7, 4, 0), active=True, tags=tags(), doc={"x": [1, 2]}),
        ]
    )  # fmt: skip
    for case in CASES:
        if mysql and case["mysql"] is None:
            continue
        assert await queryset(case) == case["ids"], case["name"]
    for case in ANNOTATE_CASES:
        assert case["mysql"] is not None, case["name"]
        rows = await annotated_queryset(case)
        assert [list(r.values()) for r in rows] == case["rows"], case["name"]
    for case in GROUP_CASES:
        assert case["mysql"] is not None, case["name"]
        rows = await grouped_queryset(case).values_list(
            *case["values"], *[a[0] for a in case["annotate"]]
        )
        assert [list(r) for r in rows] == case["rows"], case["name"]
    for case in AGGREGATE_CASES:
        assert case["mysql"] is not None, case["name"]
        qs, aggs = aggregate_call(case)
        expected = {k: value(v) for k, v in case["result"].items()}
        assert await qs.aggregate(*aggs) == expected, case["name"]


def aggregate_call(case: dict[str, Any]) -> tuple[Any, list[Any]]:
    kwargs = {k: value(v) for k, v in case["kwargs"]}
    qs = Item.objects.filter(**kwargs) if kwargs else Item.objects
    aggs = [
        AGGREGATES[fn](
            field,
            distinct=distinct,
            filter=None if flt is None else Q(**{k: value(v) for k, v in flt}),
        )
        for fn, field, distinct, flt in case["aggregates"]
    ]
    return qs, aggs


@pytest.mark.parametrize("case", AGGREGATE_CASES, ids=[c["name"] for c in AGGREGATE_CASES])
def test_aggregates_compile_to_the_rust_sides_sql(case: dict[str, Any]) -> None:
    qs, aggs = aggregate_call(case)
    assert qs.aggregate_sql("postgres", *aggs) == case["postgres"]
    assert qs.aggregate_sql("sqlite", *aggs) == case["sqlite"]
    check_mysql(lambda d: qs.aggregate_sql(d, *aggs), case)


def grouped_queryset(case: dict[str, Any]) -> Any:
    annotations = {
        name: AGGREGATES[fn](field, distinct=distinct)
        for name, fn, field, distinct, _ in case["annotate"]
    }
    qs = Item.objects.values(*case["values"]).annotate(**annotations)
    return qs.filter(**{k: value(v) for k, v in case["having"]}).order_by(*case["order_by"])


@pytest.mark.parametrize("case", GROUP_CASES, ids=[c["name"] for c in GROUP_CASES])
def test_grouped_queries_compile_to_the_rust_sides_sql(case: dict[str, Any]) -> None:
    qs = grouped_queryset(case)
    assert qs.sql("postgres") == case["postgres"]
    assert qs.sql("sqlite") == case["sqlite"]
    check_mysql(qs.sql, case)


def annotation(spec: list[Any]) -> Any:
    kind, args = spec[1], spec[2:]
    if kind == "Lower":
        return Lower(*args)
    if kind == "Length":
        return Length(*args)
    if kind == "Coalesce":
        return Coalesce(*args)
    if kind == "Case":
        lookup, arg, then, default = args
        return Case(When(**{lookup: arg}, then=Value(then)), default=Value(default))
    if kind == "Mul":
        return F(args[0]) * args[1]
    if kind == "MulF":
        return F(args[0]) * F(args[1])
    raise AssertionError(kind)


def annotated_queryset(case: dict[str, Any]) -> Any:
    qs = Item.objects.annotate(**{spec[0]: annotation(spec) for spec in case["annotate"]})
    return qs.order_by("id").values("id", *[spec[0] for spec in case["annotate"]])


@pytest.mark.parametrize("case", ANNOTATE_CASES, ids=[c["name"] for c in ANNOTATE_CASES])
def test_annotations_compile_to_the_rust_sides_sql(case: dict[str, Any]) -> None:
    qs = annotated_queryset(case)
    assert qs.sql("postgres") == case["postgres"]
    assert qs.sql("sqlite") == case["sqlite"]
    check_mysql(qs.sql, case)


def test_seed_query_compiles_to_the_rust_sides_sql() -> None:
    qs = User.objects.filter(username__startswith="a", is_active=True)
    assert qs.order_by("-created_at").limit(10).sql("postgres") == SEED_QUERY_PG
    assert "kind: StartsWith" in qs.ir() and "Bool(true)" in qs.ir()


def relation_queryset(case: dict[str, Any]) -> Any:
    model = MODELS[case["model"]]
    kwargs = dict(case["kwargs"])
    base = model.objects.exclude(**kwargs) if case["exclude"] else model.objects.filter(**kwargs)
    return base.order_by("id")


@pytest.mark.parametrize("case", RELATION_CASES, ids=[c["name"] for c in RELATION_CASES])
def test_relation_lookups_same_sql_as_the_rust_typed_dsl(case: dict[str, Any]) -> None:
    qs = relation_queryset(case).values_list("id", flat=True)
    assert qs.sql("postgres") == case["postgres"]
    assert qs.sql("sqlite") == case["sqlite"]


async def test_relation_lookups_same_rows_as_the_rust_typed_dsl(db: object) -> None:
    await seed()
    for case in RELATION_CASES:
        field = "title" if case["model"] == "Post" else "username"
        got = await relation_queryset(case).values_list(field, flat=True)
        assert got == case["expect"], case["name"]


def path_queryset(case: dict[str, Any]) -> Any:
    """A case of tests/front_doors/relation_paths.json (chakra/tests/relation_paths_vs_ir.rs,
    written with the Rust typed DSL) in Django's spelling."""
    p = case["python"]
    qs = MODELS[case["model"]].objects.all()
    if "values" in p:
        qs = qs.values(*p["values"])
    if "filter_f" in p:
        key, name = p["filter_f"]
        qs = qs.filter(**{key: F(name)})
    for name, (fn, path) in p.get("annotate", {}).items():
        qs = qs.annotate(**{name: AGGREGATES[fn](path)})
    if "values" in p:
        return qs.order_by(*p["order_by"]).values_list(*p["values"], *p["annotate"])
    if p.get("models"):
        return qs.order_by(*p["order_by"]).values_list("id", *p["annotate"])
    return qs.order_by(*p["order_by"]).values_list("id", flat=True)


@pytest.mark.parametrize("case", PATH_CASES, ids=[c["name"] for c in PATH_CASES])
def test_relation_paths_same_sql_as_the_rust_typed_dsl(case: dict[str, Any]) -> None:
    qs = path_queryset(case)
    assert qs.sql("postgres") == case["postgres"]
    assert qs.sql("sqlite") == case["sqlite"]


async def test_relation_paths_same_rows_as_the_rust_typed_dsl(db: object) -> None:
    await seed()
    for case in PATH_CASES:
        got = await path_queryset(case)
        if "values" in case["python"] or case["python"].get("models"):
            got = [list(r) for r in got]
        assert got == case["expect"], case["name"]


@pytest.mark.parametrize("case", SUBQUERY_CASES, ids=[c["name"] for c in SUBQUERY_CASES])
def test_subqueries_same_sql_as_the_rust_door(case: dict[str, Any]) -> None:
    """Each case of tests/front_doors/subqueries.json (written by chakra/tests/subqueries.rs
    from the Rust door's `chakra::exists`, `in_query` and `eq_outer`), written as Python."""
    from chakra import Exists, OuterRef, Subquery

    scope = {"Exists": Exists, "OuterRef": OuterRef, "Subquery": Subquery, "User": User}
    scope["Post"] = Post
    qs = eval(case["python"], scope).order_by("id").values_list("id", flat=True)
    assert qs.sql("postgres") == case["postgres"]
    assert qs.sql("sqlite") == case["sqlite"]
