"""Chakra against asyncpg, SQLAlchemy 2 (async ORM) and Tortoise ORM on one PostgreSQL.

Workloads (the design's W1-W6, and W7), each the best of ``--repeat`` runs:
  W1 2,000 new objects inserted in one transaction with their keys read back (Chakra: a
     Session's ``add_all`` + ``commit``; asyncpg: 2,000 ``INSERT … RETURNING id`` one after
     another); asyncpg and Chakra only
  W2 bulk insert 10,000 rows      W3 fetch and materialise 10,000 rows
  W4 2,000 filtered queries (username startswith + a bool, ordered, limit 10)
  W5 5,000 get-by-primary-key
  W6 1,000 users with their 10,000 posts, prefetched (asyncpg: the same two queries by
     hand, grouped into lists; SQLAlchemy selectinload; Tortoise prefetch_related)
  (asyncpg also runs W3-W6 as "W3 objects" … "W6 objects": each row made a plain object
  with the same attributes as Chakra's instance, issue 20's comparison)
  W7 2,000 rows read, changed and written back in one transaction (Chakra: a Session's
     tracked objects, flushed as pipelined compare-and-set UPDATEs; asyncpg: the rows
     fetched, then ``executemany`` of 2,000 UPDATEs); asyncpg and Chakra only
plus the bridge's per-await cost with a query-free job. Every workload reports wall time and
process CPU time (user + system of every thread of this process, Chakra's runtime thread and
its spin included), each the best of the runs.

Usage: python bench/bench.py [--url postgres://...] [--repeat 3] [--isolated N]
``--isolated N`` runs each contender alone in a fresh interpreter instead, interleaved
across N repetitions, and reports medians of wall and CPU time (``isolated.py``); without
it, every contender runs in this process, best of ``--repeat``.
The URL defaults to CHAKRA_BENCH_PG_URL, else CHAKRA_TEST_PG_URL, else
postgres://postgres@127.0.0.1:5432/postgres; a database chakra_bench_<random> is created
there and dropped afterwards. Prints two tables of seconds and ratios to asyncpg: wall time,
then CPU time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import chakra
import isolated
from chakra import (
    CASCADE,
    Boolean,
    DateTime,
    Field,
    ForeignKey,
    Integer,
    Model,
    OneToMany,
    Session,
    String,
    _bridge,
    _chakra,
)

N_BULK = 10_000
N_FILTER = 2_000
N_GET = 5_000
N_W7 = 2_000
N_W1 = 2_000
N_W6_USERS = 1_000
N_W6_POSTS = 10
NOW = datetime(2024, 1, 1, tzinfo=timezone.utc)
COLS = "id, username, email, created_at, is_active, balance"


class BenchUser(Model):
    __tablename__ = "bench_users"

    id = Field(Integer, primary_key=True)
    username = Field(String(50), unique=True)
    email = Field(String(255))
    created_at = Field(DateTime)
    is_active = Field(Boolean, default=True)
    balance = Field(Integer, default=0)


class W6User(Model):
    __tablename__ = "w6_users"

    id = Field(Integer, primary_key=True)
    username = Field(String(50))
    email = Field(String(255))
    posts = OneToMany("W6Post", back_populates="author")


class W6Post(Model):
    __tablename__ = "w6_posts"

    id = Field(Integer, primary_key=True)
    author = ForeignKey("W6User", back_populates="posts", type_=Integer, on_delete=CASCADE)
    title = Field(String(200))
    created_at = Field(DateTime)


async def w6_data(url: str) -> None:
    """1,000 users with 10 posts each."""
    conn = await asyncpg.connect(url)
    await conn.copy_records_to_table(
        "w6_users",
        records=[(f"user{i}", f"user{i}@example.com") for i in range(N_W6_USERS)],
        columns=["username", "email"],
    )
    await conn.copy_records_to_table(
        "w6_posts",
        records=[
            (u + 1, f"post {j} of user{u}", NOW)
            for u in range(N_W6_USERS)
            for j in range(N_W6_POSTS)
        ],
        columns=["author_id", "title", "created_at"],
    )
    await conn.close()


def check_w6(n_users: int, n_posts: int) -> None:
    assert n_users == N_W6_USERS and n_posts == N_W6_USERS * N_W6_POSTS, (n_users, n_posts)


def db_url(base: str, name: str) -> str:
    p = urlsplit(base)
    return urlunsplit((p.scheme, p.netloc, "/" + name, p.query, p.fragment))


@contextlib.asynccontextmanager
async def scratch_database(base: str, prefix: str) -> AsyncIterator[str]:
    """A fresh database ``<prefix>_<random>`` on ``base``'s server, its URL yielded; Chakra's
    pools are closed and the database dropped on the way out, whatever happened."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(base)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield db_url(base, name)
    finally:
        chakra.close()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def row(i: int) -> tuple[str, str, datetime, bool, int]:
    return (f"user{i}", f"user{i}@example.com", NOW, i % 3 != 0, i)


Timer = Callable[[], Awaitable[None]]


class RawUser:
    """asyncpg's object for a ``BenchUser`` row: the same six attributes in its ``__dict__``
    (issue 20's aims compare Chakra with asyncpg *building the same objects*)."""

    def __init__(self, r: Any) -> None:
        self.id: int = r[0]
        self.username: str = r[1]
        self.email: str = r[2]
        self.created_at: datetime = r[3]
        self.is_active: bool = r[4]
        self.balance: int = r[5]


class RawW6User:
    """asyncpg's object for a ``W6User`` row, with its list of ``RawW6Post``."""

    def __init__(self, r: Any, posts: list[RawW6Post]) -> None:
        self.id: int = r[0]
        self.username: str = r[1]
        self.email: str = r[2]
        self.posts = posts


class RawW6Post:
    """asyncpg's object for a ``W6Post`` row."""

    def __init__(self, r: Any) -> None:
        self.id: int = r[0]
        self.author_id: int = r[1]
        self.title: str = r[2]
        self.created_at: datetime = r[3]


# Every timed run of this process, (wall, cpu) per run, by workload (``--contender`` mode
# reports the first and the last of each).
RUNS: dict[str, list[tuple[float, float]]] = {}


async def timed(
    res: dict[str, float], key: str, fn: Timer, repeat: int, setup: Timer | None = None
) -> None:
    """``res[key]`` and ``res[key + " cpu"]``: the best wall time and the best process CPU
    time (all threads) of ``repeat`` runs (``setup`` runs before each, untimed)."""
    runs: list[tuple[float, float]] = []
    for _ in range(repeat):
        if setup is not None:
            await setup()
        t, c = time.perf_counter(), time.process_time()
        await fn()
        runs.append((time.perf_counter() - t, time.process_time() - c))
    RUNS.setdefault(key, []).extend(runs)
    res[key] = min(w for w, _ in runs)
    res[key + " cpu"] = min(c for _, c in runs)


# -- the bridge alone -------------------------------------------------------------------------


async def bridge_costs(n: int = 20_000) -> dict[str, float]:
    loop = asyncio.get_running_loop()
    out: dict[str, float] = {}
    for _ in range(200):
        await _bridge.run(_chakra.noop_job())
    t = time.perf_counter()
    for _ in range(n):
        await _bridge.run(_chakra.noop_job())
    out["chakra await (noop job)"] = (time.perf_counter() - t) / n
    t = time.perf_counter()
    for _ in range(n):
        _chakra.noop_job().run_sync()
    out["chakra run_sync (noop job)"] = (time.perf_counter() - t) / n
    t = time.perf_counter()
    for _ in range(n // 4):
        await loop.run_in_executor(None, int)
    out["asyncio run_in_executor (noop)"] = (time.perf_counter() - t) / (n // 4)
    return out


# -- the contenders ---------------------------------------------------------------------------


async def run_asyncpg(url: str, repeat: int) -> dict[str, float]:
    conn = await asyncpg.connect(url)
    res: dict[str, float] = {}

    async def truncate() -> None:
        await conn.execute("TRUNCATE bench_users RESTART IDENTITY")

    async def w2_copy() -> None:
        await conn.copy_records_to_table(
            "bench_users",
            records=[row(i) for i in range(N_BULK)],
            columns=["username", "email", "created_at", "is_active", "balance"],
        )

    async def w2_many() -> None:
        await conn.executemany(
            "INSERT INTO bench_users (username, email, created_at, is_active, balance) "
            "VALUES ($1, $2, $3, $4, $5)",
            [row(i) for i in range(N_BULK)],
        )

    await timed(res, "W2 executemany", w2_many, repeat, truncate)
    await timed(res, "W2", w2_copy, repeat, truncate)

    async def w3() -> None:
        rows = await conn.fetch(f"SELECT {COLS} FROM bench_users")
        assert len(rows) == N_BULK

    async def w4() -> None:
        for i in range(N_FILTER):
            await conn.fetch(
                f"SELECT {COLS} FROM bench_users WHERE username LIKE $1 AND is_active = $2 "
                "ORDER BY id LIMIT 10",
                f"user{i % 100}%",
                True,
            )

    async def w5() -> None:
        for i in range(N_GET):
            r = await conn.fetchrow(f"SELECT {COLS} FROM bench_users WHERE id = $1", i % N_BULK + 1)
            assert r is not None

    async def w6() -> None:
        users = await conn.fetch("SELECT id, username, email FROM w6_users")
        posts = await conn.fetch(
            "SELECT id, author_id, title, created_at FROM w6_posts WHERE author_id = ANY($1) "
            "ORDER BY id",
            [u["id"] for u in users],
        )
        by_user: dict[int, list[asyncpg.Record]] = {}
        for p in posts:
            by_user.setdefault(p["author_id"], []).append(p)
        out = [(u, by_user.get(u["id"], [])) for u in users]
        check_w6(len(out), sum(len(ps) for _, ps in out))

    async def w7() -> None:
        async with conn.transaction():
            rows = await conn.fetch(f"SELECT {COLS} FROM bench_users WHERE id <= $1", N_W7)
            await conn.executemany(
                "UPDATE bench_users SET balance = $1 WHERE id = $2",
                [(r["balance"] + 1, r["id"]) for r in rows],
            )

    async def w1() -> None:
        async with conn.transaction():
            for u, e, c, a, b in (row(i) for i in range(N_W1)):
                await conn.fetchval(
                    "INSERT INTO bench_users (username, email, created_at, is_active, balance) "
                    "VALUES ($1, $2, $3, $4, $5) RETURNING id",
                    f"w1{u}",
                    e,
                    c,
                    a,
                    b,
                )

    async def drop_w1() -> None:
        await conn.execute("DELETE FROM bench_users WHERE username LIKE 'w1%'")

    # The same reads, each row made an object with the same attributes as Chakra's instance
    # (issue 20's comparison: asyncpg's fetch + building the same objects).
    async def w3_objects() -> None:
        rows = await conn.fetch(f"SELECT {COLS} FROM bench_users")
        users = [RawUser(r) for r in rows]
        assert len(users) == N_BULK

    async def w4_objects() -> None:
        for i in range(N_FILTER):
            rows = await conn.fetch(
                f"SELECT {COLS} FROM bench_users WHERE username LIKE $1 AND is_active = $2 "
                "ORDER BY id LIMIT 10",
                f"user{i % 100}%",
                True,
            )
            [RawUser(r) for r in rows]

    async def w5_objects() -> None:
        for i in range(N_GET):
            r = await conn.fetchrow(f"SELECT {COLS} FROM bench_users WHERE id = $1", i % N_BULK + 1)
            assert r is not None
            RawUser(r)

    async def w6_objects() -> None:
        users = await conn.fetch("SELECT id, username, email FROM w6_users")
        posts = await conn.fetch(
            "SELECT id, author_id, title, created_at FROM w6_posts WHERE author_id = ANY($1) "
            "ORDER BY id",
            [u["id"] for u in users],
        )
        by_user: dict[int, list[RawW6Post]] = {}
        for p in posts:
            by_user.setdefault(p["author_id"], []).append(RawW6Post(p))
        out = [RawW6User(u, by_user.get(u["id"], [])) for u in users]
        check_w6(len(out), sum(len(u.posts) for u in out))

    await timed(res, "W3", w3, repeat)
    await timed(res, "W3 objects", w3_objects, repeat)
    await timed(res, "W4", w4, repeat)
    await timed(res, "W4 objects", w4_objects, repeat)
    await timed(res, "W5", w5, repeat)
    await timed(res, "W5 objects", w5_objects, repeat)
    await timed(res, "W6", w6, repeat)
    await timed(res, "W6 objects", w6_objects, repeat)
    await timed(res, "W7", w7, repeat)
    await timed(res, "W1", w1, repeat, drop_w1)
    await conn.close()
    return res


async def run_chakra(url: str, repeat: int) -> dict[str, float]:
    chakra.configure(url)
    res: dict[str, float] = {}

    async def truncate() -> None:
        await chakra.execute_script("TRUNCATE bench_users RESTART IDENTITY")

    async def w2() -> None:
        objs = [
            BenchUser(username=u, email=e, created_at=c, is_active=a, balance=b)
            for u, e, c, a, b in (row(i) for i in range(N_BULK))
        ]
        await BenchUser.objects.bulk_create(objs)
        assert objs[-1].id == N_BULK

    async def w3() -> None:
        users = await BenchUser.objects.all()
        assert len(users) == N_BULK

    async def w4() -> None:
        for i in range(N_FILTER):
            await (
                BenchUser.objects.filter(username__startswith=f"user{i % 100}", is_active=True)
                .order_by("id")
                .limit(10)
                .all()
            )

    async def w5() -> None:
        for i in range(N_GET):
            await BenchUser.objects.get(id=i % N_BULK + 1)

    def w3_sync() -> None:
        assert len(BenchUser.objects.all_sync()) == N_BULK

    def w4_sync() -> None:
        for i in range(N_FILTER):
            BenchUser.objects.filter(
                username__startswith=f"user{i % 100}", is_active=True
            ).order_by("id").limit(10).all_sync()

    def w5_sync() -> None:
        for i in range(N_GET):
            BenchUser.objects.get_sync(id=i % N_BULK + 1)

    await timed(res, "W2", w2, repeat, truncate)
    await timed(res, "W3", w3, repeat)
    await timed(res, "W4", w4, repeat)
    await timed(res, "W5", w5, repeat)

    async def sync_timer(fn: Callable[[], None]) -> None:
        fn()

    await timed(res, "W3 sync API", lambda: sync_timer(w3_sync), repeat)
    await timed(res, "W4 sync API", lambda: sync_timer(w4_sync), repeat)
    await timed(res, "W5 sync API", lambda: sync_timer(w5_sync), repeat)

    async def w6() -> None:
        users = await W6User.objects.prefetch_related("posts").all()
        check_w6(len(users), sum(len(u.posts) for u in users))

    await timed(res, "W6", w6, repeat)

    async def w7() -> None:
        async with Session() as s:
            users = await s.query(BenchUser).filter(id__lte=N_W7).all()
            for u in users:
                u.balance += 1
            await s.commit()

    await timed(res, "W7", w7, repeat)

    async def w1() -> None:
        objs = [
            BenchUser(username=f"w1{u}", email=e, created_at=c, is_active=a, balance=b)
            for u, e, c, a, b in (row(i) for i in range(N_W1))
        ]
        async with Session() as s:
            s.add_all(objs)
            await s.commit()
        assert objs[-1].id is not None

    async def drop_w1() -> None:
        await BenchUser.objects.filter(username__startswith="w1").delete()

    await timed(res, "W1", w1, repeat, drop_w1)
    chakra.close()
    return res


async def run_sqlalchemy(url: str, repeat: int) -> dict[str, float]:
    from sqlalchemy import Boolean as SBool
    from sqlalchemy import Column, ForeignKey, select, text
    from sqlalchemy import DateTime as SDateTime
    from sqlalchemy import Integer as SInt
    from sqlalchemy import String as SStr
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
    from sqlalchemy.orm import DeclarativeBase, relationship, selectinload

    class Base(DeclarativeBase):
        pass

    class SUser(Base):
        __tablename__ = "bench_users"
        id = Column(SInt, primary_key=True)
        username = Column(SStr(50), unique=True, nullable=False)
        email = Column(SStr(255), nullable=False)
        created_at = Column(SDateTime(timezone=True), nullable=False)
        is_active = Column(SBool, nullable=False)
        balance = Column(SInt, nullable=False)

    class SW6User(Base):
        __tablename__ = "w6_users"
        id = Column(SInt, primary_key=True)
        username = Column(SStr(50), nullable=False)
        email = Column(SStr(255), nullable=False)
        posts = relationship("SW6Post", back_populates="author")

    class SW6Post(Base):
        __tablename__ = "w6_posts"
        id = Column(SInt, primary_key=True)
        author_id = Column(SInt, ForeignKey("w6_users.id"), nullable=False)
        title = Column(SStr(200), nullable=False)
        created_at = Column(SDateTime(timezone=True), nullable=False)
        author = relationship(SW6User, back_populates="posts")

    engine = create_async_engine(url.replace("postgres://", "postgresql+asyncpg://", 1))
    maker = async_sessionmaker(engine, expire_on_commit=False)
    res: dict[str, float] = {}

    async def truncate() -> None:
        async with engine.begin() as c:
            await c.execute(text("TRUNCATE bench_users RESTART IDENTITY"))

    async def w2() -> None:
        async with maker() as s:
            s.add_all(
                [
                    SUser(username=u, email=e, created_at=c, is_active=a, balance=b)
                    for u, e, c, a, b in (row(i) for i in range(N_BULK))
                ]
            )
            await s.commit()

    async def w3() -> None:
        async with maker() as s:
            users = (await s.execute(select(SUser))).scalars().all()
            assert len(users) == N_BULK

    async def w4() -> None:
        async with maker() as s:
            for i in range(N_FILTER):
                q = (
                    select(SUser)
                    .where(SUser.username.startswith(f"user{i % 100}"), SUser.is_active.is_(True))
                    .order_by(SUser.id)
                    .limit(10)
                )
                (await s.execute(q)).scalars().all()

    async def w5() -> None:
        async with maker() as s:
            for i in range(N_GET):
                q = select(SUser).where(SUser.id == i % N_BULK + 1)
                (await s.execute(q)).scalar_one()

    await timed(res, "W2", w2, repeat, truncate)
    await timed(res, "W3", w3, repeat)
    await timed(res, "W4", w4, repeat)

    async def w6() -> None:
        async with maker() as s:
            q = select(SW6User).options(selectinload(SW6User.posts))
            users = (await s.execute(q)).scalars().all()
            check_w6(len(users), sum(len(u.posts) for u in users))

    await timed(res, "W5", w5, repeat)
    await timed(res, "W6", w6, repeat)
    await engine.dispose()
    return res


async def run_tortoise(url: str, repeat: int) -> dict[str, float]:
    from tortoise import Tortoise, fields
    from tortoise.models import Model as TModel

    class TUser(TModel):
        id = fields.IntField(primary_key=True)
        username = fields.CharField(max_length=50, unique=True)
        email = fields.CharField(max_length=255)
        created_at = fields.DatetimeField()
        is_active = fields.BooleanField()
        balance = fields.IntField()

        class Meta:
            table = "bench_users"
            app = "bench"

    class TW6User(TModel):
        id = fields.IntField(primary_key=True)
        username = fields.CharField(max_length=50)
        email = fields.CharField(max_length=255)

        class Meta:
            table = "w6_users"
            app = "bench"

    class TW6Post(TModel):
        id = fields.IntField(primary_key=True)
        author: Any = fields.ForeignKeyField(
            "bench.TW6User", related_name="posts", source_field="author_id"
        )
        title = fields.CharField(max_length=200)
        created_at = fields.DatetimeField()

        class Meta:
            table = "w6_posts"
            app = "bench"

    mod = sys.modules[__name__]
    mod.TUser = TUser  # type: ignore[attr-defined]
    mod.TW6User = TW6User  # type: ignore[attr-defined]
    mod.TW6Post = TW6Post  # type: ignore[attr-defined]
    await Tortoise.init(
        db_url=url.replace("postgres://", "asyncpg://", 1), modules={"bench": [__name__]}
    )
    conn = Tortoise.get_connection("default")
    res: dict[str, float] = {}

    async def truncate() -> None:
        await conn.execute_script("TRUNCATE bench_users RESTART IDENTITY")

    async def w2() -> None:
        await TUser.bulk_create(
            [
                TUser(username=u, email=e, created_at=c, is_active=a, balance=b)
                for u, e, c, a, b in (row(i) for i in range(N_BULK))
            ]
        )

    async def w3() -> None:
        assert len(await TUser.all()) == N_BULK

    async def w4() -> None:
        for i in range(N_FILTER):
            await (
                TUser.filter(username__startswith=f"user{i % 100}", is_active=True)
                .order_by("id")
                .limit(10)
            )

    async def w5() -> None:
        for i in range(N_GET):
            await TUser.get(id=i % N_BULK + 1)

    await timed(res, "W2", w2, repeat, truncate)
    await timed(res, "W3", w3, repeat)
    await timed(res, "W4", w4, repeat)

    async def w6() -> None:
        users = await TW6User.all().prefetch_related("posts")
        check_w6(len(users), sum(len(u.posts) for u in users))  # type: ignore[attr-defined]

    await timed(res, "W5", w5, repeat)
    await timed(res, "W6", w6, repeat)
    await Tortoise.close_connections()
    return res


# -- main -------------------------------------------------------------------------------------


def table(results: dict[str, dict[str, float]], cpu: bool = False) -> str:
    """Seconds and ratios to asyncpg per workload: wall times, or with ``cpu`` CPU times."""
    base = results["asyncpg"]
    keys = ["W1", "W2", "W3", "W4", "W5", "W6", "W7"]
    sfx = " cpu" if cpu else ""
    lines = [
        f"{'library':<26}" + "".join(f"{k:>20}" for k in keys),
    ]
    for lib, res in results.items():
        cells = []
        for k in keys:
            if k + sfx in res:
                v = res[k + sfx]
                cells.append(f"{v:8.3f}s ({v / base[k + sfx]:5.2f}x)")
            else:
                cells.append(" " * 20)
        lines.append(f"{lib:<26}" + "".join(f"{c:>20}" for c in cells))
        for k, v in res.items():
            if k.endswith(" cpu") != cpu or k.removesuffix(" cpu") in keys:
                continue
            name = k.removesuffix(" cpu")
            kk = name.split()[0] + sfx
            lines.append(f"  {lib} {name:<22} {v:8.3f}s ({v / base[kk]:5.2f}x asyncpg {kk})")
    return "\n".join(lines)


RUNNERS: dict[str, Callable[[str, int], Awaitable[dict[str, float]]]] = {
    "asyncpg": run_asyncpg,
    "chakra": run_chakra,
    "sqlalchemy": run_sqlalchemy,
    "tortoise": run_tortoise,
}


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--url", default=isolated.default_pg_url())
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", default="asyncpg,chakra,sqlalchemy,tortoise")
    ap.add_argument(
        "--isolated",
        type=int,
        metavar="N",
        help="each contender alone in a fresh process, N interleaved repetitions, medians",
    )
    ap.add_argument("--contender", help=argparse.SUPPRESS)  # a child of --isolated
    ap.add_argument("--bench-db-url", help=argparse.SUPPRESS)  # the child's database
    args = ap.parse_args()

    if args.contender:
        # A child of --isolated: one contender, every workload timed twice (cold, warm).
        await RUNNERS[args.contender](args.bench_db_url, 2)
        isolated.emit({k: isolated.timed_twice(r[0], r[-1]) for k, r in RUNS.items()})
        return

    async with scratch_database(args.url, "chakra_bench") as url:
        chakra.configure(url)
        await chakra.create_tables(BenchUser, W6User, W6Post)
        chakra.close()
        await w6_data(url)
        if args.isolated:
            isolated.run(
                __file__,
                ["--bench-db-url", url],
                args.only.split(","),
                "asyncpg",
                args.isolated,
            )
            return
        print("bridge, per call (query-free):")
        for k, v in (await bridge_costs()).items():
            print(f"  {k:<34} {v * 1e6:7.1f} µs")
        print(f"start: {isolated.stamp()}")
        results: dict[str, dict[str, float]] = {}
        for lib in args.only.split(","):
            results[lib] = await RUNNERS[lib](url, args.repeat)
            print(f"  done: {lib}", file=sys.stderr)
        print(f"end:   {isolated.stamp()}")
        print(f"\nwall time (best of {args.repeat}; ratio to asyncpg; W2 asyncpg uses COPY):")
        print(table(results))
        print(f"\nprocess CPU time, user + system, all threads (best of {args.repeat}):")
        print(table(results, cpu=True))


if __name__ == "__main__":
    asyncio.run(main())
