"""Concurrency safety (issue 9): 200 concurrent seed-style transfers over 10 accounts never
lose or make money; conflicts are named and retryable; ``session.transaction`` re-runs them
until every transfer lands; opposite-order writers do not deadlock."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import chakra
import pytest
from chakra import Field, Integer, Model, Session, String, errors
from conftest import Db, with_params

# Every test here runs on SQLite, PostgreSQL, and PostgreSQL through PgBouncer in
# transaction mode.


@pytest.fixture
def db(db_with_pooler: Db) -> Db:
    """This module's database: SQLite, PostgreSQL, and PostgreSQL through PgBouncer."""
    return db_with_pooler


@pytest.fixture(params=["postgres", "pgbouncer"])
def pg_kind(request: pytest.FixtureRequest) -> str:
    """PostgreSQL directly, or through PgBouncer in transaction mode."""
    return str(request.param)


ACCOUNTS = 10
TRANSFERS = 200
START = 1_000


class Account(Model):
    __tablename__ = "accounts"

    id = Field(Integer, primary_key=True, auto_increment=False)
    owner = Field(String(50))
    balance = Field(Integer)


class VersionedAccount(Model):
    __tablename__ = "versioned_accounts"

    id = Field(Integer, primary_key=True, auto_increment=False)
    balance = Field(Integer)
    note = Field(String(50), unchecked=True)
    version = Field(Integer, version=True, default=0)


async def setup_accounts() -> None:
    await chakra.create_tables(Account, VersionedAccount)
    await Account.objects.bulk_create(
        [Account(id=i, owner=f"owner{i}", balance=START) for i in range(1, ACCOUNTS + 1)]
    )


def plan(i: int) -> tuple[int, int, int]:
    """Transfer ``i``: from, to, amount (the same plan as the Rust test)."""
    x = i * 7919 + 13
    src = x % ACCOUNTS + 1
    dst = (src + 1 + (x // 10) % (ACCOUNTS - 1)) % ACCOUNTS + 1
    if dst == src:
        dst = dst % ACCOUNTS + 1
    return src, dst, 1 + x % 50


async def balances() -> list[int]:
    return await Account.objects.order_by("id").values_list("balance", flat=True).all()


def ledger(landed: list[int]) -> list[int]:
    b = [START] * ACCOUNTS
    for i in landed:
        src, dst, amount = plan(i)
        b[src - 1] -= amount
        b[dst - 1] += amount
    return b


async def seed_transfer(s: Session, src: int, dst: int, amount: int) -> None:
    """The seed's transfer body."""
    user1 = await s.get(Account, src)
    user2 = await s.get(Account, dst)
    assert user1 is not None and user2 is not None
    user1.balance -= amount
    user2.balance += amount


async def test_two_hundred_transfers_in_begin_blocks_lose_nothing(db: object) -> None:
    await setup_accounts()
    landed_all: list[int] = []
    for _round in range(5):

        async def one(i: int) -> int:
            src, dst, amount = plan(i)
            async with Session() as s, s.begin():
                await seed_transfer(s, src, dst, amount)
            return i

        results = await asyncio.gather(*(one(i) for i in range(TRANSFERS)), return_exceptions=True)
        landed = [r for r in results if isinstance(r, int)]
        failed = [r for r in results if not isinstance(r, int)]
        for e in failed:
            assert isinstance(e, errors.ChakraError) and e.retryable, repr(e)
            assert not isinstance(e, errors.Deadlock), repr(e)
        landed_all += landed
        assert await balances() == ledger(landed_all)
        print(f"round {_round}: {len(landed)} landed, {len(failed)} failed (retryable)")
    assert sum(await balances()) == START * ACCOUNTS


async def test_two_hundred_transfers_through_transaction_all_land(db: object) -> None:
    await setup_accounts()
    runs = 0
    for round_ in range(1, 6):

        async def one(i: int) -> None:
            src, dst, amount = plan(i)

            async def body(s: Session) -> None:
                nonlocal runs
                runs += 1
                await seed_transfer(s, src, dst, amount)

            async with Session() as s:
                await s.transaction(body)  # the default: 3 attempts

        started = time.monotonic()
        await asyncio.gather(*(one(i) for i in range(TRANSFERS)))
        assert await balances() == ledger(list(range(TRANSFERS)) * round_)
        print(f"round {round_}: 200/200 landed in {time.monotonic() - started:.2f} s")
    print(f"1000 transfers landed after {runs - 5 * TRANSFERS} re-runs")


async def test_a_lost_update_is_a_named_concurrent_update(db: Any) -> None:
    await setup_accounts()
    async with Session() as s:
        a = await s.get(Account, 3)
        assert a is not None
        # Someone else writes the row after this session read it.
        await Account.objects.filter(id=3).update(balance=7)
        a.balance += 1
        try:
            await s.commit()
        except errors.ConcurrentUpdate as e:
            assert e.retryable
            assert (e.model, e.table, e.key) == ("Account", "accounts", "3")
            assert "Account" in str(e)
        else:
            raise AssertionError("the stale write was made")
    assert (await balances())[2] == 7


async def test_many_changed_objects_flush_together_and_fail_together(db: Any) -> None:
    """A flush sends every changed object's guarded UPDATE in one job (pipelined on
    PostgreSQL). A stale row in the middle fails the commit with that row's
    ``ConcurrentUpdate``, and none of the other changes stays; with no stale row, every
    change lands and every versioned object holds its new version."""
    await setup_accounts()
    async with Session() as s:
        objs = [await s.get(Account, i) for i in range(1, 9)]
        await Account.objects.filter(id=5).update(balance=7)
        for a in objs:
            assert a is not None
            a.balance += 1
        with pytest.raises(errors.ConcurrentUpdate) as caught:
            await s.commit()
        assert (caught.value.model, caught.value.key) == ("Account", "5")
    assert await balances() == [START] * 4 + [7] + [START] * 5

    await VersionedAccount.objects.bulk_create(
        [VersionedAccount(id=i, balance=i, note="n") for i in range(1, 6)]
    )
    async with Session() as s:
        vs = [await s.get(VersionedAccount, i) for i in range(1, 6)]
        accounts = [await s.get(Account, i) for i in (9, 10)]
        for v in vs:
            assert v is not None
            v.balance *= 10
        for a in accounts:
            assert a is not None
            a.owner = "changed"
        await s.commit()
    assert [v.version for v in vs if v is not None] == [1] * 5
    rows = await VersionedAccount.objects.order_by("id").values_list("balance", "version").all()
    assert rows == [(i * 10, 1) for i in range(1, 6)]
    owners = await Account.objects.filter(id__gte=9).values_list("owner", flat=True).all()
    assert owners == ["changed", "changed"]


async def test_transaction_reruns_with_the_new_values(db: object) -> None:
    await setup_accounts()
    runs = 0

    async def body(s: Session) -> int:
        nonlocal runs
        runs += 1
        a = await s.get(Account, 1)
        assert a is not None
        if runs == 1 and db.backend == "postgres":  # type: ignore[attr-defined]
            with chakra.outside_transaction():  # another connection's write
                await Account.objects.filter(id=1).update(balance=1)
        a.balance -= 100
        return a.balance

    async with Session() as s:
        got = await s.transaction(body)
    if db.backend == "postgres":  # type: ignore[attr-defined]
        assert (runs, got) == (2, -99)
    else:
        assert (runs, got) == (1, 900)
    assert (await balances())[0] == got


async def test_unchecked_fields_and_the_version_field(db: Any) -> None:
    await setup_accounts()
    await VersionedAccount.objects.bulk_create([VersionedAccount(id=1, balance=10, note="n")])
    async with Session() as s, s.begin():
        v = await s.get(VersionedAccount, 1)
        assert v is not None and v.version == 0
        v.balance += 5
    assert v.version == 1, "the object holds the new version"
    row = await VersionedAccount.objects.get(id=1)
    assert (row.balance, row.version) == (15, 1)
    if db.backend == "postgres":
        async with Session() as s:
            v = await s.get(VersionedAccount, 1)
            assert v is not None
            await VersionedAccount.objects.filter(id=1).update(version=5)
            v.note = "mine"
            try:
                await s.commit()
            except errors.ConcurrentUpdate:
                pass
            else:
                raise AssertionError("a stale version was written over")


class _Rendezvous:
    """Both writers have read before either writes (on SQLite the second waits at BEGIN,
    so nobody waits for it forever)."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.count = 0

    async def arrive(self) -> None:
        self.count += 1
        if self.count == 2:
            self.event.set()
        try:
            await asyncio.wait_for(self.event.wait(), 0.3)
        except asyncio.TimeoutError:
            pass


async def _writer(first: int, second: int, meet: _Rendezvous) -> None:
    async with Session() as s, s.begin():
        a = await s.get(Account, first)
        b = await s.get(Account, second)
        assert a is not None and b is not None
        a.balance -= 1
        b.balance += 1
        await meet.arrive()


async def test_opposite_order_writers_do_not_deadlock(db: object) -> None:
    await setup_accounts()
    for _ in range(5):
        meet = _Rendezvous()
        results = await asyncio.gather(
            _writer(1, 2, meet), _writer(2, 1, meet), return_exceptions=True
        )
        for r in results:
            assert r is None or isinstance(r, errors.ConcurrentUpdate), repr(r)
        assert sum(await balances()) == START * ACCOUNTS


async def test_begin_accepts_an_isolation_level(db: object) -> None:
    await setup_accounts()
    async with Session() as s:
        async with s.begin(isolation="serializable"):
            a = await s.get(Account, 1)
            assert a is not None
            a.balance += 1
        try:
            async with s.begin(isolation="sometimes"):
                pass
        except errors.InvalidQuery as e:
            assert "serializable" in str(e)
        else:
            raise AssertionError("an unknown level was accepted")
    assert (await balances())[0] == START + 1


async def pg_accounts(new_db: Any, kind: str, params: str = "") -> Any:
    d = new_db(kind)
    chakra.configure(with_params(d.url, params))
    await setup_accounts()
    return d


async def test_deadlock_is_named_with_its_sqlstate_and_table(new_db: Any, pg_kind: str) -> None:
    d = await pg_accounts(new_db, pg_kind)
    first_locked = asyncio.Event()
    second_locked = asyncio.Event()

    async def side(mine: int, theirs: int, me: asyncio.Event, them: asyncio.Event) -> None:
        async with Session() as s, s.begin():
            await s.query(Account).filter(id=mine).update(balance=0)
            me.set()
            await them.wait()
            await s.query(Account).filter(id=theirs).update(balance=0)

    results = await asyncio.gather(
        side(1, 2, first_locked, second_locked),
        side(2, 1, second_locked, first_locked),
        return_exceptions=True,
    )
    failed = [r for r in results if r is not None]
    assert len(failed) == 1, results
    e = failed[0]
    assert isinstance(e, errors.Deadlock) and isinstance(e, errors.TransactionConflict), repr(e)
    assert e.retryable and e.sqlstate == "40P01" and e.table == "accounts"
    assert "40P01" in str(e) and "accounts" in str(e)
    chakra.close(d.url)


async def test_lock_timeout_from_nowait_and_for_update(new_db: Any, pg_kind: str) -> None:
    d = await pg_accounts(new_db, pg_kind)
    async with Session() as holder, holder.begin():
        locked = await holder.get(Account, 1, for_update=True)
        assert locked is not None
        async with Session() as s:
            try:
                async with s.begin():
                    await s.query(Account).filter(id=1).select_for_update(nowait=True).all()
            except errors.LockTimeout as e:
                assert e.retryable and e.sqlstate == "55P03" and e.table == "accounts"
            else:
                raise AssertionError("nowait did not fail on a locked row")
            # skip_locked leaves the locked row out.
            async with s.begin():
                rows = await s.query(Account).select_for_update(skip_locked=True).all()
                assert 1 not in [r.id for r in rows] and len(rows) == ACCOUNTS - 1
    chakra.close(d.url)


async def test_select_for_update_needs_a_transaction(db: object) -> None:
    await setup_accounts()
    try:
        await Account.objects.select_for_update().all()
    except errors.TransactionError as e:
        assert "session" in str(e)
    else:
        raise AssertionError("a lock outside a transaction was taken")
    async with Session() as s:
        try:
            await s.get(Account, 1, for_update=True)
        except errors.TransactionError:
            pass
        else:
            raise AssertionError("a lock outside a transaction was taken")
        # Locking reads serialise the increments: none is lost, none conflicts.

    async def bump() -> None:
        async with Session() as s, s.begin():
            a = await s.get(Account, 1, for_update=True)
            assert a is not None
            a.balance += 1

    await asyncio.gather(*(bump() for _ in range(20)))
    assert (await balances())[0] == START + 20


async def test_statement_timeout_from_the_url(new_db: Any, pg_kind: str) -> None:
    d = await pg_accounts(new_db, pg_kind, "?statement_timeout=100ms")
    try:
        await _bridge_run('SELECT pg_sleep(5) FROM "accounts"')
    except errors.StatementTimeout as e:
        assert not e.retryable and e.sqlstate == "57014" and e.table == "accounts"
    else:
        raise AssertionError("the statement was not cancelled")
    chakra.close(with_params(d.url, "?statement_timeout=100ms"))


async def _bridge_run(sql: str) -> None:
    from chakra import _bridge, _chakra, config

    await _bridge.run(_chakra.batch_job(config.pool(), sql))


def terminate_all(url: str) -> None:
    from conftest import admin

    name = url.rsplit("/", 1)[1].split("?")[0]
    admin(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    )


async def test_the_pool_survives_the_server_killing_its_connections(
    new_db: Any, pg_kind: str
) -> None:
    d = await pg_accounts(new_db, pg_kind)
    for _round in range(3):
        await asyncio.gather(*(Account.objects.count() for _ in range(8)))
        terminate_all(d.url)
        for _ in range(10):
            assert await Account.objects.count() == ACCOUNTS
        async with Session() as s:
            try:
                async with s.begin():
                    a = await s.get(Account, 1)
                    assert a is not None
                    terminate_all(d.url)
                    await s.query(Account).filter(id=2).update(balance=0)
            except errors.ConnectionLost as e:
                assert e.retryable and isinstance(e, errors.ConnectionError)
            else:
                raise AssertionError("the transaction survived its connection")
        async with Session() as s, s.begin():
            a = await s.get(Account, 1)
            assert a is not None
            a.balance += 1
    assert (await balances())[:2] == [START + 3, START]
    chakra.close(d.url)


async def gone_from_server(marker: str) -> float | None:
    """Seconds until no statement containing ``marker`` runs on the server (polled)."""
    from chakra import _bridge, _chakra
    from conftest import PG_ADMIN

    admin_pool = _chakra.PoolRef(PG_ADMIN)
    check = (
        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_stat_activity WHERE state = 'active' "
        f"AND pid <> pg_backend_pid() AND query LIKE '%{marker}%' AND query NOT LIKE '%DO $%') "
        "THEN RAISE EXCEPTION 'still running'; END IF; END $$"
    )
    loop = asyncio.get_running_loop()
    started = loop.time()
    while loop.time() - started < 10:
        try:
            await _bridge.run(_chakra.batch_job(admin_pool, check))
            return loop.time() - started
        except errors.DatabaseError:
            await asyncio.sleep(0.02)
    return None


async def test_a_cancelled_task_cancels_its_statement_on_the_server(
    new_db: Any, pg_kind: str
) -> None:
    d = await pg_accounts(new_db, pg_kind)
    from chakra import _bridge, _chakra, config

    tag = d.url.rsplit("/", 1)[1].split("?")[0]
    marker = f"chakra_pycancel_plain_{tag}"
    try:
        await asyncio.wait_for(_bridge_run(f"SELECT pg_sleep(30) /* {marker} */"), 0.3)
    except TimeoutError:
        pass
    else:
        raise AssertionError("the sleep was not cut short")
    t = await gone_from_server(marker)
    assert t is not None, "the cancelled pg_sleep(30) still runs on the server"
    print(f"plain statement gone after {t:.3f} s")

    marker = f"chakra_pycancel_tx_{tag}"

    async def in_tx() -> None:
        async with Session() as s, s.begin():
            a = await s.get(Account, 1)
            assert a is not None
            a.balance = 0
            await s.flush()
            assert s._tx is not None
            await _bridge.run(_chakra.batch_job(s._tx, f"SELECT pg_sleep(30) /* {marker} */"))

    try:
        await asyncio.wait_for(in_tx(), 0.3)
    except TimeoutError:
        pass
    else:
        raise AssertionError("the sleep was not cut short")
    t = await gone_from_server(marker)
    assert t is not None, "the cancelled pg_sleep(30) still runs on the server"
    print(f"statement in a transaction gone after {t:.3f} s")
    assert (await balances())[0] == START, "the cancelled transaction wrote nothing"
    for _ in range(200):
        size, available, _max = config.pool().status() or (0, 0, 0)
        if size == available:
            break
        await asyncio.sleep(0.01)
    assert size == available
    chakra.close(d.url)


async def test_serialization_failure_under_repeatable_read(new_db: Any, pg_kind: str) -> None:
    d = await pg_accounts(new_db, pg_kind)
    async with Session() as s:
        try:
            async with s.begin(isolation="repeatable read"):
                a = await s.get(Account, 1)  # the snapshot is taken here
                assert a is not None
                with chakra.outside_transaction():  # another connection's write
                    await Account.objects.filter(id=1).update(balance=5)
                await s.query(Account).filter(id=1).update(balance=6)
        except errors.SerializationFailure as e:
            assert e.retryable and e.sqlstate == "40001" and e.table == "accounts"
            assert isinstance(e, errors.TransactionConflict)
        else:
            raise AssertionError("the write over a newer row version was allowed")
    assert (await balances())[0] == 5
    chakra.close(d.url)


async def test_a_pool_wait_that_times_out_names_the_pool_size(new_db: Any, pg_kind: str) -> None:
    d = await pg_accounts(new_db, pg_kind, "?max_size=1&wait_timeout=50ms")
    async with Session() as s, s.begin():
        try:
            with chakra.outside_transaction():  # a second connection
                await Account.objects.count()
        except errors.ConnectionTimeout as e:
            assert e.pool_size == 1 and not e.retryable
            assert "max_size 1" in str(e)
        else:
            raise AssertionError("a second connection was handed out")
    assert await Account.objects.count() == ACCOUNTS
    chakra.close(with_params(d.url, "?max_size=1&wait_timeout=50ms"))


async def test_mysql_deadlock_lock_timeout_and_statement_timeout_are_named(
    new_db: Any,
) -> None:
    """The PostgreSQL tests above, on MySQL/MariaDB: each named error from a real failure,
    recognised by the server's error number (docs/mysql.md)."""
    d = await pg_accounts(new_db, "mysql")
    first_locked = asyncio.Event()
    second_locked = asyncio.Event()

    async def side(mine: int, theirs: int, me: asyncio.Event, them: asyncio.Event) -> None:
        async with Session() as s, s.begin():
            await s.query(Account).filter(id=mine).update(balance=0)
            me.set()
            await them.wait()
            await s.query(Account).filter(id=theirs).update(balance=0)

    results = await asyncio.gather(
        side(1, 2, first_locked, second_locked),
        side(2, 1, second_locked, first_locked),
        return_exceptions=True,
    )
    failed = [r for r in results if r is not None]
    assert len(failed) == 1, results
    e = failed[0]
    assert isinstance(e, errors.Deadlock) and isinstance(e, errors.TransactionConflict), repr(e)
    assert e.retryable and "1213" in str(e), str(e)
    # The survivor committed: its two rows are 0, the others untouched.
    assert sorted(await balances()) == [0, 0] + [START] * (ACCOUNTS - 2)

    async with Session() as holder, holder.begin():
        locked = await holder.get(Account, 3, for_update=True)
        assert locked is not None
        async with Session() as s:
            try:
                async with s.begin():
                    await s.query(Account).filter(id=3).select_for_update(nowait=True).all()
            except errors.LockTimeout as le:
                assert le.retryable, repr(le)
            else:
                raise AssertionError("nowait did not fail on a locked row")
            async with s.begin():
                rows = await s.query(Account).select_for_update(skip_locked=True).all()
                assert 3 not in [r.id for r in rows] and len(rows) == ACCOUNTS - 1
    chakra.close(d.url)

    url = with_params(d.url, "?statement_timeout=100ms")
    chakra.configure(url)
    try:
        await _bridge_run('SELECT SLEEP(5) FROM "accounts"')
    except errors.StatementTimeout as te:
        assert not te.retryable, repr(te)
    else:
        raise AssertionError("the statement was not cancelled")
    chakra.close(url)
