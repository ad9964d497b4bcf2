"""The Python examples of the product spec (cross-language-support.md), as written,
asserting what each claims."""

from __future__ import annotations

import contextlib
import io

import chakra
import pytest
from chakra import Session, errors
from models import Post, Profile, User


async def make_users() -> None:
    await User.objects.bulk_create(
        [
            User(username="alice", email="alice@example.com", balance=500),
            User(username="bob", email="bob@example.com", balance=100),
            User(username="anna", email="anna@example.com", is_active=False),
            User(username="arthur", email="arthur@example.com"),
        ]
    )


async def test_model_definition_registers_metadata(db: object) -> None:
    handle = User.__chakra__
    assert handle.table == "users"
    assert handle.field_names() == [
        "id",
        "username",
        "email",
        "created_at",
        "is_active",
        "balance",
    ]
    assert handle.pk_name() == "id"
    meta = handle.describe()
    assert "OneToMany" in meta and '"Post"' in meta and '"author"' in meta
    assert "author_id" in Post.__chakra__.describe()
    ddl = chakra.create_table_sql(User, "postgres")[0]
    assert '"username" VARCHAR(50) NOT NULL CONSTRAINT "users_username_key" UNIQUE' in ddl
    assert '"id" SERIAL PRIMARY KEY' in ddl
    assert (
        User.objects.filter(username="x")
        .sql("postgres")
        .startswith('SELECT "users"."id", "users"."username"')
    )


async def test_basic_queries(db: object) -> None:
    await make_users()

    # Get by ID
    user = await User.objects.get(id=1)
    assert user.username == "alice" and user.id == 1

    # Filter
    users = await User.objects.filter(username__startswith="a", is_active=True).all()
    assert sorted(u.username for u in users) == ["alice", "arthur"]

    # Order and limit
    users = await User.objects.order_by("-created_at").limit(10).all()
    assert len(users) == 4
    stamps = [u.created_at for u in users]
    assert stamps == sorted(stamps, reverse=True)

    # Count
    count = await User.objects.filter(is_active=True).count()
    assert count == 3


async def test_creating_records(db: object) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        async with Session() as session:
            user = User(username="alice", email="alice@example.com")
            session.add(user)
            await session.commit()

            print(f"Created user with ID: {user.id}")
    assert out.getvalue() == "Created user with ID: 1\n"
    stored = await User.objects.get(username="alice")
    assert stored.email == "alice@example.com"
    assert stored.created_at.tzinfo is not None


async def test_transactions_move_the_money(db: object) -> None:
    await make_users()
    async with Session() as session:
        async with session.begin():
            user1 = await session.get(User, 1)
            user2 = await session.get(User, 2)
            assert user1 is not None and user2 is not None

            user1.balance -= 100
            user2.balance += 100

            # Auto-commits on exit, rolls back on exception
    balances = (
        await User.objects.filter(id__in=[1, 2]).order_by("id").values_list("balance", flat=True)
    )
    assert balances == [400, 200]


async def test_transactions_roll_back_on_exception(db: object) -> None:
    await make_users()
    try:
        async with Session() as session:
            async with session.begin():
                user1 = await session.get(User, 1)
                user2 = await session.get(User, 2)
                assert user1 is not None and user2 is not None
                user1.balance -= 100
                user2.balance += 100
                await session.flush()
                raise RuntimeError("boom")
    except RuntimeError:
        pass
    balances = (
        await User.objects.filter(id__in=[1, 2]).order_by("id").values_list("balance", flat=True)
    )
    assert balances == [500, 100]


async def test_relationships(db: object) -> None:
    await make_users()
    alice, bob = await User.objects.filter(username__in=["alice", "bob"]).order_by("id").all()
    await Profile.objects.create(user=alice, bio="Rustacean")
    await Post.objects.bulk_create(
        [
            Post(title="Hello", author=alice),
            Post(title="Relations", author=alice),
            Post(title="Hi", author=bob),
        ]
    )
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        # Eager loading with JOIN
        users = await User.objects.select_related("profile").all()
        assert [u.profile.bio if u.profile else None for u in users] == [
            "Rustacean",
            None,
            None,
            None,
        ]

        # Eager loading with separate queries
        users = await User.objects.prefetch_related("posts").all()

        for user in users:
            for post in user.posts:
                print(f"{user.username}: {post.title}")
    assert out.getvalue().splitlines() == ["alice: Hello", "alice: Relations", "bob: Hi"]
    # Without eager loading, reading a relation says what to do (no hidden queries).
    plain = await User.objects.get(username="alice")
    with pytest.raises(errors.NotLoaded, match="prefetch_related"):
        for _ in plain.posts:
            pass
    post = await Post.objects.get(title="Hi")
    with pytest.raises(errors.NotLoaded, match=r"Post\.author"):
        _ = post.author
    assert chakra.registry["Post"] is Post


def test_examples_script_runs_as_written(new_db: object) -> None:
    """examples/seed_examples.py (the spec's examples verbatim) on every backend."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).parent.parent / "examples" / "seed_examples.py"
    for backend in ("sqlite", "postgres", "mysql"):
        d = new_db(backend)  # type: ignore[operator]
        env = {**os.environ, "CHAKRA_DATABASE_URL": d.url}
        p = subprocess.run(
            [sys.executable, str(script)], env=env, capture_output=True, text=True, check=False
        )
        assert p.returncode == 0, p.stderr
        assert p.stdout.splitlines() == [
            "Created user with ID: 1",
            "alice 2 2",
            "[('alice', -100), ('bob', 200)]",
            "alice: Rust and Python",
            "bob: (no profile)",
            "alice: Hello",
            "alice: One ORM",
            "bob: Hi",
        ]
