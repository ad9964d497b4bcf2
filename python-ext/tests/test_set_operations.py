"""``union`` / ``intersection`` / ``difference`` and ``explain()`` on SQLite and PostgreSQL,
each async and ``_sync``. Expected rows are computed in plain Python (set operations over
the inserted rows), not by Chakra."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from chakra import Sum, errors
from models import Post, User

# (username, email, balance, is_active)
ROWS = [
    ("ann", "a@x", 30, True),
    ("bob", "b@x", 10, False),
    ("cat", "a@x", 20, True),
    ("dan", "d@x", 10, True),
    ("eve", "e@x", 50, False),
    ("fay", "a@x", 20, True),
    ("gus", "g@x", 40, True),
]


def names(keep: Any) -> set[str]:
    return {u for u, e, b, a in ROWS if keep(u, e, b, a)}


async def _fill() -> None:
    await User.objects.bulk_create(
        [User(username=u, email=e, balance=b, is_active=a) for u, e, b, a in ROWS]
    )


async def test_union_intersection_difference_of_model_rows(db: Any) -> None:
    await _fill()
    rich = User.objects.filter(balance__gte=30)
    a_mail = User.objects.filter(email="a@x")
    inactive = User.objects.filter(is_active=False)
    is_rich = lambda u, e, b, a: b >= 30  # noqa: E731
    is_a = lambda u, e, b, a: e == "a@x"  # noqa: E731

    got = await rich.order_by("balance").union(a_mail).order_by("-username")
    assert [u.username for u in got] == sorted(
        names(lambda *r: is_rich(*r) or is_a(*r)), reverse=True
    )
    assert all(isinstance(u, User) for u in got)
    # UNION ALL keeps both copies of ann (rich and a@x).
    n_all = len(names(is_rich)) + len(names(is_a))
    assert await rich.union(a_mail, all=True).count() == n_all
    assert len(rich.union(a_mail, all=True).all_sync()) == n_all
    assert rich.union(a_mail).count_sync() == len(names(lambda *r: is_rich(*r) or is_a(*r)))

    both = {u.username for u in await rich.intersection(a_mail)}
    assert both == names(lambda *r: is_rich(*r) and is_a(*r))
    only_rich = {u.username for u in rich.difference(a_mail).all_sync()}
    assert only_rich == names(lambda *r: is_rich(*r) and not is_a(*r))
    # Several at once, left to right: (rich or inactive) and a_mail.
    mixed = {u.username for u in await rich.union(inactive).intersection(a_mail)}
    assert mixed == names(lambda u, e, b, a: (b >= 30 or not a) and e == "a@x")
    assert {u.username for u in await inactive.union(rich, a_mail)} == names(
        lambda u, e, b, a: not a or b >= 30 or e == "a@x"
    )

    # Ordering and slicing of the combined rows; first/last; exists.
    ordered = sorted((r for r in ROWS if r[2] >= 30 or r[1] == "a@x"), key=lambda r: (-r[2], r[0]))
    page = await rich.union(a_mail).order_by("-balance", "username")[1:3]
    assert [u.username for u in page] == [r[0] for r in ordered[1:3]]
    first = await rich.union(a_mail).order_by("-balance", "username").first()
    assert first is not None and first.username == ordered[0][0]
    assert await rich.intersection(inactive).exists()
    assert not rich.intersection(User.objects.filter(balance__lt=0)).exists_sync()


async def test_values_shapes(db: Any) -> None:
    await _fill()
    await Post.objects.create(title="dan", author_id=(await User.objects.get(username="bob")).id)
    # values_list of two models with one text column each: Django's classic union.
    titles = Post.objects.values_list("title", flat=True)
    users = User.objects.filter(is_active=False).values_list("username", flat=True)
    got = await users.union(titles).order_by("username")
    assert got == sorted(names(lambda u, e, b, a: not a) | {"dan"})
    emails = User.objects.values("email")
    assert sorted(r["email"] for r in await emails.union(emails)) == sorted({r[1] for r in ROWS})
    assert await emails.union(emails, all=True).count() == 2 * len(ROWS)
    # Shapes that differ are a named error, not a database error.
    with pytest.raises(errors.InvalidQuery, match="different columns"):
        await User.objects.values("email", "balance").union(User.objects.values("email"))
    with pytest.raises(errors.InvalidQuery, match="different column types"):
        await User.objects.values_list("balance").union(User.objects.values_list("email"))
    with pytest.raises(errors.InvalidQuery, match="same shape"):
        User.objects.union(User.objects.values("email"))  # type: ignore[arg-type]


async def test_what_a_combined_queryset_refuses(db: Any) -> None:
    await _fill()
    combined = User.objects.filter(balance=10).union(User.objects.filter(balance=20))
    for refused in (
        lambda: combined.filter(username="bob"),
        lambda: combined.exclude(username="bob"),
        lambda: combined.select_related("profile"),
        lambda: combined.only("username"),
    ):
        with pytest.raises(errors.InvalidQuery, match="combined User query"):
            refused()
    with pytest.raises(errors.InvalidQuery, match="combined User query"):
        await combined.update(balance=0)
    with pytest.raises(errors.InvalidQuery, match="combined User query"):
        await combined.delete()
    with pytest.raises(errors.InvalidQuery, match="combined User query"):
        await combined.values_list("balance").aggregate(s=Sum("balance"))
    with pytest.raises(errors.InvalidQuery, match="sliced"):
        User.objects.all()[:2].union(User.objects.all())
    with pytest.raises(errors.InvalidQuery, match="sliced"):
        User.objects.union(User.objects.all()[1:])
    with pytest.raises(errors.InvalidQuery, match="order by one of its selected columns"):
        await (
            User.objects.values("username").union(User.objects.values("username")).order_by("email")
        )
    assert await User.objects.count() == len(ROWS)  # nothing was touched


async def test_explain(db: Any) -> None:
    await _fill()
    qs = User.objects.filter(username="ann")
    plan = await qs.explain()
    assert plan == qs.explain_sync()
    union_plan = await qs.union(User.objects.filter(balance=10)).explain()
    values_plan = User.objects.values("email").explain_sync()
    if db.backend == "sqlite":
        # The unique index on username is used; the union reads through a compound plan.
        assert "users" in plan and ("SEARCH" in plan or "SCAN" in plan), plan
        assert "UNION" in union_plan or "COMPOUND" in union_plan, union_plan
        assert "SCAN users" in values_plan, values_plan
    else:
        assert "on users" in plan and "cost=" in plan, plan
        assert "Unique" in union_plan or "HashAggregate" in union_plan, union_plan
        assert "Seq Scan on users" in values_plan, values_plan
    # explain() runs nothing: the rows are untouched, and no row is returned.
    assert await User.objects.count() == len(ROWS)


GOLDEN = json.loads(
    (Path(__file__).parents[2] / "tests" / "front_doors" / "set_operations.json").read_text()
)


@pytest.mark.parametrize("case", GOLDEN, ids=[c["name"] for c in GOLDEN])
def test_same_sql_as_the_rust_door(case: dict[str, Any]) -> None:
    """Each case of tests/front_doors/set_operations.json (written by
    chakra/tests/set_operations.rs through the Rust door and the core's compound node),
    written as Python, compiles to the same SQL."""
    qs = eval(case["python"], {"User": User})
    assert qs.sql("postgres") == case["postgres"]
    assert qs.sql("sqlite") == case["sqlite"]


async def test_golden_cases_rows(db: Any) -> None:
    users = await User.objects.bulk_create(
        [User(username=n, email="x") for n in ("alice", "bob", "carol")]
    )
    ids = {u.username: u.id for u in users}
    by_id = {u.id: u.username for u in users}
    late = {i for i in by_id if i > 1}
    early = {i for i in by_id if i < 3}
    alice = {ids["alice"]}
    expect: dict[str, list[Any]] = {
        "union": sorted(alice | late, reverse=True),
        # UNION ALL then EXCEPT: EXCEPT removes duplicates and alice's row.
        "union_all_then_difference": sorted(
            ((i, by_id[i]) for i in (late | early) - alice), key=lambda r: r[1]
        ),
        "intersection": sorted(late & early),
    }
    for case in GOLDEN:
        got = await eval(case["python"], {"User": User})
        assert [tuple(r) if isinstance(r, tuple) else r for r in got] == expect[case["name"]]
