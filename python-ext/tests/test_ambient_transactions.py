"""Ambient transactions (issue 19, item 7): inside ``session.begin()``,
``session.transaction(fn)`` and ``SyncSession.begin_sync()``, ``Model.objects`` queries and
writes, related managers and many-to-many writes, ``get_or_create``/``update_or_create``, raw
SQL and bulk operations run in the session's transaction (on SQLite they used to wait 10 s
for its lock and fail with ``LockTimeout``; on PostgreSQL they ran outside it)."""

from __future__ import annotations

import chakra
import pytest
from chakra import errors
from models import Post, Tag, User


class Boom(Exception):
    pass


async def _everything_inside() -> Post:
    author = await User.objects.create(username="ann", email="a@x")
    post = await Post.objects.create(title="book", author=author)
    tag, created = await Tag.objects.get_or_create(name="fiction")
    assert created
    more = await Tag.objects.bulk_create([Tag(name="classic"), Tag(name="novel")])
    await post.tags.add(tag, *more)
    await Tag.objects.update_or_create(name="novel", defaults={"name": "novel2"})
    await chakra.execute("INSERT INTO tags (name) VALUES (%s)", ["raw"])
    # Reads inside the block see the block's writes.
    assert await Tag.objects.count() == 4
    assert sorted(t.name for t in await post.tags.all()) == ["classic", "fiction", "novel2"]
    assert await User.objects.filter(username="ann").exists()
    return post


async def test_a_book_with_tags_then_a_failure_leaves_nothing(db: object) -> None:
    with pytest.raises(Boom):
        async with chakra.Session() as s:
            async with s.begin():
                await _everything_inside()
                raise Boom
    assert await User.objects.count() == 0
    assert await Post.objects.count() == 0
    assert await Tag.objects.count() == 0
    rows = await chakra.execute("DELETE FROM post_tags")
    assert rows == 0


async def test_a_book_with_tags_commits_with_the_block(db: object) -> None:
    async with chakra.Session() as s:
        async with s.begin():
            post = await _everything_inside()
    assert sorted(t.name for t in await Tag.objects.all()) == [
        "classic",
        "fiction",
        "novel2",
        "raw",
    ]
    assert len(await post.tags.all()) == 3


async def test_session_transaction_fn_is_ambient_and_rolls_back(db: object) -> None:
    async def work(s: chakra.Session) -> None:
        await _everything_inside()
        raise Boom

    async with chakra.Session() as s:
        with pytest.raises(Boom):
            await s.transaction(work)
    assert await Tag.objects.count() == 0 and await User.objects.count() == 0


async def test_outside_transaction_is_explicit(db: object) -> None:
    async with chakra.Session() as s:
        async with s.begin():
            await Tag.objects.create(name="inside")
        with pytest.raises(Boom):
            async with s.begin():
                await Tag.objects.create(name="rolled back")
                raise Boom
    assert [t.name for t in await Tag.objects.all()] == ["inside"]
    # Outside any block, statements use the pool; in a block, outside_transaction() too.
    if db.backend == "postgres":  # type: ignore[attr-defined]
        async with chakra.Session() as s:
            with pytest.raises(Boom):
                async with s.begin():
                    with chakra.outside_transaction():
                        await Tag.objects.create(name="audit")
                    raise Boom
        assert sorted(t.name for t in await Tag.objects.all()) == ["audit", "inside"]


def test_sync_session_blocks_are_ambient(db: object) -> None:
    with pytest.raises(Boom):
        with chakra.SyncSession() as s:
            with s.begin_sync():
                author = User.objects.create_sync(username="ann", email="a@x")
                post = Post.objects.create_sync(title="book", author=author)
                tag, _ = Tag.objects.get_or_create_sync(name="fiction")
                post.tags.add_sync(tag)
                chakra.execute_sync("INSERT INTO tags (name) VALUES (%s)", ["raw"])
                assert Tag.objects.count_sync() == 2
                raise Boom
    assert Tag.objects.count_sync() == 0 and Post.objects.count_sync() == 0
    with chakra.SyncSession() as s:
        with s.begin_sync():
            Tag.objects.create_sync(name="kept")
    assert [t.name for t in Tag.objects.all_sync()] == ["kept"]


async def test_select_for_update_runs_in_the_ambient_transaction(db: object) -> None:
    await Tag.objects.create(name="t")
    with pytest.raises(errors.TransactionError):
        await Tag.objects.select_for_update().all()
    async with chakra.Session() as s:
        async with s.begin():
            assert [t.name for t in await Tag.objects.select_for_update().all()] == ["t"]
