"""Model hooks (``pre_save``/``post_save``/``pre_delete``/``post_delete``) on SQLite and
PostgreSQL: called in order around the write (pre → write → post), with ``created`` true for
inserts, inside the write's transaction (a hook's audit row commits with the write and
vanishes with its rollback), by ``save()``, ``save(update_fields=…)``, ``delete()``,
``objects.create()`` and a session's flush, not by the bulk paths. What the tables hold
afterwards is read back with plain SQL (``chakra.fetch``), not through the hooks.
"""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any

import chakra
import pytest
from chakra import Field, Integer, Model, String, errors
from chakra.hooks import HookContext
from test_conveniences import statements

EVENTS: list[tuple[Any, ...]] = []


class Boom(Exception):
    """Raised by a hook on demand."""


def _row_there(pk: int) -> bool:
    """Whether the row is visible where the hook runs (its transaction: ``Model.objects``
    joins it)."""
    return HkNote.objects.filter(id=pk).exists_sync()


class HkAudit(Model):
    __tablename__ = "hk_audit"
    id = Field(Integer, primary_key=True)
    event = Field(String(60))


class HkNote(Model):
    """Plain ``def`` hooks: they log what they saw and write an audit row."""

    __tablename__ = "hk_notes"
    id = Field(Integer, primary_key=True)
    title = Field(String(40))
    words = Field(Integer, default=0)

    fail: str | None = None

    def _audit(self, what: str) -> None:
        HkAudit.objects.create_sync(event=f"{what} {self.title}")
        if type(self).fail == what:
            raise Boom(what)

    def pre_save(self, ctx: HookContext) -> None:
        self.words = len(self.title.split())  # a pre_save change is written
        EVENTS.append(("pre_save", self.title, self.id and _row_there(self.id)))
        self._audit("pre_save")

    def post_save(self, ctx: HookContext, created: bool) -> None:
        EVENTS.append(("post_save", self.title, created, _row_there(self.id)))
        EVENTS.append(("ctx", ctx.session is not None, ctx.update_fields))
        self._audit("post_save")

    def pre_delete(self, ctx: HookContext) -> None:
        EVENTS.append(("pre_delete", self.title, _row_there(self.id)))
        self._audit("pre_delete")

    def post_delete(self, ctx: HookContext) -> None:
        EVENTS.append(("post_delete", self.title, _row_there(self.id)))
        self._audit("post_delete")


class HkAsyncNote(Model):
    """``async def`` hooks, awaited by the async path, refused by the sync one."""

    __tablename__ = "hk_async_notes"
    id = Field(Integer, primary_key=True)
    title = Field(String(40))

    async def pre_save(self, ctx: HookContext) -> None:
        EVENTS.append(("async pre_save", self.title))
        await HkAudit.objects.create(event=f"async pre_save {self.title}")

    async def post_save(self, ctx: HookContext, created: bool) -> None:
        EVENTS.append(("async post_save", self.title, created))
        await HkAudit.objects.create(event=f"async post_save {self.title}")

    async def pre_delete(self, ctx: HookContext) -> None:
        EVENTS.append(("async pre_delete", self.title))

    async def post_delete(self, ctx: HookContext) -> None:
        EVENTS.append(("async post_delete", self.title))
        await HkAudit.objects.create(event=f"async post_delete {self.title}")


@pytest.fixture
async def hk(db: Any) -> Any:
    await chakra.create_tables(HkAudit, HkNote, HkAsyncNote)
    EVENTS.clear()
    HkNote.fail = None
    yield db
    HkNote.fail = None


def writes_to_notes(seen: list[str]) -> list[str]:
    return [s for s in seen if s.split()[0] in ("INSERT", "UPDATE", "DELETE") and "hk_notes" in s]


async def audit() -> list[str]:
    return [e for (e,) in await chakra.fetch("SELECT event FROM hk_audit ORDER BY id")]


async def notes() -> list[tuple[Any, ...]]:
    rows = await chakra.fetch("SELECT id, title, words FROM hk_notes ORDER BY id")
    return [tuple(r) for r in rows]


async def test_save_update_and_delete_call_the_hooks_in_order(hk: Any) -> None:
    n = HkNote(id=1, title="two words")
    await n.save()
    assert EVENTS == [
        ("pre_save", "two words", False),
        ("post_save", "two words", True, True),
        ("ctx", False, None),
    ]
    assert await notes() == [(1, "two words", 2)]
    EVENTS.clear()
    n.title = "now three words"
    await n.save()
    assert EVENTS[:2] == [
        ("pre_save", "now three words", True),
        ("post_save", "now three words", False, True),
    ]
    EVENTS.clear()
    n.title = "one"
    await n.save(update_fields=["title", "words"])
    assert EVENTS[1:] == [("post_save", "one", False, True), ("ctx", False, ("title", "words"))]
    # An empty update_fields writes nothing and calls nothing (Django).
    EVENTS.clear()
    await n.save(update_fields=[])
    assert EVENTS == []
    await n.delete()
    assert EVENTS == [("pre_delete", "one", True), ("post_delete", "one", False)]
    assert await notes() == []
    assert await audit() == [
        "pre_save two words",
        "post_save two words",
        "pre_save now three words",
        "post_save now three words",
        "pre_save one",
        "post_save one",
        "pre_delete one",
        "post_delete one",
    ]


async def test_create_calls_the_save_hooks_and_bulk_paths_do_not(hk: Any) -> None:
    made = await HkNote.objects.create(id=7, title="a b c")
    assert made.words == 3
    assert EVENTS[:2] == [("pre_save", "a b c", False), ("post_save", "a b c", True, True)]
    EVENTS.clear()
    await HkNote.objects.bulk_create([HkNote(id=8, title="x y")])
    await HkNote.objects.filter(id=8).update(title="z")
    await HkNote.objects.filter(id=8).delete()
    assert EVENTS == []
    assert await audit() == ["pre_save a b c", "post_save a b c"]


async def test_an_exception_in_post_save_rolls_the_write_back(hk: Any) -> None:
    HkNote.fail = "post_save"
    with pytest.raises(Boom) as caught:
        await HkNote(id=1, title="lost").save()
    assert caught.value.args == ("post_save",)
    assert await notes() == [] and await audit() == []
    # An update and a delete roll back alike.
    HkNote.fail = None
    await HkNote(id=2, title="kept").save()
    HkNote.fail = "post_save"
    n = await HkNote.objects.get(id=2)
    n.title = "changed"
    with pytest.raises(Boom):
        await n.save()
    HkNote.fail = "post_delete"
    with pytest.raises(Boom):
        await n.delete()
    assert await notes() == [(2, "kept", 1)]
    assert await audit() == ["pre_save kept", "post_save kept"]


async def test_an_exception_in_pre_save_runs_no_write(hk: Any) -> None:
    HkNote.fail = "pre_save"
    with statements() as seen, pytest.raises(Boom):
        await HkNote(id=1, title="never").save()
    assert writes_to_notes(seen) == [], seen
    HkNote.fail = "pre_delete"
    await HkNote.objects.bulk_create([HkNote(id=3, title="stays")])
    with statements() as seen, pytest.raises(Boom):
        await HkNote(id=3, title="stays").delete()
    assert writes_to_notes(seen) == [], seen
    assert await notes() == [(3, "stays", 0)] and await audit() == []


async def test_hooks_join_a_surrounding_transaction(hk: Any) -> None:
    async with chakra.Session() as s:
        async with s.begin():
            await HkNote(id=1, title="in tx").save()
        with pytest.raises(Boom):
            async with s.begin():
                await HkNote(id=2, title="rolled back").save()
                raise Boom("caller")
    assert await notes() == [(1, "in tx", 2)]
    assert await audit() == ["pre_save in tx", "post_save in tx"]


async def test_a_session_flush_calls_the_hooks(hk: Any) -> None:
    await HkNote.objects.bulk_create([HkNote(id=1, title="old"), HkNote(id=2, title="gone")])
    async with chakra.Session() as s:
        s.add(HkNote(id=3, title="new one"))
        changed = await s.get(HkNote, 1)
        assert changed is not None
        changed.title = "old changed"
        gone = await s.get(HkNote, 2)
        assert gone is not None
        s.delete(gone)
        await s.commit()
    assert EVENTS == [
        ("pre_save", "new one", False),
        ("post_save", "new one", True, True),
        ("ctx", True, None),
        ("pre_save", "old changed", True),
        ("post_save", "old changed", False, True),
        ("ctx", True, None),
        ("pre_delete", "gone", True),
        ("post_delete", "gone", False),
    ]
    # words was set by pre_save on the changed row too, and written with it.
    assert await notes() == [(1, "old changed", 2), (3, "new one", 2)]
    assert await audit() == [
        "pre_save new one",
        "post_save new one",
        "pre_save old changed",
        "post_save old changed",
        "pre_delete gone",
        "post_delete gone",
    ]


async def test_a_failing_hook_in_a_flush_rolls_the_unit_of_work_back(hk: Any) -> None:
    HkNote.fail = "post_save"
    async with chakra.Session() as s:
        s.add(HkNote(id=1, title="a"))
        with pytest.raises(Boom):
            async with s.begin():
                pass
    assert await notes() == [] and await audit() == []


async def test_a_rerun_transaction_reruns_the_hooks_and_keeps_one_attempt(hk: Any) -> None:
    attempts = 0

    async def work(s: chakra.Session) -> None:
        nonlocal attempts
        attempts += 1
        s.add(HkNote(id=1, title=f"attempt {attempts}"))
        await s.flush()
        if attempts == 1:
            raise errors.ConcurrentUpdate("lost a race", model="HkNote")

    async with chakra.Session() as s:
        await s.transaction(work)
    assert attempts == 2
    assert [e[:2] for e in EVENTS if e[0] == "pre_save"] == [
        ("pre_save", "attempt 1"),
        ("pre_save", "attempt 2"),
    ]
    assert await notes() == [(1, "attempt 2", 2)]
    assert await audit() == ["pre_save attempt 2", "post_save attempt 2"]


async def test_async_hooks_are_awaited(hk: Any) -> None:
    n = HkAsyncNote(id=1, title="aio")
    await n.save()
    await HkAsyncNote.objects.create(id=2, title="made")
    async with chakra.Session() as s:
        got = await s.get(HkAsyncNote, 2)
        assert got is not None
        s.delete(got)
        await s.commit()
    assert EVENTS == [
        ("async pre_save", "aio"),
        ("async post_save", "aio", True),
        ("async pre_save", "made"),
        ("async post_save", "made", True),
        ("async pre_delete", "made"),
        ("async post_delete", "made"),
    ]
    assert await audit() == [
        "async pre_save aio",
        "async post_save aio",
        "async pre_save made",
        "async post_save made",
        "async post_delete made",
    ]


async def test_the_sync_twins_call_the_same_hooks(hk: Any) -> None:
    n = HkNote(id=1, title="sync note")
    n.save_sync()
    n.title = "sync"
    n.save_sync(update_fields=["title"])
    HkNote.objects.create_sync(id=2, title="c d")
    n.delete_sync()
    with chakra.SyncSession() as s:
        got = s.get_sync(HkNote, 2)
        assert got is not None
        got.title = "e"
        s.commit_sync()
    assert [e[:2] for e in EVENTS if e[0] != "ctx"] == [
        ("pre_save", "sync note"),
        ("post_save", "sync note"),
        ("pre_save", "sync"),
        ("post_save", "sync"),
        ("pre_save", "c d"),
        ("post_save", "c d"),
        ("pre_delete", "sync"),
        ("post_delete", "sync"),
        ("pre_save", "e"),
        ("post_save", "e"),
    ]
    assert await notes() == [(2, "e", 1)]
    HkNote.fail = "post_save"
    with pytest.raises(Boom):
        HkNote(id=3, title="lost").save_sync()
    assert await notes() == [(2, "e", 1)]


async def test_the_sync_twins_refuse_an_async_hook_before_any_sql(hk: Any) -> None:
    with statements() as seen:
        with pytest.raises(errors.AsyncHookError) as caught:
            HkAsyncNote(id=1, title="x").save_sync()
        assert caught.value.model == "HkAsyncNote" and caught.value.detail == "pre_save"
        assert "HkAsyncNote.pre_save" in str(caught.value)
        with pytest.raises(errors.AsyncHookError):
            HkAsyncNote.objects.create_sync(id=1, title="x")
        with pytest.raises(errors.AsyncHookError):
            HkAsyncNote(id=1, title="x").delete_sync()
    assert seen == []
    with chakra.SyncSession() as s:
        s.add(HkAsyncNote(id=1, title="x"))
        with pytest.raises(errors.AsyncHookError):
            s.commit_sync()
    assert await chakra.fetch("SELECT id FROM hk_async_notes") == []
    assert await audit() == []


async def test_get_or_create_calls_the_save_hooks_when_it_creates(hk: Any) -> None:
    made, created = await HkNote.objects.get_or_create(id=1, defaults={"title": "a b"})
    assert created and made.words == 2
    assert EVENTS == [
        ("pre_save", "a b", False),
        ("post_save", "a b", True, True),
        ("ctx", False, None),
    ]
    # Found: a read, no hook.
    EVENTS.clear()
    found, created = await HkNote.objects.get_or_create(id=1, defaults={"title": "other"})
    assert not created and found.title == "a b" and EVENTS == []
    # A failing post_save rolls the INSERT back with the hooks' audit rows.
    HkNote.fail = "post_save"
    with pytest.raises(Boom):
        await HkNote.objects.get_or_create(id=2, defaults={"title": "lost"})
    assert await notes() == [(1, "a b", 2)]
    assert await audit() == ["pre_save a b", "post_save a b"]
    # The sync twin calls the same hooks.
    HkNote.fail = None
    EVENTS.clear()
    HkNote.objects.get_or_create_sync(id=3, defaults={"title": "sync made"})
    assert [e[:3] for e in EVENTS if e[0] != "ctx"] == [
        ("pre_save", "sync made", False),
        ("post_save", "sync made", True),
    ]
    assert await notes() == [(1, "a b", 2), (3, "sync made", 2)]
    # A key taken by a row the lookups do not match: an INSERT (never an UPDATE of that
    # row), refused; in a surrounding transaction it is undone alone (a savepoint), and the
    # transaction goes on (on PostgreSQL a failed statement would otherwise end it).
    async with chakra.Session() as s:
        async with s.begin():
            with pytest.raises(errors.UniqueViolation):
                await HkNote.objects.get_or_create(title="clash", defaults={"id": 1})
            await HkNote(id=4, title="after").save()
    assert await notes() == [(1, "a b", 2), (3, "sync made", 2), (4, "after", 1)]


async def test_update_or_create_calls_the_save_hooks_in_one_transaction(hk: Any, db: Any) -> None:
    # Created: as create().
    made, created = await HkNote.objects.update_or_create(id=1, defaults={"title": "new"})
    assert created and made.words == 1
    assert EVENTS == [
        ("pre_save", "new", False),
        ("post_save", "new", True, True),
        ("ctx", False, None),
    ]
    # Updated: as save(update_fields=defaults); the row is read with a lock on PostgreSQL.
    EVENTS.clear()
    with statements() as seen:
        got, created = await HkNote.objects.update_or_create(
            id=1, defaults={"title": "three new words"}
        )
    assert not created and got.title == "three new words"
    assert EVENTS == [
        ("pre_save", "three new words", True),
        ("post_save", "three new words", False, True),
        ("ctx", False, ("title",)),
    ]
    reads = [s for s in seen if s.startswith("SELECT") and "hk_notes" in s]
    locks = db.backend in ("postgres", "mysql")  # SQLite locks the whole file instead
    assert reads and ("FOR UPDATE" in reads[0]) == locks, seen
    # Only the defaults are written (pre_save's change to words is not: update_fields).
    assert await notes() == [(1, "three new words", 1)]
    # Empty defaults: nothing written, no hook (Django).
    EVENTS.clear()
    with statements() as seen:
        await HkNote.objects.update_or_create(id=1)
    assert EVENTS == [] and writes_to_notes(seen) == []
    # A failing hook rolls back the write and the hooks' audit rows, on either path.
    HkNote.fail = "post_save"
    with pytest.raises(Boom):
        await HkNote.objects.update_or_create(id=1, defaults={"title": "lost"})
    with pytest.raises(Boom):
        await HkNote.objects.update_or_create(id=2, defaults={"title": "lost too"})
    HkNote.fail = "pre_save"
    with statements() as seen, pytest.raises(Boom):
        await HkNote.objects.update_or_create(id=1, defaults={"title": "never"})
    assert writes_to_notes(seen) == [], seen
    assert await notes() == [(1, "three new words", 1)]
    assert await audit() == [
        "pre_save new",
        "post_save new",
        "pre_save three new words",
        "post_save three new words",
    ]


async def test_or_create_joins_a_surrounding_transaction_and_the_sync_twins_match(
    hk: Any,
) -> None:
    async with chakra.Session() as s:
        with pytest.raises(Boom):
            async with s.begin():
                await HkNote.objects.update_or_create(id=1, defaults={"title": "gone"})
                await HkNote.objects.get_or_create(id=2, defaults={"title": "gone too"})
                raise Boom("caller")
        async with s.begin():
            await s.query(HkNote).update_or_create(id=3, defaults={"title": "kept"})
    assert await notes() == [(3, "kept", 1)]
    assert await audit() == ["pre_save kept", "post_save kept"]
    assert ("ctx", True, None) in EVENTS  # the session's queryset: ctx.session is set
    # The session's object for the row, updated: its flush does not write it again.
    async with chakra.Session() as s:
        async with s.begin():
            got, created = await s.query(HkNote).update_or_create(
                id=3, defaults={"title": "kept-again"}
            )
            assert not created and got is await s.get(HkNote, 3)
    assert await notes() == [(3, "kept-again", 1)]
    assert (await audit())[2:] == ["pre_save kept-again", "post_save kept-again"]
    EVENTS.clear()
    HkNote.objects.update_or_create_sync(id=3, defaults={"title": "kept sync"})
    assert [e[:3] for e in EVENTS if e[0] != "ctx"] == [
        ("pre_save", "kept sync", True),
        ("post_save", "kept sync", False),
    ]
    # An async hook is refused by the sync twins before any SQL.
    with statements() as seen:
        with pytest.raises(errors.AsyncHookError):
            HkAsyncNote.objects.get_or_create_sync(id=1, defaults={"title": "x"})
        with pytest.raises(errors.AsyncHookError):
            HkAsyncNote.objects.update_or_create_sync(id=1, defaults={"title": "x"})
    assert seen == []
    # The async methods await them.
    EVENTS.clear()
    await HkAsyncNote.objects.get_or_create(id=1, defaults={"title": "aio"})
    await HkAsyncNote.objects.update_or_create(id=1, defaults={"title": "aio 2"})
    assert EVENTS == [
        ("async pre_save", "aio"),
        ("async post_save", "aio", True),
        ("async pre_save", "aio 2"),
        ("async post_save", "aio 2", False),
    ]


@pytest.mark.parametrize("in_tx", [False, True])
async def test_get_or_create_losing_a_race_returns_the_winners_row(
    new_db: Any, in_tx: bool
) -> None:
    """PostgreSQL (SQLite serialises writers, so there is no race): the loser's INSERT waits
    for the winner's transaction, then fails with a unique violation; it returns the
    winner's row, its own hooks' writes rolled back: with its own transaction, and in the
    caller's (a savepoint: the transaction goes on)."""
    d = new_db("postgres")
    chakra.configure(d.url)
    await chakra.create_tables(HkAudit, HkNote)
    EVENTS.clear()
    HkNote.fail = None

    async def race() -> tuple[HkNote, bool]:
        if not in_tx:
            return await HkNote.objects.get_or_create(id=1, defaults={"title": "loser"})
        async with chakra.Session() as s:
            async with s.begin():
                got = await HkNote.objects.get_or_create(id=1, defaults={"title": "loser"})
                await HkNote(id=2, title="after").save()  # the transaction goes on
        return got

    try:
        async with chakra.Session() as winner:
            async with winner.begin():
                await chakra.execute(
                    "INSERT INTO hk_notes (id, title, words) VALUES (1, 'winner', 0)"
                )
                # A fresh context: the racer does not join the winner's transaction.
                racer = asyncio.get_running_loop().create_task(
                    race(), context=contextvars.Context()
                )
                for _ in range(500):
                    waiting = await chakra.fetch(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                    )
                    if waiting[0][0] > 0:
                        break
                    await asyncio.sleep(0.01)
                else:
                    pytest.fail("the racer never waited for the winner's lock")
        got, created = await racer
        assert not created and got.title == "winner"
        assert ("pre_save", "loser", False) in EVENTS  # its hook ran; its write did not stay
        if in_tx:
            assert await notes() == [(1, "winner", 0), (2, "after", 1)]
            assert await audit() == ["pre_save after", "post_save after"]
        else:
            assert await notes() == [(1, "winner", 0)]
            assert await audit() == []
    finally:
        chakra.close(d.url)
