"""A session flushes its changed and deleted objects in the order the core decides
(``chakra_dsl::tracked::flush_order``, the one Rust's ``Tx`` uses), not an order kept by hand
in Python: tables in the order they were first written, each table's rows by primary key
(integers by value, text keys by their text). Expected orders are written out by hand."""

from __future__ import annotations

from typing import Any

import chakra
import pytest
from chakra import Field, Integer, Model, String, _chakra, errors
from chakra.hooks import HookContext

SEEN: list[tuple[str, Any]] = []


class FoNum(Model):
    __tablename__ = "fo_nums"
    id = Field(Integer, primary_key=True)
    note = Field(String(20))

    def post_save(self, ctx: HookContext, created: bool) -> None:
        SEEN.append(("num", self.id))

    def post_delete(self, ctx: HookContext) -> None:
        SEEN.append(("num deleted", self.id))


class FoCode(Model):
    __tablename__ = "fo_codes"
    code = Field(String(10), primary_key=True)
    note = Field(String(20))

    def post_save(self, ctx: HookContext, created: bool) -> None:
        SEEN.append(("code", self.code))


def test_the_core_orders_tables_as_first_seen_and_keys_by_value() -> None:
    num, code = FoNum.__chakra__, FoCode.__chakra__
    items = [(code, "b"), (num, 10), (code, "10"), (num, 9), (code, "a"), (num, 10), (code, "9")]
    order = _chakra.flush_order(items)
    # fo_codes first (seen first), keys by text; then fo_nums by value; the two writes
    # of num 10 keep their order (positions 1 then 5).
    assert order == [2, 6, 4, 0, 3, 1, 5]
    with pytest.raises(errors.BadValue) as caught:
        _chakra.flush_order([(num, "not a number")])
    assert caught.value.model == "FoNum" and caught.value.field == "id"


async def test_a_session_flushes_in_the_cores_order(db: Any) -> None:
    await chakra.create_tables(FoNum, FoCode)
    await FoNum.objects.bulk_create([FoNum(id=i, note="x") for i in (10, 9, 100, 2)])
    await FoCode.objects.bulk_create([FoCode(code=c, note="x") for c in ("b", "10", "9")])
    SEEN.clear()
    async with chakra.Session() as s:
        for i in (10, 9, 100):
            o = await s.get(FoNum, i)
            assert o is not None
            o.note = "y"
        for c in ("b", "10", "9"):
            o2 = await s.get(FoCode, c)
            assert o2 is not None
            o2.note = "y"
        two = await s.get(FoNum, 2)
        nine = await s.get(FoNum, 9)
        assert two is not None and nine is not None
        await s.commit()
    assert SEEN == [
        ("num", 9),
        ("num", 10),
        ("num", 100),
        ("code", "10"),
        ("code", "9"),
        ("code", "b"),
    ]
    SEEN.clear()
    async with chakra.Session() as s:
        for i in (100, 2, 10):
            o = await s.get(FoNum, i)
            assert o is not None
            s.delete(o)
        await s.commit()
    assert SEEN == [("num deleted", 2), ("num deleted", 10), ("num deleted", 100)]
