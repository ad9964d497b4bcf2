"""Relationships from Python, on SQLite and PostgreSQL (mirrors chakra/tests/relationships.rs):
foreign keys in the schema (CASCADE, SET NULL, RESTRICT, orphans refused), select_related,
prefetch_related (nested, many-to-many, filtered), lookups across relations, explicit
loading, many-to-many links, the session's insert order, and query counts read from the
``chakra.sql`` logger."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import chakra
import pytest
from chakra import Field, ForeignKey, Integer, Model, OneToOne, Prefetch, Session, errors
from models import Comment, Post, Profile, Tag, User


class Statements(logging.Handler):
    """Collects the statements the ``chakra.sql`` logger reports."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno == logging.DEBUG:
            self.records.append(record)

    @property
    def sql(self) -> list[str]:
        return [r.sql for r in self.records]  # type: ignore[attr-defined]

    def __len__(self) -> int:
        return len(self.records)


@contextmanager
def statements(level: int = logging.DEBUG) -> Iterator[Statements]:
    """Counts the statements run inside the block."""
    logger = logging.getLogger("chakra.sql")
    h = Statements()
    old = logger.level
    logger.addHandler(h)
    logger.setLevel(level)
    try:
        yield h
    finally:
        logger.removeHandler(h)
        logger.setLevel(old)


def user(name: str) -> User:
    return User(username=name, email=f"{name}@example.com")


async def seed() -> tuple[list[User], list[Post], list[Tag]]:
    """alice (profile, posts "a1" "a2" tagged rust/python, one comment by bob on a1), bob (no
    profile, post "b1" edited by alice), carol (nothing)."""
    users = await User.objects.bulk_create([user("alice"), user("bob"), user("carol")])
    alice, bob, _ = users
    await Profile.objects.create(user=alice, bio="hi")
    posts = await Post.objects.bulk_create(
        [
            Post(title="a1", author=alice),
            Post(title="a2", author=alice),
            Post(title="b1", author=bob, editor=alice),
        ]
    )
    await Comment.objects.create(post=posts[0], commenter=bob, body="nice")
    tags = await Tag.objects.bulk_create([Tag(name="rust"), Tag(name="python")])
    await posts[0].tags.add(tags[0], tags[1])
    await posts[1].tags.add(tags[0])
    return users, posts, tags


def names(objs: list[Any]) -> list[str]:
    return [o.username for o in objs]


async def test_schema_has_foreign_keys_indexes_and_join_table(db: object) -> None:
    sql = chakra.create_table_sql(Post, "postgres")
    posts = sql[0]
    assert (
        '"author_id" INTEGER NOT NULL CONSTRAINT "posts_author_id_fkey" REFERENCES "users" '
        '("id") ON DELETE CASCADE' in posts
    ), posts
    assert 'REFERENCES "users" ("id") ON DELETE SET NULL' in posts
    assert 'CREATE INDEX "posts_author_id_idx" ON "posts" ("author_id")' in sql
    join = next(s for s in sql if s.startswith('CREATE TABLE "post_tags"'))
    assert 'PRIMARY KEY ("post_id", "tag_id")' in join
    assert '"tag_id" BIGINT' in join and 'REFERENCES "tags" ("id") ON DELETE CASCADE' in join
    # One profile per user; RESTRICT is the default.
    assert (
        '"user_id" INTEGER NOT NULL CONSTRAINT "profiles_user_id_key" UNIQUE'
        in chakra.create_table_sql(Profile, "sqlite")[0]
    )
    comments = chakra.create_table_sql(Comment, "postgres")[0]
    assert 'REFERENCES "users" ("id") ON DELETE RESTRICT' in comments
    assert chakra.CASCADE == "CASCADE" and chakra.SET_NULL.value == "SET_NULL"


async def test_orphans_are_refused_and_deletes_follow_on_delete(db: Any) -> None:
    users, _, _ = await seed()
    alice, bob, _ = users
    # A post pointing at no user.
    with pytest.raises(errors.ForeignKeyViolation) as fk:
        await Post.objects.create(title="orphan", author_id=9_999)
    assert isinstance(fk.value, errors.IntegrityError)
    if db.backend == "postgres":
        assert fk.value.constraint == "posts_author_id_fkey"
    assert await Post.objects.count() == 3

    # RESTRICT: bob wrote a comment, so he cannot be deleted; nothing is.
    with pytest.raises(errors.DeleteRestricted) as r:
        await bob.delete()
    assert isinstance(r.value, errors.IntegrityError)
    if db.backend == "postgres":
        assert r.value.constraint == "comments_commenter_id_fkey"
        assert "comments_commenter_id_fkey" in str(r.value)
    else:
        assert r.value.table == "users"
    assert await User.objects.count() == 3
    assert await Post.objects.count() == 3
    assert await Comment.objects.count() == 1

    # CASCADE (alice's posts, profile and their join rows) and SET NULL (b1's editor).
    await Comment.objects.delete()
    await alice.delete()
    left = await Post.objects.all()
    assert [p.title for p in left] == ["b1"]
    assert left[0].editor_id is None
    assert await Profile.objects.count() == 0
    tags = await Tag.objects.prefetch_related("posts").all()
    assert all(len(t.posts) == 0 for t in tags)


async def test_select_related_joins_in_one_query_and_gives_none(db: object) -> None:
    await seed()
    with statements() as st:
        users = await User.objects.select_related("profile").order_by("id").all()
    assert len(st) == 1 and "LEFT OUTER JOIN" in st.sql[0]
    assert len(users) == 3, "a LEFT JOIN keeps users without a profile"
    assert users[0].profile.bio == "hi"
    assert users[1].profile is None
    with pytest.raises(errors.NotLoaded, match=r"User\.posts"):
        list(users[0].posts)

    with statements() as st:
        posts = await Post.objects.select_related("author__profile", "editor").order_by("id").all()
    assert len(st) == 1
    assert 'INNER JOIN "users" AS "_s1"' in st.sql[0]
    assert 'LEFT OUTER JOIN "profiles" AS "_s2"' in st.sql[0]
    a1, _, b1 = posts
    assert a1.author.username == "alice" and a1.author.profile.bio == "hi"
    assert a1.editor is None
    assert b1.author.username == "bob" and b1.author.profile is None
    assert b1.editor.username == "alice"

    # first / get / last / async iteration / sync twins load too.
    first = await Post.objects.select_related("author").first()
    assert first is not None and first.author.username == "alice"
    got = await Post.objects.select_related("author").get(title="b1")
    assert got.author.username == "bob"
    last = Post.objects.select_related("author").last_sync()
    assert last is not None and last.author.username == "bob"
    async for p in Post.objects.select_related("author").filter(title="a2"):
        assert p.author.username == "alice"
    assert Post.objects.select_related("editor").get_sync(title="b1").editor.username == "alice"
    with pytest.raises(Post.DoesNotExist):
        await Post.objects.select_related("author").get(title="nope")


async def test_prefetch_nested_many_to_many_and_filtered(db: object) -> None:
    _, _, tags = await seed()
    with statements() as st:
        users = (
            await User.objects.prefetch_related("posts__comments", "posts__tags")
            .order_by("id")
            .all()
        )
    assert len(st) == 4, st.sql  # users, posts, comments, tags
    alice = users[0]
    assert [p.title for p in alice.posts] == ["a1", "a2"]
    assert alice.posts[0].comments[0].body == "nice"
    assert len(alice.posts[1].comments) == 0
    assert [t.name for t in alice.posts[0].tags] == ["rust", "python"]
    assert len(users[2].posts) == 0, "carol has none"

    # The other side of the many-to-many (declared only by back_populates) shares rows.
    tg = await Tag.objects.prefetch_related("posts").order_by("id").all()
    assert [len(t.posts) for t in tg] == [2, 1]
    assert tg[0].id == tags[0].id
    assert tg[0].posts[0] == tg[1].posts[0] and tg[1].posts[0].title == "a1"

    # Filtered and ordered, into another attribute.
    users = (
        await User.objects.prefetch_related(
            Prefetch(
                "posts",
                queryset=Post.objects.filter(title__ne="a1").order_by("-title"),
                to_attr="x_posts",
            )
        )
        .order_by("id")
        .all()
    )
    assert [p.title for p in users[0].x_posts] == ["a2"]
    assert [p.title for p in users[1].x_posts] == ["b1"]
    with pytest.raises(errors.NotLoaded):
        len(users[0].posts)

    # A prefetched foreign key: parents share one author object.
    posts = await Post.objects.prefetch_related("author", "editor").order_by("id").all()
    assert posts[0].author is posts[1].author and posts[0].author.username == "alice"
    assert posts[0].editor is None and posts[2].editor.username == "alice"

    # Reverse one-to-one through prefetch, and a relation of a joined row.
    users = User.objects.select_related("profile").prefetch_related("posts").all_sync()
    assert users[0].profile.bio == "hi" and len(users[0].posts) == 2


async def test_unknown_and_invalid_relations_fail_before_any_sql(db: object) -> None:
    with pytest.raises(errors.UnknownRelation) as e:
        User.objects.select_related("nope")
    assert e.value.model == "User" and e.value.relation == "nope"
    assert e.value.choices is not None and {"posts", "profile"} <= set(e.value.choices)
    with pytest.raises(errors.InvalidRelation, match="prefetch_related"):
        User.objects.select_related("posts")
    with pytest.raises(errors.InvalidQuery, match="cannot be sliced"):
        User.objects.prefetch_related(Prefetch("posts", queryset=Post.objects[:2]))
    with pytest.raises(errors.InvalidQuery, match="over Tag, not Post"):
        User.objects.prefetch_related(Prefetch("posts", queryset=Tag.objects.filter()))
    with pytest.raises(TypeError, match="takes a queryset"):
        Prefetch("posts", queryset=Post.objects.all)  # type: ignore[arg-type]
    with pytest.raises(errors.UnknownField):
        Post.objects.filter(author__nope="x")
    # The queryset's SQL is the main statement, joins included.
    assert 'LEFT OUTER JOIN "profiles"' in User.objects.select_related("profile").sql()


async def test_lookups_cross_relations(db: object) -> None:
    users, _, _ = await seed()
    alice = users[0]
    # Forward.
    posts = await Post.objects.filter(author__username__startswith="a").order_by("id").all()
    assert [p.title for p in posts] == ["a1", "a2"]
    # Reverse: alice has two matching posts but appears once.
    assert names(await User.objects.filter(posts__title__contains="a").all()) == ["alice"]
    # exclude: no post matches.
    got = await User.objects.exclude(posts__title__contains="a").order_by("id").all()
    assert names(got) == ["bob", "carol"]
    # No related row at all / some related row.
    assert names(await User.objects.filter(posts__isnull=True).all()) == ["carol"]
    got = await User.objects.filter(posts__isnull=False).order_by("id").all()
    assert names(got) == ["alice", "bob"]
    # Many-to-many, and nested through it.
    assert [p.title for p in await Post.objects.filter(tags__name="python").all()] == ["a1"]
    assert names(await User.objects.filter(posts__tags__name="python").all()) == ["alice"]
    # A model instance stands for its key; the relation name alone is the key.
    assert await Post.objects.filter(author=alice).count() == 2
    assert await Post.objects.filter(author__in=[alice, users[1]]).count() == 3
    assert await Post.objects.filter(editor__isnull=True).count() == 2
    # Reverse one-to-one, and Q objects.
    assert names(await User.objects.filter(profile__bio="hi").all()) == ["alice"]
    got = await User.objects.filter(chakra.Q(profile__bio="hi") | chakra.Q(username="carol")).all()
    assert sorted(names(got)) == ["alice", "carol"]
    # Ordering stays on the model's own fields; related rows within one filter() share one
    # EXISTS (one post with both), chained filters do not.
    one = await User.objects.filter(posts__title="a1", posts__tags__name="python").count()
    assert one == 1
    # a2 is not tagged python (a1 is): no single post has both.
    none = await User.objects.filter(posts__title="a2", posts__tags__name="python").count()
    assert none == 0
    chained = User.objects.filter(posts__title="a2").filter(posts__tags__name="python")
    assert names(await chained.all()) == ["alice"]
    # Ordering by a relation to many rows joins it (Django): a user once per post, by the
    # post's key, carol (no post) last.
    by_post = await User.objects.order_by("posts", "id").values_list("username", flat=True)
    assert by_post == ["alice", "alice", "bob", "carol"]


async def test_eager_results_equal_explicit_loading(db: object) -> None:
    await seed()
    eager = await User.objects.prefetch_related("posts", "posts__tags").order_by("id").all()
    for u in eager:
        explicit = await u.posts.all()
        assert [p.id for p in u.posts] == [p.id for p in explicit]
        for p, q in zip(u.posts, explicit, strict=True):
            assert [t.id for t in p.tags] == [t.id for t in await q.tags.all()]
    joined = await Post.objects.select_related("author", "editor").order_by("id").all()
    for p in joined:
        fresh = await Post.objects.get(id=p.id)
        await fresh.fetch_related("author", "editor")
        assert fresh.author == p.author and fresh.editor == p.editor
    # Explicit querysets narrow further.
    alice = eager[0]
    assert await alice.posts.filter(title="a2").count() == 1
    assert [p.title for p in await alice.posts.order_by("-title")] == ["a2", "a1"]
    assert alice.posts.count_sync() == 2
    assert len(alice.posts.all_sync()) == 2


async def test_not_loaded_names_model_and_relation(db: object) -> None:
    await seed()
    post = await Post.objects.get(title="a1")
    with pytest.raises(errors.NotLoaded) as e:
        _ = post.author
    assert str(e.value).startswith("Post.author (related User rows) is not loaded")
    assert (e.value.model, e.value.relation, e.value.related_model) == ("Post", "author", "User")
    alice = await User.objects.get(username="alice")
    with pytest.raises(errors.NotLoaded, match=r"User\.posts \(related Post rows\)"):
        for _p in alice.posts:
            pass
    with pytest.raises(errors.NotLoaded, match=r"User\.profile \(related Profile rows\)"):
        _ = alice.profile
    with pytest.raises(errors.NotLoaded, match=r"Post\.tags"):
        len(post.tags)
    assert not post.tags.is_loaded
    # fetch_related loads onto the object.
    await post.fetch_related("author", "comments__commenter", "tags")
    assert post.author.username == "alice"
    assert [(c.body, c.commenter.username) for c in post.comments] == [("nice", "bob")]
    assert post.tags.is_loaded and len(post.tags) == 2
    alice.fetch_related_sync("profile")
    assert alice.profile.bio == "hi"


async def test_assigning_a_related_object_sets_its_key(db: object) -> None:
    users, _, _ = await seed()
    alice, bob, _ = users
    post = await Post.objects.get(title="a1")
    post.author = bob
    assert post.author_id == bob.id and post.author is bob
    await post.save()
    assert (await Post.objects.get(title="a1")).author_id == bob.id
    post.editor = None
    assert post.editor_id is None
    # An empty nullable key has no related row to load.
    fresh = await Post.objects.get(title="a2")
    assert fresh.editor is None
    # Changing the key makes the assigned object stale: reading it says it is not loaded.
    post.author_id = alice.id
    with pytest.raises(errors.NotLoaded):
        _ = post.author
    with pytest.raises(TypeError, match="takes a User object"):
        post.author = 5  # type: ignore[assignment]
    with pytest.raises(AttributeError, match="reverse side"):
        alice.posts = []


async def test_many_to_many_add_remove_clear_set(db: object) -> None:
    _, posts, tags = await seed()
    rust, python = tags
    a1, _, b1 = posts
    # Adding existing links is a no-op; duplicates count once.
    assert await a1.tags.add(rust, python) == 0
    assert await b1.tags.add(python, python) == 1
    assert await a1.tags.remove(rust) == 1
    assert [t.name for t in await a1.tags.all()] == ["python"]
    assert await a1.tags.clear() == 1
    assert await a1.tags.count() == 0
    await a1.tags.set([rust, python])
    assert [t.name for t in await a1.tags.all()] == ["rust", "python"]
    await a1.tags.set([python.id])
    assert [t.name for t in a1.tags.all_sync()] == ["python"]
    assert b1.tags.add_sync(rust) == 1
    assert b1.tags.remove_sync(rust, python) == 2
    b1.tags.set_sync([rust])
    assert b1.tags.clear_sync() == 1
    # The reverse side (declared only through back_populates) writes the same table.
    assert await rust.posts.add(b1) == 1
    assert [p.title for p in await rust.posts.all()] == ["a2", "b1"]
    # A loaded list is dropped by a change (it no longer matches).
    await a1.fetch_related("tags")
    assert a1.tags.is_loaded
    await a1.tags.add(rust)
    assert not a1.tags.is_loaded
    # Not a many-to-many; unsaved objects.
    alice = await User.objects.get(username="alice")
    with pytest.raises(errors.InvalidRelation, match="many-to-many"):
        await alice.posts.add(b1)
    with pytest.raises(errors.BadValue, match="save it first"):
        await a1.tags.add(Tag(name="new"))


async def test_session_inserts_parents_before_children(db: object) -> None:
    async with Session() as s:
        dave = user("dave")
        post = Post(title="d1", author=dave)
        comment = Comment(post=post, commenter=dave, body="first")
        profile = Profile(user=dave, bio="hello")
        # Children added first; the parent only through them.
        s.add_all([comment, profile, post])
        with statements() as st:
            await s.commit()
    inserts = [q.split('"')[1] for q in st.sql if q.startswith("INSERT")]
    assert inserts == ["users", "posts", "profiles", "comments"], inserts
    assert dave.id is not None and post.author_id == dave.id
    assert comment.post_id == post.id and profile.user_id == dave.id
    loaded = await Comment.objects.select_related("post__author", "commenter").get()
    assert loaded.post.author.username == "dave" and loaded.commenter.username == "dave"
    # A rolled-back insert forgets the keys it filled.
    async with Session() as s:
        erin = user("erin")
        p = Post(title="e1", author=erin)
        s.add(p)
        await s.flush()
        assert p.author_id == erin.id
        await s.rollback()
        assert erin.id is None and p.author_id is None
        s.add(p)
        await s.commit()
    assert (await Post.objects.select_related("author").get(title="e1")).author.username == "erin"


async def test_query_counts_at_scale(db: object) -> None:
    users = await User.objects.bulk_create([user(f"u{i:04}") for i in range(1_000)])
    posts = await Post.objects.bulk_create(
        [Post(title=f"p{j}", author=u) for u in users for j in range(10)]
    )
    await Comment.objects.bulk_create(
        [Comment(post=p, commenter=users[0], body="c") for p in posts[:2_000]]
    )
    with statements() as st:
        loaded = await Post.objects.select_related("author").limit(1_000).all()
    assert len(st) == 1 and len(loaded) == 1_000
    assert all(p.author.id == p.author_id for p in loaded)

    with statements() as st:
        us = await User.objects.prefetch_related("posts").all()
    assert len(st) == 2, st.sql
    assert len(us) == 1_000 and all(len(u.posts) == 10 for u in us)
    assert st.records[1].binds == 1  # the 1,000 keys are one bound array

    with statements() as st:
        us = await User.objects.prefetch_related("posts__comments").all()
    assert len(st) == 3
    assert sum(len(p.comments) for u in us for p in u.posts) == 2_000


async def test_prefetch_over_5000_parents_has_no_bind_limit(db: object) -> None:
    users = await User.objects.bulk_create([user(f"u{i}") for i in range(5_000)])
    await Post.objects.bulk_create([Post(title="p", author=u) for u in users[::2]])
    with statements() as st:
        loaded = await User.objects.prefetch_related("posts").all()
    assert len(st) == 2
    assert len(loaded) == 5_000
    assert sum(len(u.posts) for u in loaded) == 2_500


async def test_statement_log_levels(db: object) -> None:
    await User.objects.create(username="zed", email="z")
    # Off: nothing is recorded (and the core's listener is removed).
    logger = logging.getLogger("chakra.sql")
    h = Statements()
    logger.addHandler(h)
    try:
        logger.setLevel(logging.WARNING)
        await User.objects.get(username="zed")
        assert len(h) == 0
    finally:
        logger.removeHandler(h)
        logger.setLevel(logging.NOTSET)
    with statements() as st:
        User.objects.filter(username="zed").count_sync()
    (rec,) = st.records
    # MySQL binds an exact text comparison's value twice (the collation's `=`, then the
    # bytes: docs/mysql.md).
    binds = 2 if db.backend == "mysql" else 1  # type: ignore[attr-defined]
    assert rec.binds == binds and rec.rows == 1  # type: ignore[attr-defined]
    assert rec.elapsed_us >= 0 and "COUNT(*)" in rec.getMessage()  # type: ignore[attr-defined]
    assert not hasattr(rec, "params")

    seen: list[logging.LogRecord] = []

    class Trace(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    t = Trace(chakra.TRACE)
    logger.addHandler(t)
    try:
        with statements(chakra.TRACE):
            await User.objects.filter(username="zed").count()
    finally:
        logger.removeHandler(t)
    trace = [r for r in seen if r.levelno == chakra.TRACE]
    assert len(trace) == 1 and trace[0].params == ("zed",) * binds  # type: ignore[attr-defined]
    assert logging.getLevelName(chakra.TRACE) == "TRACE"


def test_reverse_accessor_in_either_definition_order() -> None:
    class RevOwner(Model):
        __tablename__ = "rev_owners"
        id = Field(Integer, primary_key=True)

    class RevPet(Model):
        __tablename__ = "rev_pets"
        id = Field(Integer, primary_key=True)
        owner = ForeignKey("RevOwner", back_populates="pets", type_=Integer)
        tag = OneToOne("RevCollar", back_populates="pet", nullable=True)

    class RevCollar(Model):
        __tablename__ = "rev_collars"
        id = Field(Integer, primary_key=True)

    assert RevOwner._relations["pets"].many
    assert not RevCollar._relations["pet"].many
    owner = RevOwner()
    with pytest.raises(errors.NotLoaded, match=r"RevOwner\.pets \(related RevPet rows\)"):
        list(owner.pets)  # type: ignore[attr-defined]
    with pytest.raises(errors.NotLoaded, match=r"RevCollar\.pet"):
        _ = RevCollar().pet  # type: ignore[attr-defined]
    ddl = chakra.create_table_sql(RevPet, "sqlite")[0]
    assert 'REFERENCES "rev_owners" ("id") ON DELETE RESTRICT' in ddl
    with pytest.raises(errors.InvalidRelation, match="nullable"):

        class Bad(Model):
            owner = ForeignKey("RevOwner", on_delete=chakra.SET_NULL)


async def test_create_and_drop_tables_follow_references(db: object) -> None:
    await seed()
    await chakra.create_tables(User, Post, Tag, if_not_exists=True)  # existing: left alone
    assert await Post.objects.count() == 3
    await chakra.drop_tables(User, Profile, Post, Comment, Tag)  # referencing tables first
    await chakra.create_tables(Tag, Comment, Post, Profile, User)  # referenced tables first
    assert await Post.objects.count() == 0
    await seed()
    assert await Tag.objects.filter(posts__title="a1").count() == 2


def test_sync_session_inserts_parents_first(db: object) -> None:
    with chakra.SyncSession() as s:
        frank = user("frank")
        s.add(Post(title="f1", author=frank, editor=frank))
        s.commit_sync()
    post = Post.objects.select_related("author", "editor").get_sync(title="f1")
    assert post.author.username == "frank" and post.editor.username == "frank"
